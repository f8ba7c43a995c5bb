/* The key tables' machinery: value checks (names, addresses, URIs, VGs,
 * rootfs) and the walk that applies a mapping through its table. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "connuri.h"
#include "names.h"
#include "spec_int.h"

/* ---- the tables ---- */

bool check_name(struct ctx *c, const char *key, const struct ynode *v)
{
	char lower[SPEC_NAME_MAX + 1], hint[128];
	size_t n = strlen(v->text);

	if (dns_label(v->text))
		return true;
	for (size_t i = 0; i < n && i < SPEC_NAME_MAX; i++)
		lower[i] = (char)((v->text[i] >= 'A' && v->text[i] <= 'Z') ? v->text[i] + 32 :
					v->text[i]);
	lower[n < SPEC_NAME_MAX ? n : SPEC_NAME_MAX] = '\0';
	snprintf(hint, sizeof(hint), "did you mean '%s'?", lower);
	diag(c, v->pos, n <= SPEC_NAME_MAX && dns_label(lower) ? hint : NULL,
	     "'%s' is not a valid %s%sname: use a lower-case DNS label (a-z, 0-9 and '-', "
	     "at most 63, not starting or ending with '-')",
	     show(c, v->text), strcmp(key, "name") ? key : "", strcmp(key, "name") ? " " : "");
	return false;
}

/* A guest's swap volume is NAME-swap in its VG: a guest of that name would
 * share it (and `guest rm` of one would remove the other's disk). */
bool check_guest_name(struct ctx *c, const char *key, const struct ynode *v)
{
	if (!check_name(c, key, v))
		return false;
	if (!names_guest_reserved(v->text))
		return true;
	diag(c, v->pos, NULL,
	     "guest name '%s' ends in '-swap', which names another guest's swap volume; "
	     "choose another name",
	     show(c, v->text));
	return false;
}

/* An image of the store by name: it becomes a path under the store. */
bool check_image(struct ctx *c, const char *key, const struct ynode *v)
{
	if (names_image_valid(v->text))
		return true;
	diag(c, v->pos, "`xlab image list` shows the stored images",
	     "'%s' must be an image's name ([a-z0-9][a-z0-9.-]{0,62}), not '%s'", key,
	     show(c, v->text));
	return false;
}

/* A spec comes from a course repository or a colleague: its URI must not be
 * a way to run a program on the controller. */
bool check_libvirt(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *why;

	if (libvirt_uri_allowed(v->text, &why))
		return true;
	diag(c, v->pos, "use qemu:///system, or pass --connect URI / XLAB_CONNECT for anything else",
	     "%s '%s' is refused: %s", key, show(c, v->text), why);
	return false;
}

/* `server:` names a server of the store (`xlab server list`); whether the
 * store has it is for `up` to say: the spec travels between stores. */
bool check_server(struct ctx *c, const char *key, const struct ynode *v)
{
	if (strcmp(v->text, "local") == 0 || spec_name_valid(v->text))
		return true;
	diag(c, v->pos, "a server's name as `xlab server list` shows it",
	     "%s '%s' is not a server name (a-z, 0-9 and '-', at most 63)", key, show(c, v->text));
	return false;
}

/* Xen's options go into the host's grub.cfg or its domain's <cmdline>:
 * what grub would read as syntax (quotes, `$`, `;`, braces, a new line)
 * never gets there. */
