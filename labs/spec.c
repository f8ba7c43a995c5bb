/* The lab spec: YAML bytes -> a tree of our own nodes (so aliases, depth and
 * scalar size are policed while parsing) -> struct spec through one table of
 * keys per block -> cross checks (names, addresses, capacity). Every problem
 * becomes a diag and parsing goes on, so one run reports them all. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "names.h"
#include "connuri.h"
#include "sha256.h"
#include "spec.h"
#include "subnet.h"
#include "util.h"

#define MAX_DEPTH 16      /* containers deep; the reference spec needs 5 */
#define MAX_SCALAR 4096   /* bytes in one value */
#define MAX_HOSTS 64
#define MAX_GUESTS 256
#define MAX_TESTS 256
#define MAX_EXPERIMENTS 64
#define MAX_ROUNDS 1000
#define PING_MS_MIN 5     /* faster is a flood, not a probe */
#define PING_MS_MAX 1000
#define MAX_DISKS 16      /* extra disks per host */
#define MAX_VCPUS 64
#define MAX_DIAGS 200     /* past this, a spec is junk: stop listing */
#define LVM_META (4ull << 20)   /* PV metadata area, and the extent size */
#define LVM_EXTENT (4ull << 20)

/* ---- the YAML tree ---- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind kind;
	struct spec_pos pos;
	char *text; /* scalars: NUL-terminated, no NUL inside */
	bool plain; /* plain and untagged: null and numbers are read from it */
	bool bad;   /* already reported while parsing: validators stay quiet */
	struct ynode **kids; /* sequence items, or mapping key, value, key, value... */
	size_t n, cap;
};

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

/* ---- context and diagnostics ---- */

struct ctx {
	struct spec *s;
	struct spec_diags *d;
	struct spec_host host_tpl; /* built-ins, then defaults.host */
	struct spec_guest guest_tpl;
	const char *data;
	size_t len;
	char show[4][96]; /* ring of quoted user text for messages */
	unsigned show_i;
};

static void diag_add(struct spec_diags *d, struct spec_pos pos, const char *hint, char *msg)
{
	if (d->n == MAX_DIAGS) {
		free(msg);
		msg = xasprintf("too many errors; stopped listing after %d", MAX_DIAGS);
		hint = NULL;
	} else if (d->n > MAX_DIAGS) {
		free(msg);
		return;
	}
	xgrow((void **)&d->v, &d->cap, d->n, sizeof(*d->v));
	d->v[d->n].pos = pos;
	d->v[d->n].msg = msg;
	d->v[d->n].hint = hint ? xstrdup(hint) : NULL;
	d->n++;
}

static void diag(struct ctx *c, struct spec_pos pos, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diag(struct ctx *c, struct spec_pos pos, const char *hint, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	diag_add(c->d, pos, hint, msg);
}

/* User text in a message: cut short, control bytes masked, so a hostile
 * spec cannot forge lines in the output. */
static const char *show(struct ctx *c, const char *s)
{
	char *out = c->show[c->show_i++ % ARRAY_SIZE(c->show)];
	size_t i = 0, max = sizeof(c->show[0]) - 4;

	for (; *s && i < max; s++)
		out[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	if (*s)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
	return out;
}

static const char *fmt_size(char buf[32], uint64_t v)
{
	size_format(v, buf, 32);
	return buf;
}

/* ---- did you mean ---- */

/* Writes "did you mean 'x'?" into hint when some candidate is close. */
static const char *suggest(char hint[128], const char *word, const char *const *cands, size_t n)
{
	const char *pick = word_nearest(word, cands, n);

	if (!pick)
		return NULL;
	snprintf(hint, 128, "did you mean '%s'?", pick);
	return hint;
}

/* ---- YAML -> tree ---- */

static struct spec_pos mark_pos(yaml_mark_t m)
{
	return (struct spec_pos){ (int)m.line + 1, (int)m.column + 1 };
}

static struct spec_pos offset_pos(const char *data, size_t len, size_t off)
{
	struct spec_pos p = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n')
			p.line++, p.col = 1;
		else if (((unsigned char)data[i] & 0xc0) != 0x80)
			p.col++;
	}
	return p;
}

/* The byte at a libyaml line/column (columns count characters). */
static int byte_at(const char *data, size_t len, yaml_mark_t m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < len && line < m.line)
		if (data[i++] == '\n')
			line++;
	for (; i < len && data[i] != '\n'; i++) {
		if (((unsigned char)data[i] & 0xc0) == 0x80)
			continue;
		if (col++ == m.column)
			return (unsigned char)data[i];
	}
	return -1;
}

static bool line_has_tab_indent(const char *data, size_t len, yaml_mark_t m)
{
	size_t i = 0, line = 0;

	while (i < len && line < m.line)
		if (data[i++] == '\n')
			line++;
	for (; i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		if (data[i] == '\t')
			return true;
	return false;
}

static void syntax_diag(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	const char *hint = NULL;

	if (p->error == YAML_READER_ERROR) {
		diag(c, offset_pos(c->data, c->len, p->problem_offset),
		     "a spec is UTF-8 YAML text", "not a text file: %s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		diag(c, (struct spec_pos){ 1, 1 }, NULL, "out of memory while parsing");
		return;
	}
	if (byte_at(c->data, c->len, p->problem_mark) == '\t' ||
	    line_has_tab_indent(c->data, c->len, p->problem_mark) ||
	    (p->context && line_has_tab_indent(c->data, c->len, p->context_mark)))
		hint = "indent with spaces: YAML does not allow tabs";
	if (p->context)
		diag(c, mark_pos(p->problem_mark), hint, "YAML syntax error: %s (%s at line %d)",
		     problem, p->context, (int)p->context_mark.line + 1);
	else
		diag(c, mark_pos(p->problem_mark), hint, "YAML syntax error: %s", problem);
}

static const char *tag_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.tag;
	default:
		return NULL;
	}
}

static struct ynode *node_new(struct ctx *c, const yaml_event_t *ev, enum ykind kind)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	const char *tag = tag_of(ev);

	n->kind = kind;
	n->pos = mark_pos(ev->start_mark);
	if (kind != Y_SCALAR) {
		if (tag && strcmp(tag, kind == Y_SEQ ? YAML_SEQ_TAG : YAML_MAP_TAG)) {
			diag(c, n->pos, NULL, "YAML tag '%s' is not used in specs", show(c, tag));
			n->bad = true;
		}
		return n;
	}
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag;
	if (ev->data.scalar.length > MAX_SCALAR) {
		diag(c, n->pos, NULL, "value is %zu bytes long; at most %d are allowed",
		     ev->data.scalar.length, MAX_SCALAR);
		n->bad = true;
	} else if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
		diag(c, n->pos, NULL, "value contains a NUL character");
		n->bad = true;
	} else if (tag && strcmp(tag, YAML_STR_TAG)) {
		diag(c, n->pos, "write the value without a tag, quoted if it must be a string",
		     "YAML tag '%s' is not used in specs", show(c, tag));
		n->bad = true;
	}
	n->text = xstrdup(n->bad ? "" : (const char *)ev->data.scalar.value);
	return n;
}

static void node_attach(struct ynode **root, struct ynode **stack, size_t depth, struct ynode *n)
{
	struct ynode *parent;

	if (depth == 0) {
		*root = n;
		return;
	}
	parent = stack[depth - 1];
	xgrow((void **)&parent->kids, &parent->cap, parent->n, sizeof(*parent->kids));
	parent->kids[parent->n++] = n;
}

