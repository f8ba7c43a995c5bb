/* xlab report RUN | --last LAB [--junit FILE] [--json] [--plot DIR]: a run's
 * steps and test results, as text, JSON, or the JUnit XML CI systems read;
 * xlab report --compare RUN1 RUN2 [--json] [--plot DIR]: two runs'
 * migration experiments and test actions side by side. --plot draws the
 * experiments' CDFs. --html DIR writes one page of a run (or of --matrix N)
 * with its pictures in it. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "db.h"
#include "lab.h"
#include "experiment.h"
#include "action_report.h"
#include "experiment_report.h"
#include "junit.h"
#include "matrix_run.h"
#include "report_html.h"
#include "text.h"
#include "util.h"

struct report {
	struct db_run *run;
	struct db_step *steps;
	size_t n_steps;
	struct db_test_result *tests;
	size_t n_tests;
};

static int report_load(struct db *db, int64_t id, struct report *r, struct xerr *e)
{
	if (db_run_get(db, id, &r->run, e) < 0 ||
	    db_steps_list(db, id, &r->steps, &r->n_steps, e) < 0 ||
	    db_test_results_list(db, id, &r->tests, &r->n_tests, e) < 0)
		return -1;
	return 0;
}

static void report_free(struct report *r)
{
	if (r->run)
		db_runs_free(r->run, 1);
	db_steps_free(r->steps, r->n_steps);
	db_test_results_free(r->tests, r->n_tests);
}

/* A failed test's output under its line: a host check's findings, an
 * action's rounds, each line of it indented like the first. */
static void print_indented(const char *text, const char *indent)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		printf("%s%.*s\n", indent, (int)len, text);
		text += len + (text[len] == '\n');
	}
}

static void report_text(const struct report *r)
{
	const struct db_run *run = r->run;

	/* Messages and test output come from dom0s and guests: tt() keeps
	 * their escape sequences off the user's terminal. */
	printf("run %" PRId64 ": %s %s, %s", run->id, tt(run->command), tt(run->lab),
	       tt(run->status));
	if (run->duration_ms >= 0)
		printf(" in %.1f s", (double)run->duration_ms / 1000.0);
	printf(" (started %s)\n", tt(run->started));
	if (run->message)
		printf("  %s\n", tt(run->message));
	printf("\nsteps:\n");
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct db_step *s = &r->steps[i];
		char t[32] = "-";

		if (s->duration_ms >= 0)
			snprintf(t, sizeof(t), "%.1fs", (double)s->duration_ms / 1000.0);
		printf("  %-16s %-24s %-11s %8s%s%s\n", tt(s->name), tt(s->target), tt(s->status),
		       t, s->message ? "  " : "", tt(s->message));
	}
	if (!r->n_tests)
		return;
	printf("\ntests:\n");
	for (size_t i = 0; i < r->n_tests; i++) {
		const struct db_test_result *t = &r->tests[i];

		printf("  %-24s %-4s %-8s %6.1fs  on %s\n", tt(t->name), t->passed ? "PASS" : "FAIL",
		       tt(t->kind), (double)t->duration_ms / 1000.0, t->target ? tt(t->target) : "-");
		if (!t->passed && t->output)
			print_indented(tt(t->output), "    ");
	}
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void report_json(struct db *db, const struct report *r)
{
	struct xerr ignore = { 0 };

	struct json_object *o = json_object_new_object();
	struct json_object *steps = json_object_new_array(), *tests = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64(r->run->id));
	json_object_object_add(o, "lab", jstr(r->run->lab));
	json_object_object_add(o, "command", jstr(r->run->command));
	json_object_object_add(o, "status", jstr(r->run->status));
	json_object_object_add(o, "message", jstr(r->run->message));
	json_object_object_add(o, "spec_sha256", jstr(r->run->spec_sha256));
	json_object_object_add(o, "started", jstr(r->run->started));
	json_object_object_add(o, "duration_ms", json_object_new_int64(r->run->duration_ms));
	for (size_t i = 0; i < r->n_steps; i++) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "name", jstr(r->steps[i].name));
		json_object_object_add(s, "target", jstr(r->steps[i].target));
		json_object_object_add(s, "status", jstr(r->steps[i].status));
		json_object_object_add(s, "message", jstr(r->steps[i].message));
		json_object_object_add(s, "duration_ms",
				       json_object_new_int64(r->steps[i].duration_ms));
		json_object_array_add(steps, s);
	}
	for (size_t i = 0; i < r->n_tests; i++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "name", jstr(r->tests[i].name));
		json_object_object_add(t, "kind", jstr(r->tests[i].kind));
		json_object_object_add(t, "target", jstr(r->tests[i].target));
		json_object_object_add(t, "passed", json_object_new_boolean(r->tests[i].passed));
		json_object_object_add(t, "duration_ms",
				       json_object_new_int64(r->tests[i].duration_ms));
		json_object_object_add(t, "output", jstr(r->tests[i].output));
		json_object_array_add(tests, t);
	}
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "tests", tests);
	if (action_report_json(db, r->run->id, o, &ignore) < 0)
		xerr_print(&ignore, "xlab: warning");
	if (experiment_report_json(db, r->run->id, o, &ignore) < 0)
		xerr_print(&ignore, "xlab: warning");
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* A run that failed (or was cut short) where no test failed: bring-up
 * went wrong, and CI must not read an empty suite as a pass. */