bool check_xen_args(struct ctx *c, const char *key, const struct ynode *v)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789_=,.:+-/@ ";
	size_t bad = strspn(v->text, ok);

	bool split = false;

	/* Xen gives the dom0 what follows a word `--`: the dom0's options are
	 * xlab's (a host booted directly has them after one). */
	for (const char *w = v->text; (w = strstr(w, "--")); w += 2)
		if ((w == v->text || w[-1] == ' ') && (w[2] == ' ' || w[2] == '\0'))
			split = true;
	if (split) {
		diag(c, v->pos, "Xen options are words like `loglvl=all guest_loglvl=all bootscrub=1`",
		     "%s '%s' has a word `--`, after which Xen passes the rest to the dom0 "
		     "kernel: the dom0's options are xlab's", key, show(c, v->text));
		return false;
	}
	if (v->text[bad] == '\0' && strlen(v->text) <= 1024)
		return true;
	diag(c, v->pos, "Xen options are words like `loglvl=all guest_loglvl=all bootscrub=1`",
	     "%s '%s' has a character Xen's options never need (only letters, digits, spaces "
	     "and _=,.:+-/@; at most 1024)",
	     key, show(c, v->text));
	return false;
}

bool check_ip(struct ctx *c, const char *key, const struct ynode *v)
{
	struct in_addr in;

	if (inet_pton(AF_INET, v->text, &in) == 1)
		return true;
	diag(c, v->pos, NULL, "'%s' is not an IPv4 address like 10.80.0.60 (%s)", show(c, v->text),
	     key);
	return false;
}

bool check_vg(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *s = v->text;
	bool ok = *s != '-' && strlen(s) <= 64;

	for (; ok && *s; s++)
		ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		     (*s >= '0' && *s <= '9') || strchr("+_.-", *s);
	if (!ok || !strcmp(v->text, ".") || !strcmp(v->text, ".."))
		diag(c, v->pos, NULL,
		     "'%s' is not a valid %s: an LVM volume group name uses A-Z, a-z, 0-9, "
		     "'+', '_', '.' and '-', not starting with '-'",
		     show(c, v->text), key);
	return ok;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a > b && !strcmp(s + a - b, suffix);
}

bool spec_rootfs_valid(const char *s)
{
	static const char *const names[] = { "busybox", "debian", "debian-bookworm",
					     "debian-trixie" };
	static const char *const tarballs[] = { ".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(tarballs); i++)
		if (ends_with(s, tarballs[i]))
			return true;
	return false;
}

bool check_rootfs(struct ctx *c, const char *key, const struct ynode *v)
{
	if (spec_rootfs_valid(v->text))
		return true;
	diag(c, v->pos, NULL, "'%s' must be " SPEC_ROOTFS_KINDS ", not '%s'", key,
	     show(c, v->text));
	return false;
}

static void apply(struct ctx *c, const struct field *f, const struct ynode *k,
		  const struct ynode *v, char *base)
{
	if (f->pos_off >= 0)
		*(struct spec_pos *)(base + f->pos_off) = is_null(v) ? k->pos : v->pos;
	if (is_null(v)) {
		diag(c, k->pos, NULL, "'%s' has no value", f->key);
		return;
	}
	switch (f->type) {
	case F_STR: {
		char **dst = (char **)(base + f->off);

		if (!want_scalar(c, f->key, v, "a string") || (f->check && !f->check(c, f->key, v)))
			return;
		free(*dst);
		*dst = xstrdup(v->text);
		return;
	}
	case F_INT:
		read_int(c, f->key, v, f->min, f->max, (int *)(base + f->off));
		return;
	case F_SIZE:
		read_size(c, f->key, v, (uint64_t *)(base + f->off));
		return;
	case F_STRV: {
		char ***dst = (char ***)(base + f->off);
		size_t n = 0;

		if (v->bad)
			return;
		if (v->kind != Y_SEQ || v->n == 0) {
			diag(c, v->pos, "write it like [\"ping\", \"-c\", \"1\", \"h2\"]",
			     "'%s' must be a non-empty sequence of strings, not %s", f->key,
			     v->kind == Y_SEQ ? "an empty one" : kind_name(v));
			return;
		}
		strv_free(*dst);
		*dst = xcalloc(v->n + 1, sizeof(char *));
		for (size_t i = 0; i < v->n; i++) {
			const struct ynode *item = v->kids[i];

			if (item->bad)
				continue;
			if (item->kind != Y_SCALAR || is_null(item))
				diag(c, item->pos, NULL, "each item of '%s' must be a string, not %s",
				     f->key, kind_name(item));
			else
				(*dst)[n++] = xstrdup(item->text);
		}
		return;
	}
	case F_FN:
		f->fn(c, k, v, base);
		return;
	}
}

static int key_cmp(const void *a, const void *b)
{
	const struct ynode *x = *(struct ynode *const *)a, *y = *(struct ynode *const *)b;
	int r = strcmp(x->text, y->text);

	if (r)
		return r;
	return x->pos.line != y->pos.line ? x->pos.line - y->pos.line : x->pos.col - y->pos.col;
}

/* Reports every repeated key of a mapping at its later occurrence. Sorting
 * keeps this n log n for a mapping of thousands of keys. */
void check_dups(struct ctx *c, const struct ynode *m)
{
	struct ynode **keys = xcalloc(m->n / 2 + 1, sizeof(*keys));
	size_t nk = 0;

	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kids[i]->kind == Y_SCALAR && !m->kids[i]->bad)
			keys[nk++] = m->kids[i];
	qsort(keys, nk, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < nk; i++)
		if (!strcmp(keys[i]->text, keys[i - 1]->text)) {
			size_t first = i - 1;

			while (first > 0 && !strcmp(keys[first - 1]->text, keys[i]->text))
				first--;
			diag(c, keys[i]->pos, NULL, "duplicate key '%s' (first at line %d)",
			     show(c, keys[i]->text), keys[first]->pos.line);
		}
	free(keys);
}