/* Returns 0 with *root (NULL for an empty stream) or -1 after a diag. */
static int parse_tree(struct ctx *c, struct ynode **rootp)
{
	struct ynode *stack[MAX_DEPTH], *root = NULL, *n;
	size_t depth = 0;
	int docs = 0, rc = -1;
	yaml_parser_t p;
	yaml_event_t ev;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)c->data, c->len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_diag(c, &p);
			goto out;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (docs++) {
				diag(c, mark_pos(ev.start_mark), "remove the second '---'",
				     "a spec is one YAML document; found another one here");
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SCALAR_EVENT:
			node_attach(&root, stack, depth, node_new(c, &ev, Y_SCALAR));
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == MAX_DEPTH) {
				diag(c, mark_pos(ev.start_mark), NULL,
				     "nested deeper than %d levels", MAX_DEPTH);
				yaml_event_delete(&ev);
				goto out;
			}
			n = node_new(c, &ev, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP);
			node_attach(&root, stack, depth, n);
			stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			/* Expanding aliases is how a small file becomes a huge tree. */
			diag(c, mark_pos(ev.start_mark), "write the value out in full",
			     "YAML aliases (*%s) are not allowed in a spec",
			     show(c, (const char *)ev.data.alias.anchor));
			n = xcalloc(1, sizeof(*n));
			n->kind = Y_SCALAR;
			n->text = xstrdup("");
			n->bad = true;
			n->pos = mark_pos(ev.start_mark);
			node_attach(&root, stack, depth, n);
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			rc = 0;
			goto out;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
out:
	yaml_parser_delete(&p);
	if (rc < 0) {
		ynode_free(root);
		root = NULL;
	}
	*rootp = root;
	return rc;
}

/* ---- value readers ---- */

static bool is_null(const struct ynode *v)
{
	return v->kind == Y_SCALAR && v->plain &&
	       (!*v->text || !strcmp(v->text, "~") || !strcmp(v->text, "null") ||
		!strcmp(v->text, "Null") || !strcmp(v->text, "NULL"));
}

static const char *kind_name(const struct ynode *v)
{
	if (v->kind == Y_MAP)
		return "a mapping";
	if (v->kind == Y_SEQ)
		return "a sequence";
	return is_null(v) ? "nothing" : "a scalar";
}

/* A non-empty scalar, else a diag naming what was there instead. */
static bool want_scalar(struct ctx *c, const char *key, const struct ynode *v, const char *what)
{
	if (v->bad)
		return false;
	if (v->kind != Y_SCALAR || is_null(v)) {
		diag(c, v->pos, NULL, "'%s' must be %s, not %s", key, what, kind_name(v));
		return false;
	}
	if (!*v->text) {
		diag(c, v->pos, NULL, "'%s' must not be empty", key);
		return false;
	}
	return true;
}

static bool is_int_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool read_int(struct ctx *c, const char *key, const struct ynode *v, int min, int max,
		     int *out)
{
	long long x;
	char *end;

	if (!want_scalar(c, key, v, "an integer"))
		return false;
	if (!v->plain || !is_int_text(v->text)) {
		diag(c, v->pos, v->plain ? NULL : "remove the quotes",
		     "'%s' must be an integer, not '%s'", key, show(c, v->text));
		return false;
	}
	errno = 0;
	x = strtoll(v->text, &end, 10);
	if (errno || x < min || x > max) {
		diag(c, v->pos, NULL, "'%s' must be between %d and %d, not %s", key, min, max,
		     show(c, v->text));
		return false;
	}
	*out = (int)x;
	return true;
}

uint64_t spec_size_max(const char *key)
{
	return !strcmp(key, "memory") || !strcmp(key, "dom0_mem") ? SPEC_MEM_MAX : SPEC_DISK_MAX;
}

static bool read_size(struct ctx *c, const char *key, const struct ynode *v, uint64_t *out)
{
	struct xerr e = { 0 };
	uint64_t x, max = spec_size_max(key);
	char b[32];

	if (!want_scalar(c, key, v, "a size like 512M or 8G"))
		return false;
	if (size_parse(v->text, &x, &e) < 0) {
		diag(c, v->pos, NULL, "'%s': %s", key, show(c, e.msg));
		return false;
	}
	if (x > max) {
		diag(c, v->pos, NULL, "'%s': %s is more than %s can hold (at most %s)", key,
		     show(c, v->text), max == SPEC_MEM_MAX ? "Xen" : "an LVM volume",
		     fmt_size(b, max));
		return false;
	}
	*out = x;
	return true;
}

/* Lower-case DNS label: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])? */
static bool dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SPEC_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* ---- the tables ---- */

enum ftype {
	F_STR,  /* char *, with an optional check */
	F_INT,  /* int in [min, max] */
	F_SIZE, /* uint64_t bytes */
	F_STRV, /* NULL-terminated char **, non-empty sequence of scalars */
	F_FN,   /* anything else: a block or a value with its own reader */
};

enum {
	REQUIRED = 1u << 0,
	NO_DEFAULT = 1u << 1, /* per host/guest only: refused under defaults: */
};

struct field;
typedef void (*field_fn)(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base);
typedef bool (*str_check)(struct ctx *c, const char *key, const struct ynode *v);

struct field {
	const char *key;
	enum ftype type;
	size_t off;     /* of the value in the block's struct */
	int pos_off;    /* of its struct spec_pos, or -1 */
	unsigned flags;
	int min, max;   /* F_INT */
	str_check check; /* F_STR */
	field_fn fn;    /* F_FN */
};

#define AT(T, m) offsetof(T, m)
#define POS(T, m) ((int)offsetof(T, m))
#define NOPOS -1

static bool check_name(struct ctx *c, const char *key, const struct ynode *v)
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
static bool check_guest_name(struct ctx *c, const char *key, const struct ynode *v)
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

/* A spec comes from a course repository or a colleague: its URI must not be
 * a way to run a program on the controller. */
static bool check_libvirt(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *why;

	if (libvirt_uri_allowed(v->text, &why))
		return true;
	diag(c, v->pos, "use qemu:///system, or pass --connect URI / XLAB_CONNECT for anything else",
	     "%s '%s' is refused: %s", key, show(c, v->text), why);
	return false;
}

static bool check_ip(struct ctx *c, const char *key, const struct ynode *v)
{
	struct in_addr in;

	if (inet_pton(AF_INET, v->text, &in) == 1)
		return true;
	diag(c, v->pos, NULL, "'%s' is not an IPv4 address like 10.80.0.60 (%s)", show(c, v->text),
	     key);
	return false;
}

static bool check_vg(struct ctx *c, const char *key, const struct ynode *v)
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

static bool check_rootfs(struct ctx *c, const char *key, const struct ynode *v)
{
	if (spec_rootfs_valid(v->text))
		return true;
	diag(c, v->pos, NULL, "'%s' must be " SPEC_ROOTFS_KINDS ", not '%s'", key,
	     show(c, v->text));
	return false;
}

static void walk_map(struct ctx *c, const struct ynode *m, const char *what,
		     const struct field *t, size_t nt, void *base, bool defaults);

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
static void check_dups(struct ctx *c, const struct ynode *m)
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

