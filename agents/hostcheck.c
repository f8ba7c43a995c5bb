#include "hostcheck.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* ---- xen-dmesg-clean ---- */

/* From Xen's sources (4.17, 4.20): common/bug.c's BUG(), WARN() and
 * ASSERT() (debug builds), drivers/char/console.c's panic(), arch/x86's
 * fatal traps. Each is text no normal boot prints: the "(XEN) WARNING: ..."
 * banners of a healthy boot (console output synchronous, SILO mode, ...)
 * hold none of them, where "WARN" or "FATAL" alone would match them. */
const struct xen_dmesg_pattern xen_dmesg_patterns[] = {
	{ "Xen BUG at", NULL, "BUG(), BUG_ON()" },
	{ "Xen WARN at", NULL, "WARN(), WARN_ON()" },
	{ "Assertion '", "' failed at", "ASSERT()" },
	{ "Panic on CPU", NULL, "panic(), whatever its reason" },
	{ "FATAL TRAP", NULL, "an exception Xen cannot handle" },
	{ "FATAL PAGE FAULT", NULL, "a page fault in Xen itself" },
	{ "GENERAL PROTECTION FAULT", NULL, "#GP in Xen" },
	{ "DOUBLE FAULT", NULL, "#DF" },
	{ "CONTROL-FLOW PROTECTION FAULT", NULL, "#CP (CET)" },
};
const size_t xen_dmesg_n_patterns = ARRAY_SIZE(xen_dmesg_patterns);

/* Xen prefixes every line of its own with "(XEN) "; a guest's console
 * output that reaches the ring carries "(dN) " instead. */
static bool line_is_xens(const char *line, size_t len)
{
	return len >= 5 && !strncmp(line, "(XEN)", 5);
}

static const struct xen_dmesg_pattern *line_bug(const char *line, size_t len)
{
	_cleanup_free_ char *copy = NULL;

	if (!line_is_xens(line, len))
		return NULL;
	copy = xstrndup(line, len);
	for (size_t i = 0; i < xen_dmesg_n_patterns; i++) {
		const struct xen_dmesg_pattern *pat = &xen_dmesg_patterns[i];
		const char *at = strstr(copy, pat->has);

		if (at && (!pat->then || strstr(at + strlen(pat->has), pat->then)))
			return pat;
	}
	return NULL;
}

const struct xen_dmesg_pattern *xen_dmesg_line_bug(const char *line)
{
	size_t len = strcspn(line, "\n");

	return line_bug(line, len);
}

char **xen_dmesg_bugs(const char *text, size_t *xen_lines)
{
	char **bad = xcalloc(1, sizeof(*bad));
	size_t n = 0;

	*xen_lines = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		/* xl dmesg ends lines with \n; a serial capture may add \r. */
		size_t clen = len && p[len - 1] == '\r' ? len - 1 : len;

		if (line_is_xens(p, clen))
			(*xen_lines)++;
		if (line_bug(p, clen)) {
			bad = xrealloc(bad, (n + 2) * sizeof(*bad));
			bad[n++] = xstrndup(p, clen);
			bad[n] = NULL;
		}
		p += len + (p[len] == '\n');
	}
	return bad;
}

/* ---- leak-check ---- */

struct ids {
	long *v;
	size_t n;
};

static bool ids_has(const struct ids *s, long id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	return false;
}

static void ids_add(struct ids *s, long id)
{
	if (ids_has(s, id))
		return;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = id;
}

/* A backend directory: /local/domain/0/backend/TYPE/DOMID. */
struct backend {
	char type[32];
	long domid;
};

struct backends {
	struct backend *v;
	size_t n;
};

static void backends_add(struct backends *b, const char *type, size_t tlen, long domid)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].domid == domid && strlen(b->v[i].type) == tlen &&
		    !strncmp(b->v[i].type, type, tlen))
			return;
	b->v = xrealloc(b->v, (b->n + 1) * sizeof(*b->v));
	snprintf(b->v[b->n].type, sizeof(b->v[b->n].type), "%.*s", (int)tlen, type);
	b->v[b->n++].domid = domid;
}

/* A domain id at *p, ending at '/', ' ' or the end of the line; *p moves
 * past it. -1 when there is none. */
static long path_domid(const char **p)
{
	char *end;
	long id;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	id = strtol(*p, &end, 10);
	if (errno || (*end && *end != '/' && *end != ' ' && *end != '\n'))
		return -1;
	*p = end;
	return id;
}

/* One line of `xenstore-ls -f /local/domain`: "/local/domain/3/name = "g1""
 * names domain 3; "/local/domain/0/backend/vbd/3/51712/state = "4"" a vbd
 * backend of domain 3. Lines of directories ("/local/domain/0/backend/vbd
 * = """) name no domain and are passed over. */
