/* What every page of `report --html` is made of, and where it goes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "report_html.h"
#include "report_int.h"
#include "util.h"
#include "version.h"

/* No url(), no @import, no font from anywhere: the page is read offline
 * and fetches nothing. */
const char page_css[] =
	"body{font:14px/1.45 sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;"
	"color:#222;background:#fff}"
	"h1{font-size:22px;margin:0 0 8px}"
	"h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #ddd}"
	"h3{font-size:15px;margin:16px 0 6px}"
	"nav a{margin-right:14px;color:#1565c0}"
	"dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}"
	"dl.meta dt{font-weight:bold;color:#555}dl.meta dd{margin:0}"
	"table{border-collapse:collapse;margin:8px 0}"
	"th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}"
	".pass,.ok,.passed{background:#d7efd8}"
	".fail,.failed,.bringup-failed{background:#f8d4d4}"
	".notrun,.skipped{background:#eee;color:#666}"
	".running,.interrupted{background:#ffe9c7}"
	"tr.test.ok,tr.test.failed{background:none}"
	".here{outline:3px solid #1565c0;outline-offset:-3px}"
	".status{padding:1px 8px;border-radius:3px;font-weight:bold}"
	"pre{white-space:pre-wrap;word-break:break-word;max-height:360px;overflow:auto;"
	"margin:4px 0;padding:6px;background:#fafafa;border:1px solid #e5e5e5;font-size:12px}"
	".note{background:#fff8e1;border:1px solid #ffe082;padding:8px 12px}"
	".caption,.small{color:#555;font-size:12px;font-weight:normal}"
	"figure{margin:8px 0}svg{max-width:100%;height:auto;display:block}"
	"summary{cursor:pointer}";

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	return vasprintf(&s, fmt, ap) < 0 ? xstrdup("") : s;
}

void page_header_begin(struct html *h, const char *fmt, ...)
{
	_cleanup_free_ char *title = NULL;
	va_list ap;

	va_start(ap, fmt);
	title = vfmt(fmt, ap);
	va_end(ap);
	html_open(h, "header", "header", NULL);
	html_elem(h, "h1", NULL, title);
	html_open(h, "dl", NULL, "meta");
}

void page_meta(struct html *h, const char *term, const char *value, const char *cls)
{
	_cleanup_free_ char *c = cls ? xasprintf("status %s", cls) : NULL;

	html_elem(h, "dt", NULL, term);
	html_open(h, "dd", NULL, NULL);
	html_elem(h, "span", c, value ? value : "-");
	html_close(h);
}

void page_meta_fmt(struct html *h, const char *term, const char *fmt, ...)
{
	_cleanup_free_ char *value = NULL;
	va_list ap;

	va_start(ap, fmt);
	value = vfmt(fmt, ap);
	va_end(ap);
	page_meta(h, term, value, NULL);
}

void page_header_end(struct html *h)
{
	page_meta(h, "written by", "xlab " XLAB_VERSION, NULL);
	html_close(h);
	html_close(h);
}

void page_section(struct html *h, const char *id, const char *title)
{
	html_open(h, "section", id, NULL);
	html_elem(h, "h2", NULL, title);
}

void page_link(struct html *h, const char *id, const char *text)
{
	_cleanup_free_ char *href = xasprintf("#%s", id);

	html_open(h, "a", NULL, NULL);
	html_attr(h, "href", href);
	html_text(h, text);
	html_close(h);
}

void page_note(struct html *h, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = vfmt(fmt, ap);
	va_end(ap);
	html_elem(h, "p", "note", text);
}

void page_picture(struct html *h, const char *svg, size_t len, const char *prefix)
{
	_cleanup_free_ char *el = NULL;
	struct xerr e = { 0 };

	if (svg_inline(svg, len, prefix, &el, &e) < 0) {
		page_note(h, "The picture could not be put in the page: %s", e.msg);
		return;
	}
	html_open(h, "figure", NULL, "picture");
	html_svg(h, el);
	html_close(h);
}

void page_row_heads(struct html *h, const char *const *heads, size_t n)
{
	html_open(h, "tr", NULL, NULL);
	for (size_t i = 0; i < n; i++)
		html_elem(h, "th", NULL, heads[i]);
	html_close(h);
}

void page_secs(struct html *h, int64_t ms)
{
	html_open(h, "td", NULL, "num");
	html_textf(h, "%.1f", (double)ms / 1000);
	html_close(h);
}

int report_html_dir_check(const char *dir, struct xerr *e)
{
	struct stat st;

	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return xerr_set(e, XERR_USAGE, "--html '%s' is not a directory: name a directory "
				"(made if missing) for the page's index.html", dir);
	return 0;
}

int page_write(const char *dir, const char *page, size_t len, char **path, struct xerr *e)
{
	_cleanup_free_ char *file = xasprintf("%s/index.html", dir);

	if (report_html_dir_check(dir, e) < 0)
		return -1;
	if (mkdir_p(dir, 0755, e) < 0 || file_write_atomic(file, page, len, 0644, e) < 0)
		return xerr_prefix(e, "the page cannot go into '%s' (give --html a directory "
				   "you can write)", dir);
	*path = steal_ptr(file);
	return 0;
}