static bool want_map(struct ctx *c, const struct ynode *m, const char *what)
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
static void walk_map(struct ctx *c, const struct ynode *m, const char *what,
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

/* ---- blocks ---- */

static void read_disks(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec_host *h = base;

	(void)k;
	h->disks_pos = v->pos;
	if (v->bad)
		return;
	if (v->kind != Y_SEQ) {
		diag(c, v->pos, "write it like [4G, 8G]", "'disks' must be a sequence of sizes, not %s",
		     kind_name(v));
		return;
	}
	if (v->n > MAX_DISKS) {
		diag(c, v->pos, NULL, "%zu extra disks; at most %d are allowed", v->n, MAX_DISKS);
		return;
	}
	free(h->disks);
	h->disks = xcalloc(v->n + 1, sizeof(*h->disks));
	h->n_disks = 0;
	for (size_t i = 0; i < v->n; i++)
		if (read_size(c, "disks", v->kids[i], &h->disks[h->n_disks]))
			h->n_disks++;
}

static const struct field host_fields[] = {
	{ "name", F_STR, AT(struct spec_host, name), POS(struct spec_host, pos),
	  REQUIRED | NO_DEFAULT, .check = check_name },
	{ "memory", F_SIZE, AT(struct spec_host, memory), POS(struct spec_host, memory_pos) },
	{ "vcpus", F_INT, AT(struct spec_host, vcpus), POS(struct spec_host, vcpus_pos), 0, 1,
	  MAX_VCPUS },
	{ "dom0_mem", F_SIZE, AT(struct spec_host, dom0_mem), POS(struct spec_host, dom0_mem_pos) },
	{ "data_disk", F_SIZE, AT(struct spec_host, data_disk), NOPOS },
	{ "disks", F_FN, 0, NOPOS, NO_DEFAULT, .fn = read_disks },
	{ "ip", F_STR, AT(struct spec_host, ip), POS(struct spec_host, ip_pos), NO_DEFAULT,
	  .check = check_ip },
};

/* xl.cfg keys the plan writes itself from the guest's own keys. */
static const struct {
	const char *key, *hint;
} xl_owned[] = {
	{ "name", "the guest's 'name' is used" },
	{ "memory", "use the guest's 'memory' key" },
	{ "vcpus", "use the guest's 'vcpus' key" },
	{ "kernel", "xlab boots its own PV kernel" },
	{ "ramdisk", "xlab boots its own PV kernel" },
	{ "disk", "use the guest's 'disk' key" },
	{ "vif", "xlab wires the guest to the lab network; use 'ip' for its address" },
	{ "extra", "xlab sets the kernel command line" },
	{ "root", "xlab sets the root device" },
	{ "vfb", "use the guest's 'vnc: true'" },
	{ "type", "xlab guests are PV guests (type = \"pv\" is written for them)" },
};

/* xl.cfg keys no xlab guest may have, whichever way they come (spec 'xl:',
 * `guest create xl.KEY=`, --from-xl): devices of the host (passthrough),
 * another boot path (bootloader, builder, cmdline) and device models
 * (programs dom0 would run). A trailing '*' matches a prefix. */
static const char *const xl_refused[] = {
	"pci*", "rdm*", "dtdev", "iomem", "ioports", "irqs", "usb*", "vnc*", "sdl*", "spice*",
	"vkb", "vtpm", "vdispl", "vsnd", "p9", "pvcalls", "channel", "connectors",
	"bootloader*", "builder", "cmdline", "device_model*", "stubdomain*", "device_tree",
	"vif2", "nics",
};

const char *spec_xl_key_refused(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(xl_refused); i++) {
		size_t n = strcspn(xl_refused[i], "*");

		if (xl_refused[i][n] ? !strncmp(key, xl_refused[i], n) : !strcmp(key, xl_refused[i]))
			return "xlab guests have no passthrough devices, other boot paths or "
			       "device models";
	}
	return NULL;
}

static bool xl_key_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* A scalar as xl.cfg text: a plain integer stays a number, anything else is
 * a double-quoted string with the escapes libxlu understands. */
int spec_xl_scalar(struct buf *b, const char *text, bool number_ok)
{
	if (number_ok && is_int_text(text) && strlen(text) < 19) {
		buf_puts(b, text);
		return 0;
	}
	buf_puts(b, "\"");
	for (const char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else if (ch == '\t')
			buf_puts(b, "\\t");
		else if (ch == '\r')
			buf_puts(b, "\\r");
		else if (ch < 0x20 || ch == 0x7f)
			return ch;
		else
			buf_append(b, p, 1);
	}
	buf_puts(b, "\"");
	return 0;
}

static bool xl_render_scalar(struct ctx *c, const char *key, const struct ynode *v,
			     struct buf *b)
{
	int bad;

	if (!want_scalar(c, key, v, "a string, a number or a list"))
		return false;
	bad = spec_xl_scalar(b, v->text, v->plain);
	if (bad) {
		diag(c, v->pos, NULL, "xl key '%s' holds a control character (0x%02x)",
		     show(c, key), bad);
		return false;
	}
	return true;
}

static bool xl_render(struct ctx *c, const char *key, const struct ynode *v, struct buf *b)
{
	if (v->bad)
		return false;
	if (v->kind == Y_MAP) {
		diag(c, v->pos, NULL, "xl key '%s' must be a string, a number or a list, not a mapping",
		     show(c, key));
		return false;
	}
	if (v->kind == Y_SCALAR)
		return xl_render_scalar(c, key, v, b);
	buf_puts(b, "[ ");
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			buf_puts(b, ", ");
		if (v->kids[i]->kind != Y_SCALAR) {
			diag(c, v->kids[i]->pos, NULL, "xl key '%s': a list holds strings, not %s",
			     show(c, key), kind_name(v->kids[i]));
			return false;
		}
		if (!want_scalar(c, key, v->kids[i], "a list of strings"))
			return false;
		v->kids[i]->plain = false; /* xl lists hold strings */
		if (!xl_render_scalar(c, key, v->kids[i], b))
			return false;
	}
	buf_puts(b, v->n ? " ]" : "]");
	return true;
}

static bool xl_check_key(struct ctx *c, const struct ynode *k)
{
	if (k->bad)
		return false;
	if (k->kind != Y_SCALAR || !xl_key_ok(k->text)) {
		diag(c, k->pos, NULL, "'%s' is not an xl.cfg key (a-z, 0-9 and '_')",
		     k->kind == Y_SCALAR ? show(c, k->text) : kind_name(k));
		return false;
	}
	for (size_t j = 0; j < ARRAY_SIZE(xl_owned); j++)
		if (!strcmp(k->text, xl_owned[j].key)) {
			diag(c, k->pos, xl_owned[j].hint,
			     "xl key '%s' is set by xlab and cannot be given in 'xl:'", k->text);
			return false;
		}
	if (spec_xl_key_refused(k->text)) {
		diag(c, k->pos, spec_xl_key_refused(k->text),
		     "xl key '%s' is not supported by xlab guests", k->text);
		return false;
	}
	return true;
}

static void read_xl(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec_guest *g = base;

	(void)k;
	if (!want_map(c, v, "'xl'"))
		return;
	check_dups(c, v);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *xk = v->kids[i];
		struct buf b = { 0 };
		bool dup = false;

		if (!xl_check_key(c, xk))
			continue;
		for (size_t j = 0; j < g->n_xl && !dup; j++)
			dup = !strcmp(g->xl[j].key, xk->text);
		if (dup || !xl_render(c, xk->text, v->kids[i + 1], &b)) {
			buf_free(&b);
			continue;
		}
		g->xl = xrealloc(g->xl, (g->n_xl + 1) * sizeof(*g->xl));
		g->xl[g->n_xl++] = (struct spec_kv){ xstrdup(xk->text), buf_steal(&b), xk->pos };
	}
}

/* `storage: shared` puts the guest's LV on the shared VG (so it can
 * migrate); `local`, the default, on its host's own VG. */
static void read_guest_storage(struct ctx *c, const struct ynode *k, const struct ynode *v,
			       void *base)
{
	struct spec_guest *g = base;

	(void)k;
	g->storage_pos = v->pos;
	if (!want_scalar(c, "storage", v, "'shared' or 'local'"))
		return;
	if (strcmp(v->text, "shared") && strcmp(v->text, "local")) {
		diag(c, v->pos, NULL, "a guest's 'storage' must be 'shared' or 'local', not '%s'",
		     show(c, v->text));
		return;
	}
	g->shared = !strcmp(v->text, "shared");
}

static void read_bool(struct ctx *c, const char *key, const struct ynode *v, bool *out);

static void read_guest_vnc(struct ctx *c, const struct ynode *k, const struct ynode *v,
			   void *base)
{
	struct spec_guest *g = base;

	(void)k;
	g->vnc_pos = v->pos;
	read_bool(c, "vnc", v, &g->vnc);
}

