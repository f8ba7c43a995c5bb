/* A matrix as a page section: the table `xlab report --matrix` prints,
 * each cell coloured by its outcome, and every failure's output under it. */
#include <inttypes.h>
#include <string.h>

#include "html.h"
#include "report_html.h"
#include "util.h"

#define BRINGUP_ROW "bring-up"

static const char *state_class(enum mx_state st)
{
	return st == MX_PASS ? "pass" : st == MX_FAIL ? "fail" : "notrun";
}

static void cell(struct html *h, enum mx_state st, int64_t ms, bool here, const char *tip)
{
	_cleanup_free_ char *cls = xasprintf("%s%s", state_class(st), here ? " here" : "");

	html_open(h, "td", NULL, cls);
	if (tip)
		html_attr(h, "title", tip);
	if (st == MX_NOT_RUN)
		html_text(h, "not run");
	else
		html_textf(h, "%s %.1f s", st == MX_PASS ? "PASS" : "FAIL", (double)ms / 1000);
	html_close(h);
}

/* The first line of a failure, for the cell's hover. */
static char *first_line(const char *s)
{
	return s ? xstrndup(s, strcspn(s, "\n")) : NULL;
}

static void header_row(struct html *h, const struct mx_view *v, int64_t here)
{
	html_open(h, "tr", NULL, NULL);
	html_elem(h, "th", NULL, "test");
	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];
		_cleanup_free_ char *suite = mx_suite_name(c);

		html_open(h, "th", NULL, here && c->run_id == here ? "here" : NULL);
		html_text(h, suite);
		if (c->xen_version || c->kernel_version) {
			html_open(h, "div", NULL, "small");
			html_textf(h, "Xen %s, dom0 %s", c->xen_version ? c->xen_version : "-",
				   c->kernel_version ? c->kernel_version : "-");
			html_close(h);
		}
		if (here && c->run_id == here)
			html_elem(h, "div", "small", "this run");
		html_close(h);
	}
	html_close(h);
}

static void bringup_row(struct html *h, const struct mx_view *v, int64_t here)
{
	html_open(h, "tr", NULL, NULL);
	html_elem(h, "th", NULL, BRINGUP_ROW);
	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];
		enum mx_state st = c->up ? MX_PASS : c->run_id || c->message ? MX_FAIL : MX_NOT_RUN;
		_cleanup_free_ char *tip = c->up ? NULL : first_line(c->message);

		cell(h, st, c->bringup_ms, here && c->run_id == here, tip);
	}
	html_close(h);
}

static void test_rows(struct html *h, const struct mx_view *v, int64_t here)
{
	for (size_t r = 0; r < v->n_rows; r++) {
		html_open(h, "tr", NULL, NULL);
		html_elem(h, "th", NULL, v->rows[r]);
		for (size_t i = 0; i < v->n_cols; i++) {
			const struct mx_cell *x = &v->cols[i].cells[r];
			_cleanup_free_ char *tip = x->state == MX_FAIL ? first_line(x->output) : NULL;

			cell(h, x->state, x->ms, here && v->cols[i].run_id == here, tip);
		}
		html_close(h);
	}
}

/* One failed cell's output; the first one under a title. */
static void failure(struct html *h, bool *titled, const char *suite, const char *row,
		    const char *text)
{
	if (!*titled)
		html_elem(h, "h3", NULL, "Failures");
	*titled = true;
	html_open(h, "details", NULL, "failure");
	html_open(h, "summary", NULL, NULL);
	html_textf(h, "%s: %s failed", suite, row);
	html_close(h);
	html_elem(h, "pre", NULL, text && *text ? text : "(no output)");
	html_close(h);
}

static void failures(struct html *h, const struct mx_view *v)
{
	bool titled = false;

	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];
		_cleanup_free_ char *suite = mx_suite_name(c);

		if (!c->up && c->message)
			failure(h, &titled, suite, BRINGUP_ROW, c->message);
		for (size_t r = 0; r < v->n_rows; r++)
			if (c->cells[r].state == MX_FAIL)
				failure(h, &titled, suite, v->rows[r], c->cells[r].output);
	}
}

void mx_html_table(struct html *h, const struct mx_view *v, int64_t here)
{
	html_open(h, "p", NULL, NULL);
	html_textf(h, "Matrix %" PRId64 " of %s, %s, run by xlab %s: %s.", v->id,
		   v->spec_path ? v->spec_path : "-", v->started ? v->started : "-",
		   v->xlab_version ? v->xlab_version : "-", mx_view_passed(v) ? "every cell passed" :
		   "not every cell passed");
	html_close(h);
	html_open(h, "table", "matrix-table", "matrix");
	header_row(h, v, here);
	bringup_row(h, v, here);
	test_rows(h, v, here);
	html_close(h);
	failures(h, v);
}
