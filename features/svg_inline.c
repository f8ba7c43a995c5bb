/* A picture made fit to sit inside the page. Graphviz and gnuplot write
 * whole documents (an XML declaration, a DOCTYPE naming a DTD on the web,
 * comments) whose ids are the same from one picture to the next (gnuplot's
 * "gpPt1", Graphviz's "node1"): a page holding two would resolve each
 * "#gpPt1" to the first. The tree is read and written by libxml2, never
 * edited as text. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "util.h"

/* What runs code, styles the page around the picture, or changes an
 * attribute (a link's target) after the picture is read. */
static bool element_dropped(const xmlNode *n)
{
	static const char *const names[] = { "script", "foreignObject", "style", "iframe",
					     "object", "embed", "set", "animate",
					     "animateMotion", "animateTransform", "handler" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp((const char *)n->name, names[i]))
			return true;
	return false;
}

/* "url(#a) url(#b)" with each local reference prefixed; NULL when a url()
 * points anywhere else (a file, the web): that attribute goes. */
static char *urls_prefixed(const char *v, const char *prefix)
{
	struct buf b = { 0 };
	const char *p = v, *u;

	while ((u = strstr(p, "url("))) {
		const char *ref = u + 4;

		ref += strspn(ref, " \t'\"");
		if (*ref != '#') {
			buf_free(&b);
			return NULL;
		}
		buf_append(&b, p, (size_t)(ref + 1 - p));
		buf_printf(&b, "%s-", prefix);
		p = ref + 1;
	}
	buf_puts(&b, p);
	return buf_steal(&b);
}

static void attr_set(xmlNode *n, xmlAttr *a, const char *value)
{
	xmlSetNsProp(n, a->ns, a->name, BAD_CAST value);
}

/* One attribute: kept, prefixed or removed. */
static void attr_clean(xmlNode *n, xmlAttr *a, const char *prefix)
{
	const char *name = (const char *)a->name;
	xmlChar *raw = xmlNodeGetContent((xmlNode *)a);
	const char *v = raw ? (const char *)raw : "";
	_cleanup_free_ char *nv = NULL;

	if (!strncasecmp(name, "on", 2)) {
		xmlRemoveProp(a);
	} else if (!strcmp(name, "id")) {
		nv = xasprintf("%s-%s", prefix, v);
		attr_set(n, a, nv);
	} else if (!strcmp(name, "href") || !strcmp(name, "src")) {
		if (v[0] == '#') {
			nv = xasprintf("#%s-%s", prefix, v + 1);
			attr_set(n, a, nv);
		} else {
			xmlRemoveProp(a);
		}
	} else if (strstr(v, "url(")) {
		nv = urls_prefixed(v, prefix);
		if (nv)
			attr_set(n, a, nv);
		else
			xmlRemoveProp(a);
	}
	xmlFree(raw);
}

/* Keeps elements and their text; drops the rest (comments, processing
 * instructions, entity references, the dropped elements). */
static void tree_clean(xmlNode *n, const char *prefix)
{
	xmlNode *c, *next;

	for (xmlAttr *a = n->properties, *an; a; a = an) {
		an = a->next;
		attr_clean(n, a, prefix);
	}
	for (c = n->children; c; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE && !element_dropped(c)) {
			tree_clean(c, prefix);
		} else if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

int svg_inline(const char *svg, size_t len, const char *prefix, char **out, struct xerr *e)
{
	xmlDoc *doc;
	xmlNode *root;
	xmlBuffer *b = NULL;
	int rc = -1;

	*out = NULL;
	if (len > INT_MAX)
		return xerr_set(e, XERR_FAIL, "a picture of %zu bytes is too large for the page", len);
	doc = xmlReadMemory(svg, (int)len, "picture.svg", "UTF-8",
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || strcmp((const char *)root->name, "svg") != 0) {
		xerr_set(e, XERR_FAIL, "the picture is not an SVG document libxml2 can read");
		goto out;
	}
	tree_clean(root, prefix);
	b = xmlBufferCreate();
	if (!b || xmlNodeDump(b, doc, root, 0, 0) < 0) {
		xerr_set(e, XERR_FAIL, "writing the picture into the page failed (libxml2)");
		goto out;
	}
	*out = xstrndup((const char *)xmlBufferContent(b), (size_t)xmlBufferLength(b));
	rc = 0;
out:
	if (b)
		xmlBufferFree(b);
	xmlFreeDoc(doc);
	return rc;
}