static const struct field guest_fields[] = {
	{ "name", F_STR, AT(struct spec_guest, name), POS(struct spec_guest, pos),
	  REQUIRED | NO_DEFAULT, .check = check_guest_name },
	{ "host", F_STR, AT(struct spec_guest, host), POS(struct spec_guest, host_pos),
	  REQUIRED | NO_DEFAULT },
	{ "memory", F_SIZE, AT(struct spec_guest, memory), POS(struct spec_guest, memory_pos) },
	{ "vcpus", F_INT, AT(struct spec_guest, vcpus), POS(struct spec_guest, vcpus_pos), 0, 1,
	  MAX_VCPUS },
	{ "disk", F_SIZE, AT(struct spec_guest, disk), POS(struct spec_guest, disk_pos) },
	{ "rootfs", F_STR, AT(struct spec_guest, rootfs), POS(struct spec_guest, rootfs_pos),
	  .check = check_rootfs },
	{ "ip", F_STR, AT(struct spec_guest, ip), POS(struct spec_guest, ip_pos), NO_DEFAULT,
	  .check = check_ip },
	{ "xl", F_FN, 0, NOPOS, NO_DEFAULT, .fn = read_xl },
	{ "storage", F_FN, 0, NOPOS, .fn = read_guest_storage },
	{ "swap", F_SIZE, AT(struct spec_guest, swap), POS(struct spec_guest, swap_pos) },
	{ "vnc", F_FN, 0, NOPOS, .fn = read_guest_vnc },
};

static const struct field test_fields[] = {
	{ "name", F_STR, AT(struct spec_test, name), POS(struct spec_test, pos), REQUIRED,
	  .check = check_name },
	{ "host", F_STR, AT(struct spec_test, host), POS(struct spec_test, host_pos) },
	{ "guest", F_STR, AT(struct spec_test, guest), POS(struct spec_test, guest_pos) },
	{ "run", F_STRV, AT(struct spec_test, run), POS(struct spec_test, run_pos) },
	{ "expect_console", F_STR, AT(struct spec_test, expect_console),
	  POS(struct spec_test, expect_pos) },
	{ "timeout_s", F_INT, AT(struct spec_test, timeout_s), NOPOS, 0, 1, 86400 },
};

static void defaults_host(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k, (void)base;
	walk_map(c, v, "defaults.host", host_fields, ARRAY_SIZE(host_fields), &c->host_tpl, true);
}

static void defaults_guest(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k, (void)base;
	walk_map(c, v, "defaults.guest", guest_fields, ARRAY_SIZE(guest_fields), &c->guest_tpl,
		 true);
}

static const struct field defaults_fields[] = {
	{ "host", F_FN, 0, NOPOS, .fn = defaults_host },
	{ "guest", F_FN, 0, NOPOS, .fn = defaults_guest },
};

/* Inherited values carry no position: errors about them point at the
 * entry's name instead of at the defaults block. */
static void host_init(struct ctx *c, struct spec_host *h)
{
	*h = (struct spec_host){ .memory = c->host_tpl.memory,
				 .dom0_mem = c->host_tpl.dom0_mem,
				 .data_disk = c->host_tpl.data_disk,
				 .vcpus = c->host_tpl.vcpus };
}

static void guest_init(struct ctx *c, struct spec_guest *g)
{
	*g = (struct spec_guest){ .memory = c->guest_tpl.memory,
				  .disk = c->guest_tpl.disk,
				  .vcpus = c->guest_tpl.vcpus,
				  .rootfs = xstrdup(c->guest_tpl.rootfs),
				  .shared = c->guest_tpl.shared,
				  .swap = c->guest_tpl.swap,
				  .vnc = c->guest_tpl.vnc };
}

/* A list block: a sequence of mappings, each read through `t`. */
static bool want_list(struct ctx *c, const struct ynode *k, const struct ynode *v, size_t max)
{
	if (v->bad)
		return false;
	if (v->kind != Y_SEQ) {
		diag(c, is_null(v) ? k->pos : v->pos, "write one '- name: ...' entry per line",
		     "'%s' must be a sequence, not %s", k->text, kind_name(v));
		return false;
	}
	if (v->n > max) {
		diag(c, v->pos, NULL, "%zu %s; at most %zu are allowed", v->n, k->text, max);
		return false;
	}
	return true;
}

static bool want_entry(struct ctx *c, const struct ynode *item, const char *what)
{
	if (item->bad)
		return false;
	if (item->kind == Y_MAP)
		return true;
	if (item->kind == Y_SCALAR && !is_null(item)) {
		char hint[128];

		snprintf(hint, sizeof(hint), "write '- name: %s'", show(c, item->text));
		diag(c, item->pos, hint, "each entry of '%s' is a mapping with 'name', not a scalar",
		     what);
	} else {
		diag(c, item->pos, NULL, "each entry of '%s' is a mapping with 'name', not %s", what,
		     kind_name(item));
	}
	return false;
}

static void read_hosts(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_HOSTS))
		return;
	if (v->n == 0)
		diag(c, v->pos, NULL, "'hosts' must list at least one host");
	s->hosts = xcalloc(v->n + 1, sizeof(*s->hosts));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_host *h = &s->hosts[s->n_hosts];

		if (!want_entry(c, v->kids[i], "hosts"))
			continue;
		host_init(c, h);
		h->pos = v->kids[i]->pos;
		s->n_hosts++;
		walk_map(c, v->kids[i], "a host", host_fields, ARRAY_SIZE(host_fields), h, false);
	}
}

static void read_guests(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_GUESTS))
		return;
	s->guests = xcalloc(v->n + 1, sizeof(*s->guests));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_guest *g = &s->guests[s->n_guests];

		if (!want_entry(c, v->kids[i], "guests"))
			continue;
		guest_init(c, g);
		g->pos = v->kids[i]->pos;
		s->n_guests++;
		walk_map(c, v->kids[i], "a guest", guest_fields, ARRAY_SIZE(guest_fields), g,
			 false);
	}
}

static void read_tests(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_TESTS))
		return;
	s->tests = xcalloc(v->n + 1, sizeof(*s->tests));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_test *t = &s->tests[s->n_tests];

		if (!want_entry(c, v->kids[i], "tests"))
			continue;
		*t = (struct spec_test){ .timeout_s = 120, .pos = v->kids[i]->pos };
		s->n_tests++;
		walk_map(c, v->kids[i], "a test", test_fields, ARRAY_SIZE(test_fields), t, false);
	}
}

static void read_subnet(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;
	struct xerr e = { 0 };
	struct cidr cidr;

	s->subnet_pos = is_null(v) ? k->pos : v->pos;
	if (!want_scalar(c, "subnet", v, "an IPv4 CIDR like 10.80.0.0/24"))
		return;
	if (cidr_parse(v->text, &cidr, &e) < 0) {
		diag(c, v->pos, NULL, "subnet: %s", show(c, e.msg));
		return;
	}
	if (cidr.prefix < 16 || cidr.prefix > 29) {
		diag(c, v->pos, NULL, "subnet '%s': the prefix must be between /16 and /29",
		     show(c, v->text));
		return;
	}
	if (cidr_reserved(&cidr)) {
		diag(c, v->pos, "use a private range such as 10.80.0.0/24 or 192.168.80.0/24",
		     "subnet '%s' overlaps %s, which cannot be a lab network", show(c, v->text),
		     cidr_reserved(&cidr));
		return;
	}
	s->subnet = xstrdup(v->text);
	s->net_addr = cidr.addr;
	s->net_prefix = cidr.prefix;
}

static const struct field network_fields[] = {
	{ "subnet", F_FN, 0, NOPOS, .fn = read_subnet },
};

static const struct field shared_fields[] = {
	{ "vg", F_STR, AT(struct spec, shared_vg), NOPOS, REQUIRED, .check = check_vg },
	{ "size", F_SIZE, AT(struct spec, shared_size), NOPOS, REQUIRED },
};

/* storage.shared: one disk attached to every host, holding one VG. */
static void read_shared(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	(void)k;
	s->shared_pos = v->pos;
	walk_map(c, v, "storage.shared", shared_fields, ARRAY_SIZE(shared_fields), base, false);
	if (s->shared_vg && s->shared_size < 2 * LVM_META)
		diag(c, v->pos, NULL, "storage.shared.size must be at least 8M");
}

