/* A lab's topology as Graphviz dot or a mermaid flowchart. Both renderers
 * draw the same labels (built once here, lines split by '\n') and differ
 * only in syntax; every name and label goes through its format's quoting,
 * since labels carry free text (image names, store rows). */
#include "graph.h"

#include <string.h>

#include "text.h"
#include "util.h"

/* Fill colours of the guest types, the same in both formats. */
static const struct {
	const char *type, *fill;
} type_colours[] = {
	{ "pv", "#dbeafe" },
	{ "pvh", "#dcfce7" },
	{ "hvm", "#fef3c7" },
};

static const char *type_colour(const char *type)
{
	for (size_t i = 0; type && i < ARRAY_SIZE(type_colours); i++)
		if (strcmp(type, type_colours[i].type) == 0)
			return type_colours[i].fill;
	return NULL;
}

struct escape {
	char c;
	const char *as;
};

/* s between double quotes, each character of esc written as its
 * replacement, newlines as `newline`, tabs as spaces. text_term() first:
 * terminal escapes dropped, control characters and invalid UTF-8 made '?'. */
static char *quote(const char *s, const struct escape *esc, size_t n, const char *newline)
{
	_cleanup_free_ char *clean = text_term(s ? s : "");
	struct buf b = { 0 };

	buf_puts(&b, "\"");
	for (const char *p = clean; *p; p++) {
		size_t i = 0;

		while (i < n && esc[i].c != *p)
			i++;
		if (i < n)
			buf_puts(&b, esc[i].as);
		else if (*p == '\n')
			buf_puts(&b, newline);
		else if (*p == '\t')
			buf_puts(&b, " ");
		else
			buf_append(&b, p, 1);
	}
	buf_puts(&b, "\"");
	return buf_steal(&b);
}

/* Graphviz reads HTML entities ("&amp;", "&lt;") in a label, so '&' is one
 * too: text stays the text it was. */
char *graph_dot_quote(const char *s)
{
	static const struct escape esc[] = {
		{ '"', "\\\"" }, { '\\', "\\\\" }, { '&', "&amp;" },
	};

	return quote(s, esc, ARRAY_SIZE(esc), "\\n");
}

/* Mermaid turns "#name;" into "&name;" before it parses, so '#' itself must
 * be an entity too, or text like "#quot;" would become a quote; and it looks
 * for "%%{...}%%" directives (its configuration) anywhere in the text, so
 * '%' is one as well. */
char *graph_mermaid_quote(const char *s)
{
	static const struct escape esc[] = {
		{ '"', "#quot;" }, { '#', "#35;" },  { '<', "#lt;" }, { '>', "#gt;" },
		{ '&', "#amp;" },  { '`', "#96;" }, { '%', "#37;" },
	};

	return quote(s, esc, ARRAY_SIZE(esc), "<br/>");
}

/* ---- labels, shared by both formats ---- */

static void line_add(struct buf *b, const char *text)
{
	if (text)
		buf_printf(b, "%s%s", b->len ? "\n" : "", text);
}

/* The lab's image when all its hosts boot one, as a spec's `xen:` says
 * unless a host gives its own. */
static char *label_lab(const struct graph_lab *g)
{
	const char *image = g->n_hosts ? g->hosts[0].image : NULL;

	for (size_t i = 1; image && i < g->n_hosts; i++)
		if (!g->hosts[i].image || strcmp(g->hosts[i].image, image) != 0)
			image = NULL;
	return image ? xasprintf("lab %s\nimage %s", g->lab, image)
		     : xasprintf("lab %s\nimages per host", g->lab);
}

static char *label_network(const struct graph_lab *g)
{
	return xasprintf("network %s\n%s%s, bridge %s, gateway %s", g->network, g->subnet,
			 g->subnet_pooled ? " (from the pool: up may pick another)" : "",
			 g->bridge, g->gateway);
}

