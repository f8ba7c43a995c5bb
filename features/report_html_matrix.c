/* A matrix's page: its table, what each copy ran (image, the versions
 * `xl info` reported inside it), where each copy's bring-up spent its time,
 * and every failure's output. */
#include <inttypes.h>
#include <string.h>

#include "html.h"
#include "matrix_store.h"
#include "report_html.h"
#include "report_int.h"
#include "timeline.h"
#include "util.h"

static void header(struct html *h, const struct mx_view *v)
{
	page_header_begin(h, "xlab report: matrix %" PRId64, v->id);
	page_meta(h, "spec", v->spec_path, NULL);
	page_meta(h, "spec sha256", v->spec_sha256, NULL);
	page_meta(h, "status", v->status, v->status);
	page_meta(h, "started", v->started, NULL);
	page_meta_fmt(h, "copies", "%zu, %zu test(s) each", v->n_cols, v->n_rows);
	page_meta_fmt(h, "run by", "xlab %s", v->xlab_version ? v->xlab_version : "-");
	page_header_end(h);
	html_open(h, "nav", "contents", NULL);
	page_link(h, "matrix", "matrix");
	page_link(h, "columns", "copies");
	page_link(h, "timeline", "bring-up timelines");
	html_close(h);
}

static void column_row(struct html *h, const struct mx_column *c)
{
	_cleanup_free_ char *suite = mx_suite_name(c);
	_cleanup_free_ char *run = c->run_id ? xasprintf("%" PRId64, c->run_id) : xstrdup("-");

	html_open(h, "tr", NULL, NULL);
	html_elem(h, "td", NULL, suite);
	html_elem(h, "td", NULL, c->lab);
	html_elem(h, "td", NULL, c->image ? c->image : "-");
	html_elem(h, "td", NULL, c->xen_version ? c->xen_version : "-");
	html_elem(h, "td", NULL, c->kernel_version ? c->kernel_version : "-");
	page_secs(h, c->bringup_ms);
	html_elem(h, "td", NULL, run);
	html_elem(h, "td", c->status, c->status);
	html_close(h);
}

static void columns(struct html *h, const struct mx_view *v)
{
	static const char *const heads[] = { "column", "lab", "image", "Xen (xl info)",
					     "dom0 kernel", "bring-up (s)", "run", "status" };

	page_section(h, "columns", "Copies");
	html_open(h, "table", "columns-table", NULL);
	page_row_heads(h, heads, ARRAY_SIZE(heads));
	for (size_t i = 0; i < v->n_cols; i++)
		column_row(h, &v->cols[i]);
	html_close(h);
	html_close(h);
}

/* One copy's bring-up: the steps of its `up` run. */
static void column_timeline(struct html *h, struct db *db, const struct mx_column *c, size_t k)
{
	_cleanup_free_ char *suite = mx_suite_name(c), *svg = NULL, *prefix = NULL;
	struct db_run *run = NULL;
	struct db_step *steps = NULL;
	size_t n = 0;
	struct xerr e = { 0 };

	html_open(h, "h3", NULL, NULL);
	html_textf(h, "%s: lab %s, run %" PRId64, suite, c->lab, c->run_id);
	html_close(h);
	if (db_run_get(db, c->run_id, &run, &e) < 0 ||
	    db_steps_list(db, c->run_id, &steps, &n, &e) < 0) {
		page_note(h, "%s", e.msg);
		goto out;
	}
	svg = timeline_svg(steps, n, run->duration_ms, suite);
	prefix = xasprintf("tl%zu", k + 1);
	if (svg)
		page_picture(h, svg, strlen(svg), prefix);
	else
		page_note(h, "The run recorded no step.");
out:
	db_steps_free(steps, n);
	if (run)
		db_runs_free(run, 1);
}

static void timelines(struct html *h, struct db *db, const struct mx_view *v)
{
	page_section(h, "timeline", "Bring-up timelines");
	for (size_t i = 0; i < v->n_cols; i++) {
		if (v->cols[i].run_id)
			column_timeline(h, db, &v->cols[i], i);
		else
			page_note(h, "Column %s has no run.", v->cols[i].lab);
	}
	html_close(h);
}

static char *matrix_page_render(struct db *db, const struct mx_view *v, size_t *len,
				struct xerr *e)
{
	_cleanup_free_ char *title = xasprintf("xlab report: matrix %" PRId64, v->id);
	struct html *h = html_begin(title, page_css);
	char *out = NULL;

	header(h, v);
	page_section(h, "matrix", "Matrix");
	mx_html_table(h, v, 0);
	html_close(h);
	columns(h, v);
	timelines(h, db, v);
	if (html_end(h, &out, len, e) < 0)
		out = NULL;
	html_free(h);
	return out;
}

int report_html_matrix(struct db *db, int64_t matrix_id, const char *dir, char **path,
		       struct xerr *e)
{
	struct mx_view v = { 0 };
	_cleanup_free_ char *page = NULL;
	size_t len = 0;
	int rc = -1;

	if (mx_view_load(db, matrix_id, &v, e) < 0)
		return -1;
	page = matrix_page_render(db, &v, &len, e);
	if (page && page_write(dir, page, len, path, e) == 0)
		rc = 0;
	mx_view_free(&v);
	return rc;
}