static const struct field storage_fields[] = {
	{ "vg", F_STR, AT(struct spec, vg), NOPOS, .check = check_vg },
	{ "shared", F_FN, 0, NOPOS, .fn = read_shared },
};

/* ---- experiments ---- */

static void read_bool(struct ctx *c, const char *key, const struct ynode *v, bool *out)
{
	if (!want_scalar(c, key, v, "true or false"))
		return;
	if (v->plain && !strcmp(v->text, "true"))
		*out = true;
	else if (v->plain && !strcmp(v->text, "false"))
		*out = false;
	else
		diag(c, v->pos, v->plain ? NULL : "remove the quotes",
		     "'%s' must be true or false, not '%s'", key, show(c, v->text));
}

static void read_back_and_forth(struct ctx *c, const struct ynode *k, const struct ynode *v,
				void *base)
{
	(void)k;
	read_bool(c, "back_and_forth", v, &((struct spec_experiment *)base)->back_and_forth);
}

static void read_on_failure(struct ctx *c, const struct ynode *k, const struct ynode *v,
			    void *base)
{
	struct spec_experiment *x = base;

	(void)k;
	if (!want_scalar(c, "on_failure", v, "'stop' or 'continue'"))
		return;
	if (!strcmp(v->text, "stop"))
		x->on_failure = SPEC_ON_FAILURE_STOP;
	else if (!strcmp(v->text, "continue"))
		x->on_failure = SPEC_ON_FAILURE_CONTINUE;
	else
		diag(c, v->pos, NULL, "'on_failure' must be 'stop' or 'continue', not '%s'",
		     show(c, v->text));
}

static const struct field migrate_fields[] = {
	{ "guest", F_STR, AT(struct spec_experiment, guest), POS(struct spec_experiment, guest_pos),
	  REQUIRED },
	{ "from", F_STR, AT(struct spec_experiment, from), POS(struct spec_experiment, from_pos),
	  REQUIRED },
	{ "to", F_STR, AT(struct spec_experiment, to), POS(struct spec_experiment, to_pos),
	  REQUIRED },
};

static void read_migrate(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "'migrate'", migrate_fields, ARRAY_SIZE(migrate_fields), base, false);
}

static const struct field probe_fields[] = {
	{ "ping_ms", F_INT, AT(struct spec_experiment, ping_ms), NOPOS, REQUIRED, PING_MS_MIN,
	  PING_MS_MAX },
};

static void read_probe(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "'probe'", probe_fields, ARRAY_SIZE(probe_fields), base, false);
}

static const struct field experiment_fields[] = {
	{ "name", F_STR, AT(struct spec_experiment, name), POS(struct spec_experiment, pos),
	  REQUIRED, .check = check_name },
	{ "migrate", F_FN, 0, POS(struct spec_experiment, migrate_pos), REQUIRED,
	  .fn = read_migrate },
	{ "rounds", F_INT, AT(struct spec_experiment, rounds), NOPOS, 0, 1, MAX_ROUNDS },
	{ "back_and_forth", F_FN, 0, NOPOS, .fn = read_back_and_forth },
	{ "probe", F_FN, 0, NOPOS, .fn = read_probe },
	{ "on_failure", F_FN, 0, NOPOS, .fn = read_on_failure },
};

static void read_experiments(struct ctx *c, const struct ynode *k, const struct ynode *v,
			     void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_EXPERIMENTS))
		return;
	s->experiments = xcalloc(v->n + 1, sizeof(*s->experiments));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_experiment *x = &s->experiments[s->n_experiments];

		if (!want_entry(c, v->kids[i], "experiments"))
			continue;
		*x = (struct spec_experiment){ .rounds = 1, .ping_ms = 20, .pos = v->kids[i]->pos };
		s->n_experiments++;
		walk_map(c, v->kids[i], "an experiment", experiment_fields,
			 ARRAY_SIZE(experiment_fields), x, false);
	}
}

/* A Xen version ("4.17") for `xen:` and `matrix.xen`; diagnoses and returns
 * false when it is not one. */
static bool xen_version_ok(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *t = v->text, *dot;
	bool ok;

	if (!want_scalar(c, key, v, "a version string like \"4.17\""))
		return false;
	dot = strchr(t, '.');
	ok = dot && dot > t && dot[1] && strspn(t, "0123456789") == (size_t)(dot - t) &&
	     strspn(dot + 1, "0123456789") == strlen(dot + 1);
	/* Unquoted 4.17 is a YAML float: take it only when the text cannot
	 * have lost anything (4.1 may have been meant as 4.10). */
	if (ok && v->plain)
		ok = strlen(t) == 4 && dot == t + 1;
	if (!ok) {
		char hint[128];

		snprintf(hint, sizeof(hint), "quote it: xen: \"%s\"", show(c, t));
		diag(c, v->pos, v->plain ? hint : NULL,
		     "'%s' must be a version string like \"4.17\", not %s'%s'", key,
		     v->plain ? "the number " : "", show(c, t));
		return false;
	}
	return true;
}

static void read_xen(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	(void)k;
	s->xen_pos = v->pos;
	if (xen_version_ok(c, "xen", v))
		s->xen = xstrdup(v->text);
}

/* matrix.xen: the versions `xlab matrix` runs the lab on, each once. */
static void read_matrix_xen(struct ctx *c, const struct ynode *k, const struct ynode *v,
			    void *base)
{
	struct spec *s = base;
	size_t n = 0;

	s->matrix_pos = is_null(v) ? k->pos : v->pos;
	if (v->bad)
		return;
	if (v->kind != Y_SEQ || v->n == 0) {
		diag(c, s->matrix_pos, "write it like xen: [\"4.17\", \"4.20\"]",
		     "'matrix.xen' must be a non-empty sequence of versions, not %s",
		     v->kind == Y_SEQ ? "an empty one" : kind_name(v));
		return;
	}
	strv_free(s->matrix_xen);
	s->matrix_xen = xcalloc(v->n + 1, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *item = v->kids[i];
		bool dup = false;

		if (item->bad || !xen_version_ok(c, "matrix.xen", item))
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup || !strcmp(s->matrix_xen[j], item->text);
		if (dup) {
			diag(c, item->pos, NULL, "Xen %s is listed twice in matrix.xen",
			     show(c, item->text));
			continue;
		}
		s->matrix_xen[n++] = xstrdup(item->text);
	}
}

static const struct field matrix_fields[] = {
	{ "xen", F_FN, 0, NOPOS, .fn = read_matrix_xen },
};

static void read_matrix(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "matrix", matrix_fields, ARRAY_SIZE(matrix_fields), base, false);
}

static void read_network(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "network", network_fields, ARRAY_SIZE(network_fields), base, false);
}

static void read_storage(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "storage", storage_fields, ARRAY_SIZE(storage_fields), base, false);
}

static void read_defaults(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "defaults", defaults_fields, ARRAY_SIZE(defaults_fields), base, false);
}

/* A spec names its students' list next to itself: an absolute path or ".."
 * would let a spec from elsewhere read (and quote in an error) any file. */
static bool check_students(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *s = v->text;
	bool ok = s[0] != '/';

	for (const char *p = s; ok && *p;) {
		size_t n = strcspn(p, "/");

		ok = !(n == 2 && p[0] == '.' && p[1] == '.');
		p += n + (p[n] == '/');
	}
	if (!ok)
		diag(c, v->pos, "put the list next to the spec, or pass --students FILE",
		     "%s '%s' must be a path inside the spec's directory", key, show(c, s));
	return ok;
}

/* class: what `xlab class up` makes of the lab: copies, students' names. */
static const struct field class_fields[] = {
	{ "copies", F_INT, AT(struct spec, class_copies), POS(struct spec, class_pos), 0, 1,
	  999 },
	{ "students", F_STR, AT(struct spec, class_students), NOPOS, .check = check_students },
};

static void read_class(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "class", class_fields, ARRAY_SIZE(class_fields), base, false);
}