static char *label_host(const struct graph_lab *g, const struct graph_host *h)
{
	struct buf b = { 0 };

	buf_printf(&b, "%s (dom0)", h->name);
	line_add(&b, h->ip);
	if (h->image)
		buf_printf(&b, "\nimage %s", h->image);
	buf_printf(&b, "\nVG %s", g->vg);
	line_add(&b, h->state);
	return buf_steal(&b);
}

static char *label_guest(const struct graph_lab *g, const struct graph_guest *gu,
			 bool on_lab_host)
{
	struct buf b = { 0 };

	buf_printf(&b, "%s\n%s", gu->name, gu->type ? gu->type : "type not recorded");
	if (gu->ip)
		buf_printf(&b, ", %s", gu->ip);
	if (gu->shared)
		buf_printf(&b, "\nLV on VG %s", g->shared_vg);
	if (gu->by_hand)
		buf_puts(&b, "\nmade by hand");
	if (!on_lab_host)
		buf_printf(&b, "\non host %s (not in the lab)", gu->host);
	line_add(&b, gu->state);
	return buf_steal(&b);
}

static char *label_disk(const struct graph_lab *g)
{
	char size[32];

	size_format(g->shared_size, size, sizeof(size));
	return xasprintf("shared disk\nVG %s, %s", g->shared_vg, size);
}

static char *label_path(const struct graph_path *p)
{
	return xasprintf("%s: %s, %d round%s%s", p->name, p->guest, p->rounds,
			 p->rounds == 1 ? "" : "s", p->back_and_forth ? "\nback and forth" : "");
}

static bool host_known(const struct graph_lab *g, const char *name)
{
	for (size_t i = 0; i < g->n_hosts; i++)
		if (strcmp(g->hosts[i].name, name) == 0)
			return true;
	return false;
}

/* The spec checks both ends exist; a store that lost a host draws no path
 * to it (dot would make up a node by that name). */
static bool path_drawn(const struct graph_lab *g, const struct graph_path *p)
{
	return host_known(g, p->from) && host_known(g, p->to);
}

/* ---- dot ---- */

/* `name="value", ...` for the NULL-terminated pairs; a NULL value leaves
 * its pair out. */
static void dot_attrs(struct buf *b, va_list ap)
{
	const char *key, *sep = "";

	buf_puts(b, " [");
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		_cleanup_free_ char *q = NULL;

		if (!value)
			continue;
		q = graph_dot_quote(value);
		buf_printf(b, "%s%s=%s", sep, key, q);
		sep = ", ";
	}
	buf_puts(b, "];\n");
}

/* One statement: `ID [attrs];`, `ID -> ID [attrs];` or, with id NULL, `KIND
 * [attrs];` for graph, node and edge defaults. */
static void dot_stmt(struct buf *b, int depth, const char *kind, const char *id,
		     const char *to, ...)
{
	va_list ap;

	for (int i = 0; i < depth; i++)
		buf_puts(b, "\t");
	if (kind) {
		buf_puts(b, kind);
	} else {
		_cleanup_free_ char *qid = graph_dot_quote(id);

		buf_puts(b, qid);
		if (to) {
			_cleanup_free_ char *qto = graph_dot_quote(to);

			buf_printf(b, " -> %s", qto);
		}
	}
	va_start(ap, to);
	dot_attrs(b, ap);
	va_end(ap);
}

static void dot_cluster_open(struct buf *b, int depth, const char *id, const char *label)
{
	_cleanup_free_ char *qid = graph_dot_quote(id), *ql = graph_dot_quote(label);

	for (int i = 0; i < depth; i++)
		buf_puts(b, "\t");
	buf_printf(b, "subgraph %s {\n", qid);
	for (int i = 0; i <= depth; i++)
		buf_puts(b, "\t");
	buf_printf(b, "label=%s;\n", ql);
}

static void dot_close(struct buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		buf_puts(b, "\t");
	buf_puts(b, "}\n");
}

