/* The pieces the pages of `report --html` share (report_page.c): the
 * style, the header, sections, notes, pictures, and writing the file. */
#ifndef XLAB_REPORT_INT_H
#define XLAB_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "html.h"

extern const char page_css[];

/* <header id="header"><h1>TITLE</h1><dl>, then a term and its value per
 * page_meta; page_header_end adds the xlab that wrote the page and closes
 * both. cls (or NULL) colours the value: a status's name. */
void page_header_begin(struct html *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void page_meta(struct html *h, const char *term, const char *value, const char *cls);
void page_meta_fmt(struct html *h, const char *term, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void page_header_end(struct html *h);

/* <section id="id"><h2>title</h2>: the caller adds to it and closes it. */
void page_section(struct html *h, const char *id, const char *title);
/* <a href="#id">text</a>: a link inside the page, the only kind it has. */
void page_link(struct html *h, const char *id, const char *text);
/* <p class="note">: why something is not there. */
void page_note(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The SVG document as a <figure> of the page (svg_inline, ids prefixed by
 * prefix), or a note saying why it could not be. */
void page_picture(struct html *h, const char *svg, size_t len, const char *prefix);
/* <tr> of <th>s. */
void page_row_heads(struct html *h, const char *const *heads, size_t n);
/* A <td> of seconds from milliseconds, one decimal. */
void page_secs(struct html *h, int64_t ms);

/* dir/index.html (dir made when missing) holds the page; *path is it. */
int page_write(const char *dir, const char *page, size_t len, char **path, struct xerr *e);

#endif