/* Table order is reading order: defaults before hosts and guests. */
static const struct field top_fields[] = {
	{ "lab", F_STR, AT(struct spec, lab), POS(struct spec, lab_pos), REQUIRED,
	  .check = check_name },
	{ "xen", F_FN, 0, NOPOS, REQUIRED, .fn = read_xen },
	{ "libvirt", F_STR, AT(struct spec, libvirt_uri), NOPOS, .check = check_libvirt },
	{ "network", F_FN, 0, NOPOS, .fn = read_network },
	{ "storage", F_FN, 0, NOPOS, .fn = read_storage },
	{ "defaults", F_FN, 0, NOPOS, .fn = read_defaults },
	{ "hosts", F_FN, 0, NOPOS, REQUIRED, .fn = read_hosts },
	{ "guests", F_FN, 0, NOPOS, .fn = read_guests },
	{ "tests", F_FN, 0, NOPOS, .fn = read_tests },
	{ "experiments", F_FN, 0, NOPOS, .fn = read_experiments },
	{ "matrix", F_FN, 0, NOPOS, .fn = read_matrix },
	{ "class", F_FN, 0, NOPOS, .fn = read_class },
};

/* ---- cross checks ---- */

static struct spec_pos pos_or(struct spec_pos p, struct spec_pos fallback)
{
	return p.line ? p : fallback;
}

static const char *name_hint(char hint[128], const char *name, const struct spec *s, bool hosts)
{
	const char *cands[MAX_GUESTS];
	size_t n = 0;

	if (hosts)
		for (size_t i = 0; i < s->n_hosts && n < ARRAY_SIZE(cands); i++)
			cands[n++] = s->hosts[i].name;
	else
		for (size_t i = 0; i < s->n_guests && n < ARRAY_SIZE(cands); i++)
			cands[n++] = s->guests[i].name;
	return suggest(hint, name, cands, n);
}

static void check_unique_names(struct ctx *c)
{
	const struct spec *s = c->s;
	size_t n = s->n_hosts + s->n_guests;

	for (size_t i = 0; i < n; i++) {
		const char *name = i < s->n_hosts ? s->hosts[i].name : s->guests[i - s->n_hosts].name;
		struct spec_pos pos = i < s->n_hosts ? s->hosts[i].pos : s->guests[i - s->n_hosts].pos;

		if (!name)
			continue;
		for (size_t j = 0; j < i; j++) {
			bool host = j < s->n_hosts;
			const char *other = host ? s->hosts[j].name : s->guests[j - s->n_hosts].name;
			struct spec_pos opos = host ? s->hosts[j].pos : s->guests[j - s->n_hosts].pos;

			if (other && !strcmp(name, other)) {
				diag(c, pos, NULL,
				     "name '%s' is already used by a %s at line %d (host and guest "
				     "names share one namespace)",
				     name, host ? "host" : "guest", opos.line);
				break;
			}
		}
	}
	for (size_t i = 0; i < s->n_tests; i++)
		for (size_t j = 0; s->tests[i].name && j < i; j++)
			if (s->tests[j].name && !strcmp(s->tests[i].name, s->tests[j].name)) {
				diag(c, s->tests[i].pos, NULL,
				     "test name '%s' is already used at line %d", s->tests[i].name,
				     s->tests[j].pos.line);
				break;
			}
}

struct addr_use {
	const char *owner;
	const char *ip;
	struct spec_pos pos;
};

static void check_one_ip(struct ctx *c, struct addr_use *seen, size_t n_seen)
{
	const struct spec *s = c->s;
	struct addr_use *u = &seen[n_seen];
	uint32_t mask = ~0u << (32 - s->net_prefix), a, bcast;
	struct in_addr in;

	if (inet_pton(AF_INET, u->ip, &in) != 1)
		return; /* reported while reading */
	a = ntohl(in.s_addr);
	bcast = s->net_addr | ~mask;
	if ((a & mask) != s->net_addr)
		diag(c, u->pos, NULL, "ip %s of '%s' is outside the lab subnet %s", u->ip,
		     u->owner, s->subnet);
	else if (a == s->net_addr)
		diag(c, u->pos, NULL, "ip %s of '%s' is the network address of %s", u->ip,
		     u->owner, s->subnet);
	else if (a == bcast)
		diag(c, u->pos, NULL, "ip %s of '%s' is the broadcast address of %s", u->ip,
		     u->owner, s->subnet);
	else if (a == s->net_addr + 1)
		diag(c, u->pos, NULL, "ip %s of '%s' is the lab's gateway address", u->ip,
		     u->owner);
	else
		for (size_t j = 0; j < n_seen; j++)
			if (!strcmp(seen[j].ip, u->ip)) {
				diag(c, u->pos, NULL, "ip %s of '%s' is already used by '%s' at line %d",
				     u->ip, u->owner, seen[j].owner, seen[j].pos.line);
				break;
			}
}

static void check_ips(struct ctx *c)
{
	const struct spec *s = c->s;
	struct addr_use *seen = xcalloc(s->n_hosts + s->n_guests + 1, sizeof(*seen));
	size_t n = 0;

	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].ip)
			seen[n++] = (struct addr_use){ s->hosts[i].name ? s->hosts[i].name : "?",
						      s->hosts[i].ip, s->hosts[i].ip_pos };
	for (size_t i = 0; i < s->n_guests; i++)
		if (s->guests[i].ip)
			seen[n++] = (struct addr_use){ s->guests[i].name ? s->guests[i].name : "?",
						      s->guests[i].ip, s->guests[i].ip_pos };
	for (size_t i = 0; i < n; i++) {
		if (!s->subnet) {
			if (!s->subnet_pos.line) /* not a bad subnet: no subnet at all */
				diag(c, seen[i].pos, "set network.subnet, or leave 'ip' out",
				     "ip %s of '%s' given but the spec has no network.subnet",
				     seen[i].ip, seen[i].owner);
			continue;
		}
		check_one_ip(c, seen, i);
	}
	free(seen);
}

/* What the VG of a host holds: each PV loses its metadata area and keeps
 * whole extents only. */
static uint64_t pv_usable(uint64_t size)
{
	return size > LVM_META ? (size - LVM_META) / LVM_EXTENT * LVM_EXTENT : 0;
}

/* What an LV of `size` takes: whole extents. */
static uint64_t lv_size(uint64_t size)
{
	return u64_add_sat(size, LVM_EXTENT - 1) / LVM_EXTENT * LVM_EXTENT;
}

static void check_host_capacity(struct ctx *c, const struct spec_host *h)
{
	const struct spec *s = c->s;
	uint64_t mem_free, vg = pv_usable(h->data_disk), mem = 0, disk = 0;
	bool mem_done = false, disk_done = false;
	char b1[32], b2[32], b3[32], b4[32];

	if (h->dom0_mem >= h->memory) {
		diag(c, pos_or(h->dom0_mem_pos, h->pos), NULL,
		     "host '%s': dom0_mem %s must be less than its memory %s", h->name,
		     fmt_size(b1, h->dom0_mem), fmt_size(b2, h->memory));
		mem_done = true;
	}
	mem_free = mem_done ? 0 : h->memory - h->dom0_mem;
	for (size_t i = 0; i < h->n_disks; i++)
		vg = u64_add_sat(vg, pv_usable(h->disks[i]));
	for (size_t i = 0; i < s->n_guests; i++) {
		const struct spec_guest *g = &s->guests[i];

		if (!g->host || strcmp(g->host, h->name))
			continue;
		mem = u64_add_sat(mem, g->memory);
		if (!g->shared) /* shared guests' LVs are on the shared VG */
			disk = u64_add_sat(disk, lv_size(g->disk));
		if (!mem_done && mem > mem_free) {
			diag(c, pos_or(g->memory_pos, g->pos), NULL,
			     "guests on host '%s' need %s of memory (up to '%s'), but it has %s for "
			     "guests (memory %s - dom0_mem %s)",
			     h->name, fmt_size(b1, mem), g->name ? g->name : "?",
			     fmt_size(b2, mem_free), fmt_size(b3, h->memory),
			     fmt_size(b4, h->dom0_mem));
			mem_done = true;
		}
		if (!disk_done && disk > vg) {
			diag(c, pos_or(g->disk_pos, g->pos), "give the host a bigger data_disk or more 'disks'",
			     "guest disks on host '%s' need %s (up to '%s'), but its volume group "
			     "holds %s",
			     h->name, fmt_size(b1, disk), g->name ? g->name : "?", fmt_size(b2, vg));
			disk_done = true;
		}
	}
}

