/* A run's page: what the store has of the run, section by section, each
 * with a stable id (header, topology, timeline, steps, tests, matrix,
 * migration, actions) that tests and readers can point at. */
#include <inttypes.h>
#include <string.h>

#include "action_report.h"
#include "experiment_report.h"
#include "html.h"
#include "matrix_store.h"
#include "report_html.h"
#include "report_int.h"
#include "timeline.h"
#include "util.h"

/* Everything the page shows, loaded before anything is drawn. */
struct run_page {
	struct db *db;
	struct db_run *run;
	struct db_step *steps;
	size_t n_steps;
	struct db_test_result *tests;
	size_t n_tests;
	struct db_matrix_cell *cell; /* the matrix cell the run is, or NULL */
	struct exp_run exp;
	struct action_run act;
};

static int run_page_load(struct db *db, int64_t id, struct run_page *p, struct xerr *e)
{
	p->db = db;
	if (db_run_get(db, id, &p->run, e) < 0 ||
	    db_steps_list(db, id, &p->steps, &p->n_steps, e) < 0 ||
	    db_test_results_list(db, id, &p->tests, &p->n_tests, e) < 0 ||
	    db_matrix_cell_of_run(db, id, &p->cell, e) < 0 || exp_run_load(db, id, &p->exp, e) < 0 ||
	    action_run_load(db, id, &p->act, e) < 0)
		return -1;
	return 0;
}

static void run_page_free(struct run_page *p)
{
	if (p->run)
		db_runs_free(p->run, 1);
	db_steps_free(p->steps, p->n_steps);
	db_test_results_free(p->tests, p->n_tests);
	if (p->cell)
		db_matrix_cells_free(p->cell, 1);
	exp_run_free(&p->exp);
	action_run_free(&p->act);
}

static void header(struct html *h, const struct run_page *p)
{
	const struct db_run *r = p->run;
	_cleanup_free_ char *took = r->duration_ms >= 0 ?
					    xasprintf("%.1f s", (double)r->duration_ms / 1000) :
					    xstrdup("not ended");

	page_header_begin(h, "xlab report: run %" PRId64 " of lab %s", r->id, r->lab);
	page_meta(h, "lab", r->lab, NULL);
	page_meta_fmt(h, "run", "%" PRId64 " (%s)", r->id, r->command);
	page_meta(h, "status", r->status, r->status);
	page_meta(h, "started", r->started, NULL);
	page_meta(h, "duration", took, NULL);
	if (r->message)
		page_meta(h, "message", r->message, NULL);
	if (r->spec_sha256)
		page_meta(h, "spec sha256", r->spec_sha256, NULL);
	if (p->cell)
		page_meta_fmt(h, "matrix", "%" PRId64 ", column xen %s%s%s", p->cell->matrix_id,
			      p->cell->xen, p->cell->guest_type ? "/" : "",
			      p->cell->guest_type ? p->cell->guest_type : "");
	page_header_end(h);
}

static void nav(struct html *h, const struct run_page *p)
{
	html_open(h, "nav", "contents", NULL);
	page_link(h, "topology", "topology");
	page_link(h, "timeline", "timeline");
	page_link(h, "tests", "tests");
	if (p->cell)
		page_link(h, "matrix", "matrix");
	if (p->exp.n_groups)
		page_link(h, "migration", "migration");
	if (p->act.ng)
		page_link(h, "actions", "test actions");
	html_close(h);
}

static void topology(struct html *h, const struct run_page *p)
{
	_cleanup_free_ char *svg = NULL, *caption = NULL;
	struct xerr e = { 0 };
	size_t len = 0;

	page_section(h, "topology", "Topology");
	if (report_topology_svg(p->db, p->run, p->cell, &svg, &len, &caption, &e) < 0) {
		page_note(h, "No picture of the lab: %s", e.msg);
	} else {
		page_picture(h, svg, len, "topo");
		html_elem(h, "p", "caption", caption);
	}
	html_close(h);
}

static void steps_table(struct html *h, const struct run_page *p)
{
	static const char *const heads[] = { "step", "on", "status", "began (s)", "took (s)",
					     "message" };

	html_open(h, "table", "steps", "steps");
	page_row_heads(h, heads, ARRAY_SIZE(heads));
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct db_step *s = &p->steps[i];

		html_open(h, "tr", NULL, NULL);
		html_elem(h, "td", NULL, s->name);
		html_elem(h, "td", NULL, s->target ? s->target : "");
		html_elem(h, "td", s->status, s->status);
		page_secs(h, s->offset_ms);
		if (s->duration_ms >= 0)
			page_secs(h, s->duration_ms);
		else
			html_elem(h, "td", NULL, "-");
		html_elem(h, "td", NULL, s->message ? s->message : "");
		html_close(h);
	}
	html_close(h);
}