static void xenstore_line(const char *line, struct ids *doms, struct backends *bes)
{
	static const char dom[] = "/local/domain/", be[] = "/backend/";
	const char *p = line, *type;
	long id;
	size_t tlen;

	if (strncmp(p, dom, sizeof(dom) - 1))
		return;
	p += sizeof(dom) - 1;
	if ((id = path_domid(&p)) < 0)
		return;
	ids_add(doms, id);
	if (id != 0 || strncmp(p, be, sizeof(be) - 1))
		return;
	type = p + sizeof(be) - 1;
	tlen = strcspn(type, "/ \n");
	if (!tlen || type[tlen] != '/')
		return;
	p = type + tlen + 1;
	if ((id = path_domid(&p)) >= 0)
		backends_add(bes, type, tlen, id);
}

static void found_add(char ***found, size_t *n, char *msg)
{
	*found = xrealloc(*found, (*n + 2) * sizeof(**found));
	(*found)[(*n)++] = msg;
	(*found)[*n] = NULL;
}

static const char *row_text(struct json_object *row, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(row, key, &v) && json_object_get_string(v) ?
		       json_object_get_string(v) :
		       "";
}

/* Domains xl lists that are not Domain-0 and not the lab's guests here;
 * *running gets every domain id xl lists. */
static void domains_check(struct json_object *rows, const struct leak_expect *x,
			  struct ids *running, char ***found, size_t *n, struct buf *checked)
{
	size_t len = rows ? json_object_array_length(rows) : 0;

	buf_puts(checked, "  xl list:");
	if (!rows) {
		buf_puts(checked, " not read\n");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i), *v;
		const char *name = row_text(row, AGENT_RES_NAME);
		long id = json_object_object_get_ex(row, AGENT_RES_DOMID, &v) ?
				  (long)json_object_get_int64(v) :
				  -1;

		ids_add(running, id);
		buf_printf(checked, "%s %s (id %ld)", i ? "," : "", name, id);
		if ((id == 0 && !strcmp(name, "Domain-0")) || strv_has(x->domains, name))
			continue;
		found_add(found, n,
			  xasprintf("domain '%s' (id %ld) is not a guest of the lab on this host",
				    name, id));
	}
	buf_puts(checked, len ? "\n" : " nothing\n");
}

static void lvs_check(struct json_object *rows, const struct leak_expect *x, char ***found,
		      size_t *n, struct buf *checked)
{
	size_t len = rows ? json_object_array_length(rows) : 0, shown = 0;

	buf_puts(checked, "  LVs in VG");
	for (const char *const *vg = x->vgs; vg && *vg; vg++)
		buf_printf(checked, "%s %s", vg == x->vgs ? "" : ",", *vg);
	buf_puts(checked, rows ? ":" : ": not read\n");
	if (!rows)
		return;
	for (size_t i = 0; i < len; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *vg = row_text(row, "vg_name");
		_cleanup_free_ char *lv = xasprintf("%s/%s", vg, row_text(row, "lv_name"));

		if (!strv_has(x->vgs, vg))
			continue;
		buf_printf(checked, "%s %s", shown++ ? "," : "", lv);
		if (!strv_has(x->lvs, lv))
			found_add(found, n, xasprintf("LV %s is not a guest's", lv));
	}
	buf_puts(checked, shown ? "\n" : " none\n");
}

static void xenstore_check(const char *text, const struct ids *running, char ***found,
			   size_t *n, struct buf *checked)
{
	struct ids doms = { 0 };
	struct backends bes = { 0 };

	if (!text || !running) {
		/* Without xl's list every entry would look left over. */
		buf_printf(checked, "  xenstore /local/domain: not %s\n", text ? "compared" : "read");
		return;
	}
	for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n')
		xenstore_line(p, &doms, &bes);
	buf_puts(checked, "  xenstore /local/domain:");
	for (size_t i = 0; i < doms.n; i++) {
		buf_printf(checked, "%s %ld", i ? "," : "", doms.v[i]);
		if (!ids_has(running, doms.v[i]))
			found_add(found, n,
				  xasprintf("xenstore /local/domain/%ld has no running domain",
					    doms.v[i]));
	}
	buf_puts(checked, doms.n ? "\n  backends in /local/domain/0/backend:" :
				   " nothing\n  backends in /local/domain/0/backend:");
	for (size_t i = 0; i < bes.n; i++) {
		buf_printf(checked, "%s %s/%ld", i ? "," : "", bes.v[i].type, bes.v[i].domid);
		if (!ids_has(running, bes.v[i].domid))
			found_add(found, n,
				  xasprintf("%s backend for domain %ld has no running domain",
					    bes.v[i].type, bes.v[i].domid));
	}
	buf_puts(checked, bes.n ? "\n" : " none\n");
	free(doms.v);
	free(bes.v);
}

char **leaks_find(const struct leak_seen *seen, const struct leak_expect *x, struct buf *checked)
{
	char **found = xcalloc(1, sizeof(*found));
	struct ids running = { 0 };
	size_t n = 0;

	domains_check(seen->domains, x, &running, &found, &n, checked);
	lvs_check(seen->lvs, x, &found, &n, checked);
	xenstore_check(seen->xenstore, seen->domains ? &running : NULL, &found, &n, checked);
	free(running.v);
	return found;
}