static void check_guest_hosts(struct ctx *c)
{
	const struct spec *s = c->s;
	char hint[128];

	for (size_t i = 0; i < s->n_guests; i++) {
		const struct spec_guest *g = &s->guests[i];

		if (g->host && !spec_find_host(s, g->host))
			diag(c, g->host_pos, name_hint(hint, g->host, s, true),
			     "guest '%s' is on host '%s', but no host has that name",
			     g->name ? g->name : "?", show(c, g->host));
	}
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].name)
			check_host_capacity(c, &s->hosts[i]);
}

/* Shared guests need the shared VG, and together must fit in it. */
static void check_shared(struct ctx *c)
{
	const struct spec *s = c->s;
	uint64_t vg = pv_usable(s->shared_size), disk = 0;
	char b1[32], b2[32];

	if (s->shared_vg && s->vg && !strcmp(s->shared_vg, s->vg))
		diag(c, s->shared_pos, NULL,
		     "storage.shared.vg '%s' is also each host's own VG (storage.vg): use "
		     "another name",
		     s->shared_vg);
	for (size_t i = 0; i < s->n_guests; i++) {
		const struct spec_guest *g = &s->guests[i];

		if (!g->shared)
			continue;
		if (!s->shared_vg) {
			if (!s->shared_pos.line) /* no shared block at all, not a bad one */
				diag(c, pos_or(g->storage_pos, g->pos),
				     "add storage: {shared: {vg: shared, size: 8G}}",
				     "guest '%s' uses shared storage, but the spec has no "
				     "storage.shared",
				     g->name ? g->name : "?");
			continue;
		}
		disk = u64_add_sat(disk, lv_size(g->disk));
		if (disk > vg) {
			diag(c, pos_or(g->disk_pos, g->pos), "make storage.shared.size bigger",
			     "guest disks on the shared VG need %s (up to '%s'), but it holds %s",
			     fmt_size(b1, disk), g->name ? g->name : "?", fmt_size(b2, vg));
			return;
		}
	}
}

static void check_experiment_host(struct ctx *c, const struct spec_experiment *x,
				  const char *role, const char *host, struct spec_pos pos)
{
	char hint[128];

	if (host && !spec_find_host(c->s, host))
		diag(c, pos, name_hint(hint, host, c->s, true),
		     "experiment '%s' migrates %s host '%s', but no host has that name",
		     x->name ? x->name : "?", role, show(c, host));
}

static void check_experiment(struct ctx *c, const struct spec_experiment *x, size_t idx)
{
	const struct spec *s = c->s;
	const char *name = x->name ? x->name : "?";
	const struct spec_guest *g;
	char hint[128];

	for (size_t j = 0; x->name && j < idx; j++)
		if (s->experiments[j].name && !strcmp(s->experiments[j].name, x->name)) {
			diag(c, x->pos, NULL, "experiment name '%s' is already used at line %d",
			     x->name, s->experiments[j].pos.line);
			break;
		}
	if (x->guest) {
		g = spec_find_guest(s, x->guest);
		if (!g)
			diag(c, x->guest_pos,
			     spec_find_host(s, x->guest) ? "it is a host; 'guest' names a guest" :
							    name_hint(hint, x->guest, s, false),
			     "experiment '%s' migrates guest '%s', but no guest has that name", name,
			     show(c, x->guest));
		else if (!g->shared)
			diag(c, x->guest_pos, "give the guest 'storage: shared'",
			     "experiment '%s' migrates guest '%s', whose disk is on its host's "
			     "own VG: only a guest on shared storage can migrate",
			     name, x->guest);
	}
	check_experiment_host(c, x, "from", x->from, x->from_pos);
	check_experiment_host(c, x, "to", x->to, x->to_pos);
	if (x->from && x->to && !strcmp(x->from, x->to))
		diag(c, x->to_pos, NULL,
		     "experiment '%s' migrates from '%s' to the same host: 'from' and 'to' must "
		     "differ",
		     name, x->to);
}

static void check_test(struct ctx *c, const struct spec_test *t)
{
	const struct spec *s = c->s;
	const char *name = t->name ? t->name : "?";
	char hint[128];

	if (t->host && t->guest) {
		diag(c, t->guest_pos, NULL,
		     "test '%s' names both 'host' and 'guest'; a test runs on one of them", name);
		return;
	}
	if (!t->host && !t->guest) {
		if (t->host_pos.line || t->guest_pos.line)
			return; /* one was given but bad: already reported */
		diag(c, t->pos, NULL,
		     "test '%s' needs either 'host' (with 'run') or 'guest' (with "
		     "'expect_console')",
		     name);
		return;
	}
	if (t->host) {
		if (!spec_find_host(s, t->host))
			diag(c, t->host_pos,
			     spec_find_guest(s, t->host) ? "it is a guest: use 'guest:'" :
							    name_hint(hint, t->host, s, true),
			     "test '%s' runs on host '%s', but no host has that name", name,
			     show(c, t->host));
		if (t->expect_console)
			diag(c, t->expect_pos, NULL,
			     "'expect_console' watches a guest's console: use it with 'guest', not "
			     "'host'");
		else if (!t->run && !t->run_pos.line)
			diag(c, t->pos, NULL, "test '%s' on host '%s' needs 'run'", name, t->host);
		return;
	}
	if (!spec_find_guest(s, t->guest))
		diag(c, t->guest_pos,
		     spec_find_host(s, t->guest) ? "it is a host: use 'host:'" :
						    name_hint(hint, t->guest, s, false),
		     "test '%s' watches guest '%s', but no guest has that name", name,
		     show(c, t->guest));
	if (t->run_pos.line)
		diag(c, t->run_pos, NULL,
		     "'run' runs a command in a host's dom0: use it with 'host', not 'guest'");
	else if (!t->expect_console && !t->expect_pos.line)
		diag(c, t->pos, NULL, "test '%s' on guest '%s' needs 'expect_console'", name,
		     t->guest);
}

static void cross_check(struct ctx *c)
{
	check_unique_names(c);
	check_guest_hosts(c);
	check_ips(c);
	for (size_t i = 0; i < c->s->n_tests; i++)
		check_test(c, &c->s->tests[i]);
	check_shared(c);
	for (size_t i = 0; i < c->s->n_experiments; i++)
		check_experiment(c, &c->s->experiments[i], i);
}

/* ---- entry points ---- */

static int diag_cmp(const void *a, const void *b)
{
	const struct spec_diag *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line - y->pos.line;
	return x->pos.col - y->pos.col;
}