static bool run_failed_untested(const struct report *r)
{
	if (!r->run->status || !strcmp(r->run->status, "ok") || !strcmp(r->run->status, "running"))
		return false;
	for (size_t i = 0; i < r->n_tests; i++)
		if (!r->tests[i].passed)
			return false;
	return true;
}

static char *failed_steps(const struct report *r)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].status && strcmp(r->steps[i].status, "failed") == 0)
			buf_printf(&b, "%s %s: %s\n", r->steps[i].name,
				   r->steps[i].target ? r->steps[i].target : "",
				   r->steps[i].message ? r->steps[i].message : "failed");
	return b.data ? buf_steal(&b) : xstrdup("");
}

static int report_junit(const struct report *r, const char *path, struct xerr *e)
{
	struct junit_case *cases = xcalloc(r->n_tests + 1, sizeof(*cases));
	_cleanup_free_ char *suite_name = xasprintf("xlab.%s", r->run->lab);
	_cleanup_free_ char *steps = NULL;
	char host[256] = "localhost";
	size_t n;
	int rc;

	gethostname(host, sizeof(host) - 1);
	n = r->n_tests;
	for (size_t i = 0; i < r->n_tests; i++) {
		cases[i] = (struct junit_case){
			.name = r->tests[i].name,
			.classname = suite_name,
			.time_s = (double)r->tests[i].duration_ms / 1000.0,
			.failed = !r->tests[i].passed,
			.message = r->tests[i].passed ? NULL : "test failed",
			.output = r->tests[i].output,
		};
	}
	if (run_failed_untested(r)) {
		steps = failed_steps(r);
		cases[n++] = (struct junit_case){
			.name = r->run->command,
			.classname = suite_name,
			.time_s = r->run->duration_ms > 0 ? (double)r->run->duration_ms / 1000.0 : 0,
			.failed = true,
			.message = r->run->message ? r->run->message : r->run->status,
			.output = steps,
		};
	}
	{
		struct junit_suite s = {
			.name = suite_name,
			.timestamp = r->run->started,
			.hostname = host,
			.cases = cases,
			.n_cases = n,
		};

		rc = junit_write(path, "xlab", &s, 1, e);
	}
	free(cases);
	return rc;
}