static void dot_guest(struct buf *b, int depth, const struct graph_lab *g,
		      const struct graph_guest *gu, bool known)
{
	_cleanup_free_ char *id = xasprintf("guest:%s", gu->name);
	_cleanup_free_ char *label = label_guest(g, gu, known);
	const char *fill = type_colour(gu->type);

	dot_stmt(b, depth, NULL, id, NULL, "label", label, "shape", "box", "style",
		 gu->by_hand ? "rounded,dashed,filled" : "rounded,filled", "fillcolor",
		 fill ? fill : "#f3f4f6", NULL);
}

static void dot_host(struct buf *b, const struct graph_lab *g, const struct graph_host *h)
{
	_cleanup_free_ char *cid = xasprintf("cluster_host_%s", h->name);
	_cleanup_free_ char *cl = xasprintf("host %s", h->name);
	_cleanup_free_ char *id = xasprintf("host:%s", h->name);
	_cleanup_free_ char *label = label_host(g, h);

	dot_cluster_open(b, 2, cid, cl);
	dot_stmt(b, 3, NULL, id, NULL, "label", label, "shape", "box3d", NULL);
	for (size_t i = 0; i < g->n_guests; i++)
		if (strcmp(g->guests[i].host, h->name) == 0)
			dot_guest(b, 3, g, &g->guests[i], true);
	dot_close(b, 2);
}

static void dot_network(struct buf *b, const struct graph_lab *g)
{
	_cleanup_free_ char *label = label_network(g);

	dot_cluster_open(b, 1, "cluster_network", label);
	for (size_t i = 0; i < g->n_hosts; i++)
		dot_host(b, g, &g->hosts[i]);
	for (size_t i = 0; i < g->n_guests; i++)
		if (!host_known(g, g->guests[i].host))
			dot_guest(b, 2, g, &g->guests[i], false);
	dot_close(b, 1);
}

static void dot_disk(struct buf *b, const struct graph_lab *g)
{
	_cleanup_free_ char *label = label_disk(g);

	dot_stmt(b, 1, NULL, "disk:shared", NULL, "label", label, "shape", "cylinder", NULL);
	for (size_t i = 0; i < g->n_hosts; i++) {
		_cleanup_free_ char *id = xasprintf("host:%s", g->hosts[i].name);

		dot_stmt(b, 1, NULL, id, "disk:shared", "style", "dotted", "dir", "none", NULL);
	}
}

static void dot_paths(struct buf *b, const struct graph_lab *g)
{
	for (size_t i = 0; i < g->n_paths; i++) {
		const struct graph_path *p = &g->paths[i];
		_cleanup_free_ char *from = xasprintf("host:%s", p->from);
		_cleanup_free_ char *to = xasprintf("host:%s", p->to);
		_cleanup_free_ char *label = label_path(p);

		if (path_drawn(g, p))
			dot_stmt(b, 1, NULL, from, to, "label", label, "style", "dashed", "color",
				 "#b45309", "dir", p->back_and_forth ? "both" : NULL, NULL);
	}
}

char *graph_dot(const struct graph_lab *g)
{
	_cleanup_free_ char *title = label_lab(g), *qname = graph_dot_quote(g->lab);
	struct buf b = { 0 };

	buf_printf(&b, "digraph %s {\n", qname);
	dot_stmt(&b, 1, "graph", NULL, NULL, "label", title, "labelloc", "t", "fontname",
		 "Helvetica", NULL);
	dot_stmt(&b, 1, "node", NULL, NULL, "fontname", "Helvetica", "fontsize", "11", NULL);
	dot_stmt(&b, 1, "edge", NULL, NULL, "fontname", "Helvetica", "fontsize", "10", NULL);
	dot_network(&b, g);
	if (g->shared_vg)
		dot_disk(&b, g);
	dot_paths(&b, g);
	buf_puts(&b, "}\n");
	return buf_steal(&b);
}

/* ---- mermaid ---- */

/* Mermaid's ids are bare words (a name like "a--b" would read as a link),
 * so nodes are numbered: h0.. hosts' dom0s, hc0.. their boxes, g0.. guests. */