/* Stable (insertion) sort: diags at one spot keep their finding order. */
static void diags_sort(struct spec_diags *d)
{
	for (size_t i = 1; i < d->n; i++) {
		struct spec_diag t = d->v[i];
		size_t j = i;

		for (; j > 0 && diag_cmp(&d->v[j - 1], &t) > 0; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = t;
	}
}

static void parse_spec(struct ctx *c)
{
	struct ynode *root = NULL;

	if (parse_tree(c, &root) < 0)
		return;
	if (!root || is_null(root)) {
		diag(c, root ? root->pos : (struct spec_pos){ 1, 1 }, NULL,
		     "empty spec: expected a mapping with 'lab'");
	} else if (root->kind != Y_MAP) {
		if (!root->bad)
			diag(c, root->pos, NULL,
			     "a spec is a mapping with 'lab', 'xen' and 'hosts', not %s",
			     kind_name(root));
	} else {
		walk_map(c, root, "the spec", top_fields, ARRAY_SIZE(top_fields), c->s, false);
		cross_check(c);
	}
	ynode_free(root);
}

static void ctx_init(struct ctx *c, struct spec *s, struct spec_diags *d, const char *data,
		     size_t len)
{
	*c = (struct ctx){ .s = s, .d = d, .data = data, .len = len };
	c->host_tpl = (struct spec_host){ .memory = 2ull << 30, .vcpus = 2,
					  .dom0_mem = 1ull << 30, .data_disk = 8ull << 30 };
	c->guest_tpl = (struct spec_guest){ .memory = 128ull << 20, .vcpus = 1,
					    .disk = 256ull << 20, .rootfs = xstrdup("busybox") };
}

int spec_check_capacity(const struct spec *s, struct xerr *e)
{
	struct spec_diags d = { 0 };
	struct ctx c = { .s = (struct spec *)s, .d = &d };

	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].name)
			check_host_capacity(&c, &s->hosts[i]);
	check_shared(&c);
	if (!d.n)
		return 0;
	/* The first problem is the one the caller made; the spec was valid. */
	xerr_set(e, XERR_USAGE, "%s%s%s", d.v[0].msg, d.v[0].hint ? "; " : "",
		 d.v[0].hint ? d.v[0].hint : "");
	spec_diags_free(&d);
	return -1;
}

/* Moves the diags found into the caller's list and sums them up in e. */
static int fail(const char *name, struct spec_diags *mine, struct spec_diags *out,
		struct xerr *e)
{
	const struct spec_diag *first;

	diags_sort(mine);
	first = &mine->v[0];
	if (first->pos.line)
		xerr_set(e, XERR_USAGE, "%s:%d:%d: %s%s%s", name, first->pos.line,
			 first->pos.col, first->msg, first->hint ? "; " : "",
			 first->hint ? first->hint : "");
	else
		xerr_set(e, XERR_USAGE, "%s: %s", name, first->msg);
	if (mine->n > 1)
		xerr_prefix(e, "invalid spec (%zu errors, the first one follows)", mine->n);
	if (out) {
		spec_diags_free(out);
		*out = *mine;
	} else {
		spec_diags_free(mine);
	}
	return -1;
}

static int fail_early(const char *name, struct spec_diags *out, struct xerr *e, char *msg)
{
	struct spec_diags mine = { .path = xstrdup(name) };

	diag_add(&mine, (struct spec_pos){ 0, 0 }, NULL, msg);
	return fail(name, &mine, out, e);
}

int spec_load_buffer(const char *name, const char *data, size_t len, struct spec **out,
		     struct spec_diags *diags, struct xerr *e)
{
	struct spec_diags mine = { 0 };
	struct spec *s;
	struct ctx c;

	*out = NULL;
	if (len > SPEC_MAX_BYTES)
		return fail_early(name, diags, e,
				  xasprintf("spec is %zu bytes; at most %u are allowed", len,
					    SPEC_MAX_BYTES));
	mine.path = xstrdup(name);
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(name);
	s->vg = xstrdup("xlab");
	sha256_hex(data, len, s->sha256);
	ctx_init(&c, s, &mine, data, len);
	parse_spec(&c);
	free(c.guest_tpl.rootfs);
	if (mine.n) {
		spec_free(s);
		return fail(name, &mine, diags, e);
	}
	spec_diags_free(&mine);
	/* A valid spec leaves nothing in diags to free. */
	spec_diags_free(diags);
	*out = s;
	return 0;
}

int spec_load(const char *path, struct spec **out, struct spec_diags *diags, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	struct xerr rerr = { 0 };
	struct stat st;
	size_t len = 0;

	*out = NULL;
	if (stat(path, &st) < 0)
		return fail_early(path, diags, e,
				  xasprintf("cannot read spec: %s", strerror(errno)));
	if (S_ISDIR(st.st_mode))
		return fail_early(path, diags, e, xstrdup("is a directory, not a spec file"));
	/* A FIFO or a device would block or never end: a spec is a file. */
	if (!S_ISREG(st.st_mode))
		return fail_early(path, diags, e,
				  xstrdup("is not a regular file (a FIFO, device or socket); "
					  "give a spec file"));
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > SPEC_MAX_BYTES)
		return fail_early(path, diags, e,
				  xasprintf("spec is %lld bytes; at most %u are allowed (refused "
					    "unread)",
					    (long long)st.st_size, SPEC_MAX_BYTES));
	if (file_read_all(path, SPEC_MAX_BYTES, &data, &len, &rerr) < 0)
		return fail_early(path, diags, e, xstrdup(rerr.msg));
	return spec_load_buffer(path, data, len, out, diags, e);
}

static void host_free(struct spec_host *h)
{
	free(h->name);
	free(h->disks);
	free(h->ip);
}

void spec_guest_clear(struct spec_guest *g)
{
	free(g->name);
	free(g->host);
	free(g->rootfs);
	free(g->ip);
	for (size_t i = 0; i < g->n_xl; i++) {
		free(g->xl[i].key);
		free(g->xl[i].value);
	}
	free(g->xl);
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_hosts; i++)
		host_free(&s->hosts[i]);
	for (size_t i = 0; i < s->n_guests; i++)
		spec_guest_clear(&s->guests[i]);
	for (size_t i = 0; i < s->n_tests; i++) {
		free(s->tests[i].name);
		free(s->tests[i].host);
		free(s->tests[i].guest);
		strv_free(s->tests[i].run);
		free(s->tests[i].expect_console);
	}
	for (size_t i = 0; i < s->n_experiments; i++) {
		free(s->experiments[i].name);
		free(s->experiments[i].guest);
		free(s->experiments[i].from);
		free(s->experiments[i].to);
	}
	free(s->experiments);
	free(s->shared_vg);
	free(s->hosts);
	free(s->guests);
	free(s->tests);
	free(s->path);
	free(s->lab);
	free(s->xen);
	free(s->libvirt_uri);
	free(s->subnet);
	free(s->vg);
	strv_free(s->matrix_xen);
	free(s->class_students);
	free(s);
}

void spec_diags_print(const struct spec_diags *d, FILE *f)
{
	const char *path = d->path ? d->path : "spec";

	for (size_t i = 0; i < d->n; i++) {
		const struct spec_diag *g = &d->v[i];

		if (g->pos.line)
			fprintf(f, "%s:%d:%d: %s", path, g->pos.line, g->pos.col, g->msg);
		else
			fprintf(f, "%s: %s", path, g->msg);
		if (g->hint)
			fprintf(f, "; %s", g->hint);
		fputc('\n', f);
	}
}

void spec_diags_report(const struct spec_diags *d, struct xerr *e, FILE *f)
{
	if (d->n <= 1)
		return;
	spec_diags_print(d, f);
	xerr_set(e, e->kind ? e->kind : XERR_USAGE, "%s: invalid spec: %zu errors, listed above",
		 d->path ? d->path : "spec", d->n);
}

void spec_diags_free(struct spec_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	free(d->path);
	*d = (struct spec_diags){ 0 };
}

const struct spec_host *spec_find_host(const struct spec *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_hosts; i++)
		if (s->hosts[i].name && !strcmp(s->hosts[i].name, name))
			return &s->hosts[i];
	return NULL;
}

const struct spec_guest *spec_find_guest(const struct spec *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_guests; i++)
		if (s->guests[i].name && !strcmp(s->guests[i].name, name))
			return &s->guests[i];
	return NULL;
}

const struct spec_experiment *spec_find_experiment(const struct spec *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_experiments; i++)
		if (s->experiments[i].name && !strcmp(s->experiments[i].name, name))
			return &s->experiments[i];
	return NULL;
}

/* For guests made outside a spec file (`xlab guest create`): the same rules. */
bool spec_name_valid(const char *s)
{
	return dns_label(s);
}

bool spec_xl_key_valid(const char *key)
{
	return xl_key_ok(key);
}

const char *spec_xl_key_owned(const char *key)
{
	for (size_t j = 0; j < ARRAY_SIZE(xl_owned); j++)
		if (!strcmp(key, xl_owned[j].key))
			return xl_owned[j].hint;
	return NULL;
}