static int last_run_of(struct db *db, const char *lab, int64_t *id, struct xerr *e)
{
	struct db_run *runs = NULL;
	size_t n = 0;

	if (lab_require(db, lab, NULL, e) < 0 || db_runs_list(db, lab, 0, &runs, &n, e) < 0)
		return -1;
	/* The last run that did something to report: an up or a test. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(runs[i].command, "down") != 0) {
			*id = runs[i].id;
			db_runs_free(runs, n);
			return 0;
		}
	}
	db_runs_free(runs, n);
	return xerr_set(e, XERR_FAIL, "no run of lab '%s' in the store", lab);
}

static int run_id_parse(const char *s, int64_t *id, struct xerr *e)
{
	char *end;

	*id = strtoll(s, &end, 10);
	if (!*s || *end || *id <= 0)
		return cmd_usage_error(e, "report", "'%s' is not a run id", s);
	return 0;
}

struct report_opts {
	const char *last, *junit, *matrix, *plot, *html;
	bool json, compare;
};

static int run_exists(struct db *db, int64_t id, struct xerr *e)
{
	struct db_run *run = NULL;

	if (db_run_get(db, id, &run, e) < 0)
		return -1;
	db_runs_free(run, 1);
	return 0;
}

static void compare_json_print(const struct exp_run *a, const struct exp_run *b,
			       const struct action_run *aa, const struct action_run *ab)
{
	struct json_object *j = experiment_compare_json(a, b);
	int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE;

	json_object_object_add(j, "actions", action_compare_json(aa, ab));
	printf("%s\n", json_object_to_json_string_ext(j, flags));
	json_object_put(j);
}

/* Prints the runs' comparison (experiments' rounds and test actions' steps,
 * whichever the runs have), or plots the experiments when o->plot is set. */
static int report_compare(const char *arg_a, const char *arg_b, const struct report_opts *o,
			  struct xerr *e)
{
	struct exp_run a = { 0 }, b = { 0 };
	struct action_run aa = { 0 }, ab = { 0 };
	struct db *db = NULL;
	int64_t id_a, id_b;
	int rc = -1;

	if (run_id_parse(arg_a, &id_a, e) < 0 || run_id_parse(arg_b, &id_b, e) < 0)
		return -1;
	if (db_open_default(&db, e) < 0)
		return -1;
	if (o->plot) {
		if (exp_run_load_measured(db, id_a, &a, e) < 0 ||
		    exp_run_load_measured(db, id_b, &b, e) < 0 ||
		    experiment_plot(&a, &b, o->plot, stdout, e) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	if (run_exists(db, id_a, e) < 0 || run_exists(db, id_b, e) < 0 ||
	    exp_run_load(db, id_a, &a, e) < 0 || exp_run_load(db, id_b, &b, e) < 0 ||
	    action_run_load(db, id_a, &aa, e) < 0 || action_run_load(db, id_b, &ab, e) < 0)
		goto out;
	if (!a.n_rounds && !b.n_rounds && !aa.ng && !ab.ng) {
		xerr_set(e, XERR_FAIL,
			 "runs %" PRId64 " and %" PRId64 " have no migration rounds and no test "
			 "actions to compare: `xlab experiment LAB`, or a spec test with "
			 "`action:`, makes them",
			 id_a, id_b);
		goto out;
	}
	if (o->json) {
		compare_json_print(&a, &b, &aa, &ab);
	} else {
		if (a.n_rounds || b.n_rounds)
			experiment_compare_text(&a, &b, stdout);
		if (aa.ng || ab.ng)
			action_compare_text(&aa, &ab, stdout);
	}
	rc = 0;
out:
	action_run_free(&aa);
	action_run_free(&ab);
	exp_run_free(&a);
	exp_run_free(&b);
	db_close(db);
	return rc;
}

static int report_plot(struct db *db, int64_t id, const char *dir, struct xerr *e)
{
	struct exp_run x;
	int rc;

	if (exp_run_load_measured(db, id, &x, e) < 0)
		return -1;
	rc = experiment_plot(&x, NULL, dir, stdout, e);
	exp_run_free(&x);
	return rc;
}

/* The page of a run (run_id) or of a matrix (matrix_id), and where it went.
 * It exits 0 once the page is written, whatever the run's outcome: the
 * page shows that, --junit and the matrix's exit status gate CI. */
static int report_html(struct db *db, const char *dir, int64_t run_id, int64_t matrix_id,
		       struct xerr *e)
{
	_cleanup_free_ char *path = NULL;

	if ((matrix_id ? report_html_matrix(db, matrix_id, dir, &path, e) :
			 report_html_run(db, run_id, dir, &path, e)) < 0)
		return -1;
	printf("wrote %s\n", path);
	return 0;
}

static int matrix_html(const char *dir, int64_t matrix_id, struct xerr *e)
{
	struct db *db = NULL;
	int rc;

	if (db_open_default(&db, e) < 0)
		return -1;
	rc = report_html(db, dir, 0, matrix_id, e);
	db_close(db);
	return rc;
}

/* What goes with what; NULL when the options fit together. */
static const char *opts_conflict(const struct report_opts *o)
{
	if (o->compare && (o->last || o->matrix || o->junit))
		return "--compare takes two run ids (and --json or --plot DIR)";
	if (o->json && o->junit && strcmp(o->junit, "-") == 0)
		return "--junit - and --json would both write to stdout; give --junit a FILE";
	if (o->plot && (o->matrix || o->junit || o->json))
		return "--plot prints the paths it writes: not with --matrix, --junit or --json";
	if (o->html && (o->compare || o->junit || o->json || o->plot))
		return "--html DIR writes one page of a run or a matrix: not with --compare, "
		       "--junit, --json or --plot";
	return NULL;
}

int cmd_report(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "last", required_argument, NULL, 'l' },
		{ "junit", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "matrix", required_argument, NULL, 'm' },
		{ "compare", no_argument, NULL, 'C' },
		{ "plot", required_argument, NULL, 'p' },
		{ "html", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts o = { 0 };
	const char *conflict;
	struct db *db = NULL;
	struct report r = { 0 };
	int64_t id = 0;
	int c, rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.last = optarg;
			break;
		case 'j':
			o.junit = optarg;
			break;
		case 'J':
			o.json = true;
			break;
		case 'm':
			o.matrix = optarg;
			break;
		case 'C':
			o.compare = true;
			break;
		case 'p':
			o.plot = optarg;
			break;
		case 'H':
			o.html = optarg;
			break;
		default:
			return cmd_usage_error(e, "report", "unknown option");
		}
	}
	if ((conflict = opts_conflict(&o)))
		return cmd_usage_error(e, "report", "%s", conflict);
	/* Before the store is read or anything drawn. */
	if (o.html && report_html_dir_check(o.html, e) < 0)
		return -1;
	if (o.compare) {
		if (argc - optind != 2)
			return cmd_usage_error(e, "report", "--compare takes two run ids");
		return report_compare(argv[optind], argv[optind + 1], &o, e);
	}
	if (o.matrix) {
		char *end;

		id = strtoll(o.matrix, &end, 10);
		if (*end || id <= 0 || o.last || optind < argc)
			return cmd_usage_error(e, "report", "--matrix takes one matrix id");
		if (o.html)
			return matrix_html(o.html, id, e);
		return matrix_report(id, o.junit, o.json, e);
	}
	if (!!o.last == (optind < argc) || argc - optind > 1)
		return cmd_usage_error(e, "report", "give a run id or --last LAB");
	if (!o.last && run_id_parse(argv[optind], &id, e) < 0)
		return -1;
	if (db_open_default(&db, e) < 0)
		return -1;
	if (o.last && last_run_of(db, o.last, &id, e) < 0)
		goto out;
	if (o.plot) {
		rc = report_plot(db, id, o.plot, e);
		goto out;
	}
	if (o.html) {
		rc = report_html(db, o.html, id, 0, e);
		goto out;
	}
	if (report_load(db, id, &r, e) < 0)
		goto out;
	if (o.junit && report_junit(&r, o.junit, e) < 0)
		goto out;
	if (o.json) {
		report_json(db, &r);
	} else if (!o.junit || strcmp(o.junit, "-") != 0) {
		report_text(&r);
		if (action_report_text(db, id, stdout, e) < 0 ||
		    experiment_report_text(db, id, stdout, e) < 0)
			goto out;
	}
	rc = 0;
out:
	report_free(&r);
	db_close(db);
	return rc;
}