static void mm_line(struct buf *b, int depth, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void mm_line(struct buf *b, int depth, const char *fmt, ...)
{
	va_list ap;
	char *text;

	for (int i = 0; i < depth; i++)
		buf_puts(b, "  ");
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	buf_puts(b, text);
	buf_puts(b, "\n");
	free(text);
}

/* label is allocated, and taken. */
static void mm_subgraph(struct buf *b, int depth, const char *id, char *label)
{
	_cleanup_free_ char *q = graph_mermaid_quote(label);

	mm_line(b, depth, "subgraph %s[%s]", id, q);
	free(label);
}

static void mm_guest(struct buf *b, int depth, const struct graph_lab *g, size_t i, bool known)
{
	_cleanup_free_ char *label = label_guest(g, &g->guests[i], known);
	_cleanup_free_ char *q = graph_mermaid_quote(label);

	mm_line(b, depth, "g%zu(%s)", i, q);
}

static void mm_host(struct buf *b, const struct graph_lab *g, size_t i)
{
	const struct graph_host *h = &g->hosts[i];
	_cleanup_free_ char *id = xasprintf("hc%zu", i);
	_cleanup_free_ char *label = label_host(g, h), *q = graph_mermaid_quote(label);

	mm_subgraph(b, 3, id, xasprintf("host %s", h->name));
	mm_line(b, 4, "h%zu[%s]", i, q);
	for (size_t k = 0; k < g->n_guests; k++)
		if (strcmp(g->guests[k].host, h->name) == 0)
			mm_guest(b, 4, g, k, true);
	mm_line(b, 3, "end");
}

static size_t host_index(const struct graph_lab *g, const char *name)
{
	size_t i = 0;

	while (i < g->n_hosts && strcmp(g->hosts[i].name, name) != 0)
		i++;
	return i;
}

static void mm_edges(struct buf *b, const struct graph_lab *g)
{
	for (size_t i = 0; g->shared_vg && i < g->n_hosts; i++)
		mm_line(b, 1, "h%zu -.- disk", i);
	for (size_t i = 0; i < g->n_paths; i++) {
		const struct graph_path *p = &g->paths[i];
		_cleanup_free_ char *label = label_path(p), *q = graph_mermaid_quote(label);

		if (path_drawn(g, p))
			mm_line(b, 1, "h%zu %s.->|%s| h%zu", host_index(g, p->from),
				p->back_and_forth ? "<-" : "-", q, host_index(g, p->to));
	}
}

static void mm_classes(struct buf *b, const struct graph_lab *g)
{
	for (size_t t = 0; t < ARRAY_SIZE(type_colours); t++)
		mm_line(b, 1, "classDef %s fill:%s", type_colours[t].type, type_colours[t].fill);
	mm_line(b, 1, "classDef hand stroke-dasharray:4 3");
	for (size_t i = 0; i < g->n_guests; i++) {
		if (type_colour(g->guests[i].type))
			mm_line(b, 1, "class g%zu %s", i, g->guests[i].type);
		if (g->guests[i].by_hand)
			mm_line(b, 1, "class g%zu hand", i);
	}
}

char *graph_mermaid(const struct graph_lab *g)
{
	struct buf b = { 0 };

	buf_puts(&b, "flowchart TB\n");
	mm_subgraph(&b, 1, "lab", label_lab(g));
	mm_subgraph(&b, 2, "net", label_network(g));
	for (size_t i = 0; i < g->n_hosts; i++)
		mm_host(&b, g, i);
	for (size_t i = 0; i < g->n_guests; i++)
		if (!host_known(g, g->guests[i].host))
			mm_guest(&b, 3, g, i, false);
	mm_line(&b, 2, "end");
	if (g->shared_vg) {
		_cleanup_free_ char *label = label_disk(g), *q = graph_mermaid_quote(label);

		mm_line(&b, 2, "disk[(%s)]", q);
	}
	mm_line(&b, 1, "end");
	mm_edges(&b, g);
	mm_classes(&b, g);
	return buf_steal(&b);
}
