/* The lab spec: YAML bytes -> a tree of our own nodes (so aliases, depth and
 * scalar size are policed while parsing) -> struct spec through one table of
 * keys per block -> cross checks (names, addresses, capacity). Every problem
 * becomes a diag and parsing goes on, so one run reports them all. This file
 * holds the entry points; spec_tree.c, spec_diag.c, spec_fields.c,
 * spec_blocks.c and spec_checks.c the stages (spec_int.h joins them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "serverspec.h"
#include "sha256.h"
#include "spec_int.h"

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

static bool every_host_has_own_xen(const struct spec *s)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (!s->hosts[i].xen_pos.line && !s->hosts[i].image_pos.line)
			return false;
	return s->n_hosts > 0;
}

/* Which Xen the hosts boot: a version (Debian's, the image built for it)
 * or a stored image by name (a derived one); one of them, not both, for
 * the lab and for each host that overrides it. The lab's may be left out
 * when every host names its own. A value already refused has said so. */
static void check_xen_or_image(struct ctx *c, struct spec_pos top)
{
	for (size_t i = 0; i < c->s->n_hosts; i++) {
		const struct spec_host *h = &c->s->hosts[i];

		if (h->xen_pos.line && h->image_pos.line)
			diag(c, h->image_pos, "keep one of them",
			     "host '%s': 'image' names the image it boots, as 'xen' does: give "
			     "one, not both",
			     h->name ? h->name : "?");
	}
	if (c->s->xen_pos.line && c->s->image_pos.line)
		diag(c, c->s->image_pos, "keep one of them",
		     "'image' names the image the hosts boot, as 'xen' does: give one, not both");
	else if (!c->s->xen_pos.line && !c->s->image_pos.line && !every_host_has_own_xen(c->s))
		diag(c, top, "xen: \"4.17\" boots Debian's Xen 4.17; image: NAME a stored image",
		     "the spec is missing the required key 'xen' (or 'image')");
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
		walk_map(c, root, "the spec", top_fields, top_fields_n, c->s, false);
		check_xen_or_image(c, root->pos);
		cross_check(c);
	}
	ynode_free(root);
}

char *spec_image_name(const struct spec *s)
{
	if (s->image)
		return xstrdup(s->image);
	return s->xen ? xasprintf("xen-%s", s->xen) : NULL;
}

char *spec_host_image_name(const struct spec *s, const struct spec_host *h)
{
	if (h->image)
		return xstrdup(h->image);
	if (h->xen)
		return xasprintf("xen-%s", h->xen);
	return spec_image_name(s);
}

bool spec_mixed_images(const struct spec *s)
{
	_cleanup_free_ char *first = s->n_hosts ? spec_host_image_name(s, &s->hosts[0]) : NULL;

	for (size_t i = 1; i < s->n_hosts; i++) {
		_cleanup_free_ char *name = spec_host_image_name(s, &s->hosts[i]);

		if (!first || !name || strcmp(first, name) != 0)
			return true;
	}
	return false;
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
	free(c.host_tpl.xen_args);
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
	free(h->xen);
	free(h->image);
	free(h->server);
	free(h->xen_args);
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
		free(s->tests[i].action);
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
	free(s->image);
	free(s->libvirt_uri);
	free(s->server);
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

const char *spec_server(const struct spec *s)
{
	return s->server && strcmp(s->server, SERVER_LOCAL) != 0 ? s->server : NULL;
}

const char *spec_host_server(const struct spec *s, const struct spec_host *h)
{
	if (!h->server)
		return spec_server(s);
	return strcmp(h->server, SERVER_LOCAL) != 0 ? h->server : NULL;
}

const char *spec_any_server(const struct spec *s)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (spec_host_server(s, &s->hosts[i]))
			return spec_host_server(s, &s->hosts[i]);
	return spec_server(s);
}

static bool same_server(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool spec_spread(const struct spec *s)
{
	for (size_t i = 1; i < s->n_hosts; i++)
		if (!same_server(spec_host_server(s, &s->hosts[0]), spec_host_server(s, &s->hosts[i])))
			return true;
	return false;
}
