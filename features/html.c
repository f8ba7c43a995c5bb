/* The page writer: libxml2's text writer with the few habits HTML needs
 * (end tags always written, void elements self-closed, a line break after
 * block elements so the file reads in an editor). */
#include "html.h"

#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "text.h"
#include "util.h"

/* Deeper than any page of ours nests. */
#define HTML_DEPTH_MAX 32

struct html {
	xmlBufferPtr b;
	xmlTextWriterPtr w;
	bool failed;
	const char *open[HTML_DEPTH_MAX]; /* tag names: string literals of the callers */
	size_t depth;
};

static void check(struct html *h, int rc)
{
	if (rc < 0)
		h->failed = true;
}

/* Elements after which a line break changes nothing on the page. */
static bool is_block(const char *tag)
{
	static const char *const blocks[] = { "html", "head", "body", "title", "style",
					      "section", "div", "header", "nav", "table",
					      "tr", "h1", "h2", "h3", "p", "dl", "details",
					      "ul", "li", "figure" };

	for (size_t i = 0; i < ARRAY_SIZE(blocks); i++)
		if (!strcmp(tag, blocks[i]))
			return true;
	return false;
}

void html_open(struct html *h, const char *tag, const char *id, const char *cls)
{
	if (h->failed)
		return;
	if (h->depth == HTML_DEPTH_MAX) {
		h->failed = true;
		return;
	}
	check(h, xmlTextWriterStartElement(h->w, BAD_CAST tag));
	h->open[h->depth++] = tag;
	if (id)
		html_attr(h, "id", id);
	if (cls)
		html_attr(h, "class", cls);
}

void html_attr(struct html *h, const char *name, const char *value)
{
	_cleanup_free_ char *v = text_xml(value ? value : "");

	if (!h->failed)
		check(h, xmlTextWriterWriteAttribute(h->w, BAD_CAST name, BAD_CAST v));
}

void html_close(struct html *h)
{
	const char *tag;

	if (h->failed || !h->depth)
		return;
	tag = h->open[--h->depth];
	check(h, xmlTextWriterFullEndElement(h->w));
	if (is_block(tag))
		check(h, xmlTextWriterWriteRaw(h->w, BAD_CAST "\n"));
}

void html_text(struct html *h, const char *text)
{
	_cleanup_free_ char *v = text_xml(text);

	if (v && *v && !h->failed)
		check(h, xmlTextWriterWriteString(h->w, BAD_CAST v));
}

void html_textf(struct html *h, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		h->failed = true;
	else
		html_text(h, s);
}

void html_elem(struct html *h, const char *tag, const char *cls, const char *text)
{
	html_open(h, tag, NULL, cls);
	html_text(h, text);
	html_close(h);
}

void html_svg(struct html *h, const char *svg)
{
	if (!h->failed)
		check(h, xmlTextWriterWriteRaw(h->w, BAD_CAST svg));
}

/* A void element: no content, no end tag. */
static void html_void(struct html *h, const char *tag, const char *name, const char *value)
{
	if (h->failed)
		return;
	check(h, xmlTextWriterStartElement(h->w, BAD_CAST tag));
	check(h, xmlTextWriterWriteAttribute(h->w, BAD_CAST name, BAD_CAST value));
	check(h, xmlTextWriterEndElement(h->w));
}

struct html *html_begin(const char *title, const char *css)
{
	struct html *h = xcalloc(1, sizeof(*h));

	h->b = xmlBufferCreate();
	h->w = h->b ? xmlNewTextWriterMemory(h->b, 0) : NULL;
	if (!h->w) {
		h->failed = true;
		return h;
	}
	check(h, xmlTextWriterWriteRaw(h->w, BAD_CAST "<!DOCTYPE html>\n"));
	html_open(h, "html", NULL, NULL);
	html_attr(h, "lang", "en");
	html_open(h, "head", NULL, NULL);
	html_void(h, "meta", "charset", "utf-8");
	/* The page fetches and runs nothing; say so to the browser too, so a
	 * picture that slipped something past svg_inline still cannot. */
	if (!h->failed) {
		check(h, xmlTextWriterStartElement(h->w, BAD_CAST "meta"));
		check(h, xmlTextWriterWriteAttribute(h->w, BAD_CAST "http-equiv",
						     BAD_CAST "Content-Security-Policy"));
		check(h, xmlTextWriterWriteAttribute(
				 h->w, BAD_CAST "content",
				 BAD_CAST "default-src 'none'; style-src 'unsafe-inline'; img-src data:"));
		check(h, xmlTextWriterEndElement(h->w));
	}
	html_elem(h, "title", NULL, title);
	html_open(h, "style", NULL, NULL);
	/* Our own constant: raw, since a style element is not parsed for
	 * entities and "&gt;" would not be ">" there. */
	if (!h->failed)
		check(h, xmlTextWriterWriteRaw(h->w, BAD_CAST css));
	html_close(h);
	html_close(h);
	html_open(h, "body", NULL, NULL);
	return h;
}

int html_end(struct html *h, char **out, size_t *len, struct xerr *e)
{
	while (h->depth && !h->failed)
		html_close(h);
	if (!h->failed)
		check(h, xmlTextWriterFlush(h->w));
	if (h->failed)
		return xerr_set(e, XERR_FAIL, "writing the HTML page failed (libxml2's writer)");
	*len = (size_t)xmlBufferLength(h->b);
	*out = xstrndup((const char *)xmlBufferContent(h->b), *len);
	return 0;
}

void html_free(struct html *h)
{
	if (!h)
		return;
	if (h->w)
		xmlFreeTextWriter(h->w);
	if (h->b)
		xmlBufferFree(h->b);
	free(h);
}