bool want_map(struct ctx *c, const struct ynode *m, const char *what)
{
	if (m->bad)
		return false;
	if (m->kind != Y_MAP) {
		diag(c, m->pos, NULL, "%s must be a mapping of keys, not %s", what, kind_name(m));
		return false;
	}
	return true;
}

static void unknown_key(struct ctx *c, const struct ynode *k, const char *what,
			const struct field *t, size_t nt)
{
	const char *cands[32];
	char hint[128];
	size_t n = 0;

	for (size_t i = 0; i < nt && n < ARRAY_SIZE(cands); i++)
		cands[n++] = t[i].key;
	diag(c, k->pos, suggest(hint, k->text, cands, n), "unknown key '%s' in %s",
	     show(c, k->text), what);
}

/* Reads a mapping through its table: unknown and repeated keys reported,
 * known ones applied in table order (so blocks that depend on others, like
 * hosts on defaults, come later in the table), required ones checked. */
void walk_map(struct ctx *c, const struct ynode *m, const char *what,
	      const struct field *t, size_t nt, void *base, bool defaults)
{
	const struct ynode *keys[32] = { 0 }, *vals[32] = { 0 };

	if (nt > ARRAY_SIZE(keys))
		abort();
	if (!want_map(c, m, what))
		return;
	check_dups(c, m);
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kids[i];
		size_t j;

		if (k->bad)
			continue;
		if (k->kind != Y_SCALAR) {
			diag(c, k->pos, NULL, "keys in %s must be strings, not %s", what,
			     kind_name(k));
			continue;
		}
		for (j = 0; j < nt && strcmp(t[j].key, k->text); j++)
			;
		if (j == nt) {
			unknown_key(c, k, what, t, nt);
		} else if (defaults && (t[j].flags & NO_DEFAULT)) {
			diag(c, k->pos, NULL, "'%s' has no default: set it on each entry",
			     t[j].key);
		} else if (!keys[j]) {
			keys[j] = k;
			vals[j] = m->kids[i + 1];
		}
	}
	for (size_t j = 0; j < nt; j++) {
		if (keys[j])
			apply(c, &t[j], keys[j], vals[j], base);
		else if ((t[j].flags & REQUIRED) && !defaults)
			diag(c, m->pos, NULL, "%s is missing the required key '%s'", what,
			     t[j].key);
	}
}