static void timeline(struct html *h, const struct run_page *p)
{
	_cleanup_free_ char *title = xasprintf("run %" PRId64 " of %s: steps per host and guest",
					       p->run->id, p->run->lab);
	_cleanup_free_ char *svg = timeline_svg(p->steps, p->n_steps, p->run->duration_ms, title);

	page_section(h, "timeline", "Timeline");
	if (!p->n_steps) {
		page_note(h, "The run recorded no step.");
	} else {
		if (svg)
			page_picture(h, svg, strlen(svg), "tl");
		else
			page_note(h, "The timeline could not be drawn.");
		html_open(h, "details", NULL, NULL);
		html_elem(h, "summary", NULL, "every step");
		steps_table(h, p);
		html_close(h);
	}
	html_close(h);
}

static void test_row(struct html *h, const struct db_test_result *t)
{
	html_open(h, "tr", NULL, t->passed ? "test ok" : "test failed");
	html_elem(h, "td", NULL, t->name);
	html_elem(h, "td", NULL, t->kind ? t->kind : "");
	html_elem(h, "td", NULL, t->target ? t->target : "");
	html_elem(h, "td", t->passed ? "pass" : "fail", t->passed ? "PASS" : "FAIL");
	page_secs(h, t->duration_ms);
	html_open(h, "td", NULL, "output");
	if (t->output && *t->output) {
		/* A failure's output open, a pass's a click away. */
		html_open(h, "details", NULL, NULL);
		if (!t->passed)
			html_attr(h, "open", "open");
		html_elem(h, "summary", NULL, "output");
		html_elem(h, "pre", NULL, t->output);
		html_close(h);
	}
	html_close(h);
	html_close(h);
}

static void tests(struct html *h, const struct run_page *p)
{
	static const char *const heads[] = { "test", "kind", "on", "result", "took (s)",
					     "output" };
	size_t failed = 0;

	for (size_t i = 0; i < p->n_tests; i++)
		failed += !p->tests[i].passed;
	page_section(h, "tests", "Tests");
	if (!p->n_tests) {
		page_note(h, "The run recorded no test result.");
		html_close(h);
		return;
	}
	html_open(h, "p", NULL, NULL);
	html_textf(h, "%zu test(s), %zu failed.", p->n_tests, failed);
	html_close(h);
	html_open(h, "table", "tests-table", "tests");
	page_row_heads(h, heads, ARRAY_SIZE(heads));
	for (size_t i = 0; i < p->n_tests; i++)
		test_row(h, &p->tests[i]);
	html_close(h);
	html_close(h);
}

static void matrix(struct html *h, const struct run_page *p)
{
	struct mx_view v = { 0 };
	struct xerr e = { 0 };

	page_section(h, "matrix", "Matrix");
	if (mx_view_load(p->db, p->cell->matrix_id, &v, &e) < 0)
		page_note(h, "The matrix could not be read: %s", e.msg);
	else
		mx_html_table(h, &v, p->run->id);
	mx_view_free(&v);
	html_close(h);
}

static void migration(struct html *h, const struct run_page *p)
{
	page_section(h, "migration", "Migration experiments");
	for (size_t k = 0; k < p->exp.n_groups; k++) {
		const struct exp_group *g = &p->exp.groups[k];
		_cleanup_free_ char *svg = NULL, *prefix = xasprintf("exp%zu", k + 1);
		struct xerr e = { 0 };
		size_t len = 0;

		html_open(h, "h3", NULL, NULL);
		html_textf(h, "%s: %zu of %zu rounds ok", g->name, g->n_ok, g->n);
		html_close(h);
		if (experiment_plot_svg(&p->exp, g->name, &svg, &len, &e) < 0)
			page_note(h, "No plot: %s", e.msg);
		else
			page_picture(h, svg, len, prefix);
		experiment_report_html(h, &p->exp, g);
	}
	html_close(h);
}

static void actions(struct html *h, const struct run_page *p)
{
	_cleanup_free_ char *svg = action_plot_svg(p->act.v, p->act.n, "seconds per step, each "
						   "round a dot, the median a tick");

	page_section(h, "actions", "Test actions");
	if (svg)
		page_picture(h, svg, strlen(svg), "act");
	action_report_html(h, &p->act);
	html_close(h);
}

static char *run_page_render(const struct run_page *p, size_t *len, struct xerr *e)
{
	_cleanup_free_ char *title = xasprintf("xlab report: run %" PRId64 " of %s", p->run->id,
					       p->run->lab);
	struct html *h = html_begin(title, page_css);
	char *out = NULL;

	header(h, p);
	nav(h, p);
	topology(h, p);
	timeline(h, p);
	tests(h, p);
	if (p->cell)
		matrix(h, p);
	if (p->exp.n_groups)
		migration(h, p);
	if (p->act.ng)
		actions(h, p);
	if (html_end(h, &out, len, e) < 0)
		out = NULL;
	html_free(h);
	return out;
}

int report_html_run(struct db *db, int64_t run_id, const char *dir, char **path,
		    struct xerr *e)
{
	struct run_page p = { 0 };
	_cleanup_free_ char *page = NULL;
	size_t len = 0;
	int rc = -1;

	if (run_page_load(db, run_id, &p, e) < 0)
		goto out;
	page = run_page_render(&p, &len, e);
	if (page && page_write(dir, page, len, path, e) == 0)
		rc = 0;
out:
	run_page_free(&p);
	return rc;
}
