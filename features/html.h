/* An HTML page as `xlab report --html` writes it: libxml2's text writer
 * underneath, so every text and attribute value is escaped by the library
 * (after text_xml() made it something XML can carry), and a test output
 * such as "</pre><script>" stays text. Pictures come in as SVG elements
 * svg_inline() made.
 *
 * Errors stick, as with a FILE: the first write that fails is kept and the
 * rest are skipped; html_end reports it. */
#ifndef XLAB_HTML_H
#define XLAB_HTML_H

#include <stddef.h>

#include "err.h"

struct html;

/* <!DOCTYPE html>, <head> with the title and css (our own text, written as
 * it is), and <body> opened. */
struct html *html_begin(const char *title, const char *css);
/* <tag id="id" class="cls"> (either may be NULL); close it with html_close. */
void html_open(struct html *h, const char *tag, const char *id, const char *cls);
/* One more attribute of the element just opened (before anything in it). */
void html_attr(struct html *h, const char *name, const char *value);
/* Ends the innermost open element with an end tag, never as "<div/>",
 * which an HTML parser reads as an opening tag. */
void html_close(struct html *h);
/* <tag class="cls">text</tag>; text NULL is an empty element. */
void html_elem(struct html *h, const char *tag, const char *cls, const char *text);
void html_text(struct html *h, const char *text);
void html_textf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An <svg> element from svg_inline(), written as it is. */
void html_svg(struct html *h, const char *svg);
/* Closes what is open and hands the page over (allocated, *len bytes). */
int html_end(struct html *h, char **out, size_t *len, struct xerr *e);
/* Frees h, whether or not html_end ran. */
void html_free(struct html *h);

/* The SVG document svg (len bytes) as an element that can sit in a page
 * beside others: parsed by libxml2 (no network, no DTD or entity loaded),
 * without what could run code or fetch anything (script, foreignObject,
 * style elements, on* attributes, links and url() that leave the picture,
 * comments, processing instructions), and every id, with each reference to
 * it, prefixed by "prefix-" so two pictures' ids cannot meet. The <svg>
 * root element only, allocated, in *out. */
int svg_inline(const char *svg, size_t len, const char *prefix, char **out, struct xerr *e);

#endif
