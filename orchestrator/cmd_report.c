/* xlab report RUN | --last LAB [--junit FILE] [--json]: a run's steps and
 * test results, as text, JSON, or the JUnit XML CI systems read. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "db.h"
#include "experiment.h"
#include "junit.h"
#include "matrix_run.h"
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

static void report_text(const struct report *r)
{
	const struct db_run *run = r->run;

	printf("run %" PRId64 ": %s %s, %s", run->id, run->command, run->lab, run->status);
	if (run->duration_ms >= 0)
		printf(" in %.1f s", (double)run->duration_ms / 1000.0);
	printf(" (started %s)\n", run->started);
	if (run->message)
		printf("  %s\n", run->message);
	printf("\nsteps:\n");
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct db_step *s = &r->steps[i];
		char t[32] = "-";

		if (s->duration_ms >= 0)
			snprintf(t, sizeof(t), "%.1fs", (double)s->duration_ms / 1000.0);
		printf("  %-16s %-24s %-11s %8s%s%s\n", s->name, s->target ? s->target : "",
		       s->status, t, s->message ? "  " : "", s->message ? s->message : "");
	}
	if (!r->n_tests)
		return;
	printf("\ntests:\n");
	for (size_t i = 0; i < r->n_tests; i++) {
		const struct db_test_result *t = &r->tests[i];

		printf("  %-24s %-4s %-8s %6.1fs  on %s\n", t->name, t->passed ? "PASS" : "FAIL",
		       t->kind, (double)t->duration_ms / 1000.0, t->target ? t->target : "-");
		if (!t->passed && t->output)
			printf("    %s\n", t->output);
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
	if (experiment_report_json(db, r->run->id, o, &ignore) < 0)
		xerr_print(&ignore, "xlab: warning");
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int report_junit(const struct report *r, const char *path, struct xerr *e)
{
	struct junit_case *cases = xcalloc(r->n_tests + 1, sizeof(*cases));
	_cleanup_free_ char *suite_name = xasprintf("xlab.%s", r->run->lab);
	char host[256] = "localhost";
	int rc;

	gethostname(host, sizeof(host) - 1);
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
	{
		struct junit_suite s = {
			.name = suite_name,
			.timestamp = r->run->started,
			.hostname = host,
			.cases = cases,
			.n_cases = r->n_tests,
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

	if (db_runs_list(db, lab, 0, &runs, &n, e) < 0)
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
	return xerr_set(e, XLAB_EXIT_FAIL, "no run of lab '%s' in the store", lab);
}

int cmd_report(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "last", required_argument, NULL, 'l' },
		{ "junit", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "matrix", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *last = NULL, *junit = NULL, *matrix = NULL;
	bool json = false;
	struct db *db = NULL;
	struct report r = { 0 };
	int64_t id = 0;
	int c, rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			last = optarg;
			break;
		case 'j':
			junit = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'm':
			matrix = optarg;
			break;
		default:
			return cmd_usage_error(e, "report", "unknown option");
		}
	}
	if (matrix) {
		char *end;

		id = strtoll(matrix, &end, 10);
		if (*end || id <= 0 || last || optind < argc)
			return cmd_usage_error(e, "report", "--matrix takes one matrix id");
		return matrix_report(id, junit, json, e);
	}
	if (!!last == (optind < argc) || argc - optind > 1)
		return cmd_usage_error(e, "report", "give a run id or --last LAB");
	if (!last) {
		char *end;

		id = strtoll(argv[optind], &end, 10);
		if (*end || id <= 0)
			return cmd_usage_error(e, "report", "'%s' is not a run id", argv[optind]);
	}
	if (db_open_default(&db, e) < 0)
		return -1;
	if (last && last_run_of(db, last, &id, e) < 0)
		goto out;
	if (report_load(db, id, &r, e) < 0)
		goto out;
	if (junit && report_junit(&r, junit, e) < 0)
		goto out;
	if (json) {
		report_json(db, &r);
	} else if (!junit || strcmp(junit, "-") != 0) {
		report_text(&r);
		if (experiment_report_text(db, id, stdout, e) < 0)
			goto out;
	}
	rc = 0;
out:
	report_free(&r);
	db_close(db);
	return rc;
}
