/* `xlab report --compare` and `--plot` through the real xlab binary, against
 * a scratch store (XLAB_HOME) holding two recorded experiment runs; the plots
 * are drawn by the real gnuplot and read back with libxml2. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clirun.h"
#include "db.h"
#include "spawn.h"
#include "util.h"

static char home[] = "/tmp/xlab-report-cli-XXXXXX";
static char *home_env, *plot_dir;

struct round {
	const char *name;
	bool ok;
	int64_t wall_ms, downtime_ms;
};

static void record(struct db *db, int64_t run, const struct round *r, size_t n)
{
	struct xerr e = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct db_experiment_round x = {
			.run_id = run, .experiment = r[i].name, .round = (int)i + 1, .guest = "mig1",
			.src = "h1", .dst = "h2", .ok = r[i].ok, .wall_ms = r[i].wall_ms,
			.downtime_ms = r[i].downtime_ms, .came_back = r[i].ok,
			.pings_sent = 100, .pings_answered = 90,
		};

		cr_assert_eq(db_experiment_round_add(db, &x, &e), 0, "%s", e.msg);
	}
}

static void steps(struct db *db, int64_t run, const char *test, const char *step,
		  const int64_t *ms, size_t n)
{
	struct xerr e = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct db_action_step s = { .run_id = run, .test = test, .step = step,
					    .round = (int)i + 1, .ok = ms[i] >= 0,
					    .duration_ms = ms[i] >= 0 ? ms[i] : 900 };

		cr_assert_eq(db_action_step_add(db, &s, &e), 0, "%s", e.msg);
	}
}

/* Runs 1 and 2 are experiments (pingpong in both, only_a in 1 only, a
 * failed pingpong round in 2), run 3 an `up` without rounds; runs 4 and 5
 * `up`s with test actions (xl save faster in 5, xl restore in 4 only, one
 * failed ping round in 5). */
static void setup(void)
{
	static const struct round a[] = {
		{ "pingpong", true, 31000, 7200 }, { "pingpong", true, 34000, 7400 },
		{ "pingpong", true, 16000, 3000 }, { "only_a", true, 10000, 1000 },
	};
	static const struct round b[] = {
		{ "pingpong", true, 20000, 2000 }, { "pingpong", false, 90000, 60000 },
		{ "pingpong", true, 22000, 2400 }, { "pingpong", true, 24000, 2600 },
	};
	_cleanup_free_ char *dbp = NULL;
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t id;

	cr_assert(mkdtemp(home));
	dbp = xasprintf("%s/xlab.db", home);
	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "mig", "experiment", "x", &id, &e), 0, "%s", e.msg);
	cr_assert_eq(id, 1);
	record(db, id, a, ARRAY_SIZE(a));
	cr_assert_eq(db_run_begin(db, "mig", "experiment", "x", &id, &e), 0, "%s", e.msg);
	record(db, id, b, ARRAY_SIZE(b));
	cr_assert_eq(db_run_begin(db, "mig", "up", "x", &id, &e), 0, "%s", e.msg);
	cr_assert_eq(id, 3);
	cr_assert_eq(db_run_begin(db, "mig", "up", "x", &id, &e), 0, "%s", e.msg);
	steps(db, id, "g1-saverestore", "xl save", (const int64_t[]){ 4000, 2000, 3000 }, 3);
	steps(db, id, "g1-saverestore", "xl restore", (const int64_t[]){ 5000 }, 1);
	steps(db, id, "g1-saverestore", "ping", (const int64_t[]){ 100 }, 1);
	cr_assert_eq(db_run_begin(db, "mig", "up", "x", &id, &e), 0, "%s", e.msg);
	cr_assert_eq(id, 5);
	steps(db, id, "g1-saverestore", "xl save", (const int64_t[]){ 1500, 1500 }, 2);
	steps(db, id, "g1-saverestore", "ping", (const int64_t[]){ -1, 200 }, 2);
	db_close(db);
	home_env = xasprintf("XLAB_HOME=%s", home);
	/* A directory that does not exist yet: --plot makes it. */
	plot_dir = xasprintf("%s/plots/out", home);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(home_env);
	free(plot_dir);
}

TestSuite(report_cli, .init = setup, .fini = teardown, .timeout = 60);

#define xlab(out, err, ...) cli_run((char *[]){ home_env, NULL }, out, err, __VA_ARGS__, NULL)

static bool have_gnuplot(void)
{
	char *argv[] = { "gnuplot", "--version", NULL };
	struct spawn_opts o = { .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r;
	struct xerr e = { 0 };
	bool ok = spawn_run(argv, &o, &r, &e) == 0 && r.status == 0;

	if (ok)
		spawn_result_free(&r);
	return ok;
}

static struct json_object *jpath(struct json_object *o, const char *a, int idx, const char *b)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, a, &v), "no %s", a);
	if (idx >= 0)
		v = json_object_array_get_idx(v, (size_t)idx);
	if (b && v)
		cr_assert(json_object_object_get_ex(v, b, &v), "no %s.%s", a, b);
	return v;
}

Test(report_cli, compare_json)
{
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct json_object *o, *pp, *oa, *sb;

	cr_assert_eq(xlab(&out, &err, "report", "--compare", "1", "2", "--json"), 0, "%s", err);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "not JSON: %s", out);
	pp = json_object_array_get_idx(jpath(o, "experiments", -1, NULL), 0);
	oa = json_object_array_get_idx(jpath(o, "experiments", -1, NULL), 1);
	cr_assert_str_eq(json_object_get_string(jpath(pp, "name", -1, NULL)), "pingpong");
	sb = jpath(pp, "runs", 1, NULL);
	cr_assert_eq(json_object_get_int64(jpath(sb, "rounds", -1, NULL)), 4);
	cr_assert_eq(json_object_get_int64(jpath(sb, "rounds_ok", -1, NULL)), 3);
	cr_assert_eq(json_object_get_int64(jpath(sb, "wall_ms", -1, "median")), 22000);
	cr_assert_eq(json_object_get_int64(jpath(sb, "downtime_ms", -1, "median")), 2400);
	cr_assert_eq(json_object_get_int64(
			     jpath(jpath(pp, "runs", 0, NULL), "wall_ms", -1, "median")),
		     31000);
	cr_assert_eq(json_object_get_int64(
			     jpath(jpath(pp, "runs", 0, NULL), "downtime_ms", -1, "median")),
		     7200);
	cr_assert_eq(json_object_get_int64(jpath(pp, "change", -1, "wall_median_ms")), -9000);
	cr_assert_str_eq(json_object_get_string(jpath(oa, "name", -1, NULL)), "only_a");
	cr_assert_null(jpath(oa, "runs", 1, NULL), "only_a is not in run 2");
	json_object_put(o);
}

Test(report_cli, compare_text)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	cr_assert_eq(xlab(&out, &err, "report", "--compare", "1", "2"), 0, "%s", err);
	cr_assert(strstr(out, "experiments: run 1 -> run 2"), "%s", out);
	cr_assert(strstr(out, "pingpong (rounds ok: 3/3 in run 1, 3/4 in run 2)"), "%s", out);
	cr_assert(strstr(out, "only_a (rounds ok: 1/1 in run 1, not in run 2)"), "%s", out);
	cr_assert(strstr(out, "x0.71 (-9.00 s)"), "%s", out);
}

Test(report_cli, compare_errors)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
	_cleanup_free_ char *out3 = NULL, *err3 = NULL;

	cr_assert_eq(xlab(&out, &err, "report", "--compare", "3", "3"), 1, "%s", err);
	cr_assert(strstr(err, "runs 3 and 3 have no migration rounds and no test actions to "
			      "compare"),
		  "%s", err);
	cr_assert_eq(xlab(&out2, &err2, "report", "--compare", "42", "1", "--json"), 1, "%s",
		     err2);
	cr_assert(strstr(err2, "no run 42"), "%s", err2);
	cr_assert_eq(xlab(&out3, &err3, "report", "--compare", "1"), 2, "%s", err3);
	cr_assert(strstr(err3, "--compare takes two run ids"), "%s", err3);
}

/* Two runs of test actions: each step side by side, the median's change
 * where both runs have a success, `not in this run` where one lacks it. */
Test(report_cli, compare_actions)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *jout = NULL, *jerr = NULL;
	struct json_object *o, *a, *x;

	cr_assert_eq(xlab(&out, &err, "report", "--compare", "4", "5"), 0, "%s", err);
	cr_assert(strstr(out, "actions: run 4 -> run 5"), "%s", out);
	cr_assert_null(strstr(out, "experiments:"), "%s", out);
	cr_assert(strstr(out, "  g1-saverestore\n"), "%s", out);
	cr_assert(strstr(out, "    xl save\n"
			      "                                4  3/3       2.00     3.00     4.00\n"
			      "                                5  2/2       1.50     1.50     1.50"
			      "  x0.50 (-1.50 s)\n"),
		  "%s", out);
	cr_assert(strstr(out, "    xl restore\n"
			      "                                4  1/1       5.00     5.00     5.00\n"
			      "                                5  not in this run\n"),
		  "%s", out);
	cr_assert(strstr(out, "                                5  1/2       0.20     0.20     0.20"
			      "  x2.00 (+0.10 s)\n"),
		  "%s", out);
	cr_assert_eq(xlab(&jout, &jerr, "report", "--compare", "4", "5", "--json"), 0, "%s", jerr);
	o = json_tokener_parse(jout);
	cr_assert_not_null(o, "%s", jout);
	cr_assert(json_object_object_get_ex(o, "actions", &a));
	cr_assert_eq(json_object_array_length(a), 3);
	x = json_object_array_get_idx(a, 0);
	cr_assert_str_eq(json_object_get_string(jpath(x, "step", -1, NULL)), "xl save");
	cr_assert_eq(json_object_get_int64(jpath(x, "median_change_ms", -1, NULL)), -1500);
	cr_assert_eq(json_object_get_int64(jpath(x, "runs", 0, "median")), 3000);
	cr_assert_eq(json_object_get_int64(jpath(x, "runs", 1, "ok")), 2);
	x = json_object_array_get_idx(a, 1);
	cr_assert_str_eq(json_object_get_string(jpath(x, "step", -1, NULL)), "xl restore");
	cr_assert_null(json_object_array_get_idx(jpath(x, "runs", -1, NULL), 1));
	cr_assert_null(jpath(x, "median_change_ms", -1, NULL));
	json_object_put(o);
}

/* Well-formed XML with an <svg> root, or the test fails. */
static void svg_check(const char *path, const char *const want[], size_t n_want)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct xerr e = { 0 };
	xmlDocPtr doc;
	xmlNodePtr root;

	cr_assert_eq(file_read_all(path, 0, &text, &len, &e), 0, "%s", e.msg);
	doc = xmlReadMemory(text, (int)len, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	cr_assert_not_null(doc, "%s is not well-formed XML", path);
	root = xmlDocGetRootElement(doc);
	cr_assert_not_null(root);
	cr_assert_str_eq((const char *)root->name, "svg");
	xmlFreeDoc(doc);
	for (size_t i = 0; i < n_want; i++)
		cr_assert(strstr(text, want[i]), "%s lacks '%s'", path, want[i]);
}

Test(report_cli, plot_one_run)
{
	static const char *const want[] = { "downtime, run 1 (3 of 3 rounds ok)",
					    "wall time, run 1", "pingpong: downtime and wall time",
					    "<path" };
	_cleanup_free_ char *out = NULL, *err = NULL, *pp = NULL, *oa = NULL, *expect = NULL;

	if (!have_gnuplot())
		cr_skip("gnuplot is not installed (apt install gnuplot-nox)");
	cr_assert_eq(xlab(&out, &err, "report", "1", "--plot", plot_dir), 0, "%s", err);
	pp = xasprintf("%s/run1-pingpong.svg", plot_dir);
	oa = xasprintf("%s/run1-only_a.svg", plot_dir);
	expect = xasprintf("%s\n%s\n", pp, oa);
	cr_assert_str_eq(out, expect, "the paths written, one a line");
	svg_check(pp, want, ARRAY_SIZE(want));
	{
		static const char *const want_a[] = { "only_a: downtime", "downtime, run 1 (1 of 1" };

		svg_check(oa, want_a, ARRAY_SIZE(want_a));
	}
}

Test(report_cli, plot_compare)
{
	static const char *const want[] = { "downtime, run 1 (3 of 3 rounds ok)",
					    "downtime, run 2 (3 of 4 rounds ok)", "wall time, run 1",
					    "wall time, run 2", "run 1 vs run 2" };
	_cleanup_free_ char *out = NULL, *err = NULL, *pp = NULL;

	if (!have_gnuplot())
		cr_skip("gnuplot is not installed (apt install gnuplot-nox)");
	cr_assert_eq(xlab(&out, &err, "report", "--compare", "1", "2", "--plot", plot_dir), 0,
		     "%s", err);
	pp = xasprintf("%s/run1-vs-run2-pingpong.svg", plot_dir);
	cr_assert(strstr(out, pp), "%s", out);
	cr_assert(strstr(out, "run1-vs-run2-only_a.svg"), "%s", out);
	svg_check(pp, want, ARRAY_SIZE(want));
}

Test(report_cli, plot_errors)
{
	char *no_path[] = { home_env, "PATH=/nonexistent", NULL };
	_cleanup_free_ char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
	_cleanup_free_ char *out3 = NULL, *err3 = NULL, *svg = NULL;

	cr_assert_eq(cli_run(no_path, &out, &err, "report", "1", "--plot", plot_dir, NULL), 1,
		     "%s", err);
	cr_assert(strstr(err, "gnuplot not found: apt install gnuplot-nox"), "%s", err);
	svg = xasprintf("%s/run1-pingpong.svg", plot_dir);
	cr_assert_not(path_exists(svg));
	cr_assert_eq(xlab(&out2, &err2, "report", "3", "--plot", plot_dir), 1, "%s", err2);
	cr_assert(strstr(err2, "has no migration rounds"), "%s", err2);
	cr_assert_eq(xlab(&out3, &err3, "report", "1", "--plot", plot_dir, "--json"), 2, "%s",
		     err3);
}

/* A run whose steps and tests carry what dom0s and guests print: colours, a
 * screen clear, a title change, a bell, broken UTF-8. */
static void hostile_run(void)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t id, step;
	struct db_test_result t = {
		.name = "h1-\x1b[1mping", .kind = "host", .target = "h1\x07",
		.output = "\x1b[31mFAIL\x1b[0m\x1b]0;owned\x07 \x1b[2J x\x01y \xff\xfe caf\xc3\xa9",
		.passed = false, .duration_ms = 1000,
	};

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "mig", "test", "x", &id, &e), 0, "%s", e.msg);
	cr_assert_eq(id, 6);
	cr_assert_eq(db_step_begin(db, id, "boot\x1b[8m", "h1", &step, &e), 0, "%s", e.msg);
	cr_assert_eq(db_step_end(db, step, "failed", "dom0 said \x1b[2J\x1b[H\x9b" "31m", &e), 0,
		     "%s", e.msg);
	t.run_id = id;
	cr_assert_eq(db_test_result_add(db, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_end(db, id, "failed", "\x1b]52;c;cGF5bG9hZA==\x07", &e), 0, "%s",
		     e.msg);
	db_close(db);
}

static void no_control_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		cr_assert(*p >= 0x20 || *p == '\n' || *p == '\t', "control byte 0x%02x in:\n%s",
			  *p, s);
	cr_assert_null(strstr(s, "\xc2\x9b"), "C1 CSI in:\n%s", s);
}

Test(report_cli, terminal_output_has_no_escapes)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	hostile_run();
	cr_assert_eq(xlab(&out, &err, "report", "6"), 0, "%s", err);
	no_control_chars(out);
	cr_assert(strstr(out, "FAIL"), "%s", out);
	cr_assert(strstr(out, "caf\xc3\xa9"), "%s", out);
}

Test(report_cli, junit_of_hostile_output_is_valid_xml)
{
	_cleanup_free_ char *out = NULL, *err = NULL;
	_cleanup_free_ char *file = xasprintf("%s/junit.xml", home);
	xmlDocPtr doc;

	hostile_run();
	cr_assert_eq(xlab(&out, &err, "report", "6", "--junit", file), 0, "%s", err);
	/* No recovery: one invalid character and libxml2 returns nothing. */
	doc = xmlReadFile(file, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	cr_assert_not_null(doc, "JUnit output is not well-formed XML");
	xmlFreeDoc(doc);
}

/* A run of osstest's host checks: a leak-check that found leftovers and a
 * clean xen-dmesg, both actions on host h1, as labtest stores them. */
static void host_check_run(void)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t id;
	struct db_test_result t[] = {
		{ .name = "h1-leaks", .kind = "action", .target = "h1", .passed = false,
		  .duration_ms = 5900,
		  .output = "leak-check: FAILED, 2 finding(s):\n"
			    "  LV xlab/old is not a guest's\n"
			    "  xenstore /local/domain/42 has no running domain\n"
			    "checked:\n  xl list: Domain-0 (id 0), g1 (id 3)\n" },
		{ .name = "h1-dmesg", .kind = "action", .target = "h1", .passed = true,
		  .duration_ms = 400,
		  .output = "xen-dmesg-clean: passed, nothing found\n"
			    "checked: 84 lines of Xen's in xl dmesg\n" },
	};

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "mig", "test", "x", &id, &e), 0, "%s", e.msg);
	cr_assert_eq(id, 6);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		t[i].run_id = id;
		cr_assert_eq(db_test_result_add(db, &t[i], &e), 0, "%s", e.msg);
	}
	cr_assert_eq(db_run_end(db, id, "failed", "1 of 2 test(s) failed", &e), 0, "%s", e.msg);
	db_close(db);
}

/* Host checks show like other tests: on their host, a failed one's output
 * (each finding) under it, line by line; one JUnit case each, the failure
 * carrying what was found; kind and target in --json. */
Test(report_cli, host_checks_show_like_other_tests)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *junit = NULL, *jerr = NULL;
	_cleanup_free_ char *json = NULL, *jserr = NULL;
	struct json_object *o, *tests, *t0;

	host_check_run();
	cr_assert_eq(xlab(&out, &err, "report", "6"), 0, "%s", err);
	cr_assert(strstr(out, "  h1-leaks                 FAIL action      5.9s  on h1\n"
			      "    leak-check: FAILED, 2 finding(s):\n"
			      "      LV xlab/old is not a guest's\n"
			      "      xenstore /local/domain/42 has no running domain\n"
			      "    checked:\n"),
		  "%s", out);
	cr_assert(strstr(out, "  h1-dmesg                 PASS action      0.4s  on h1\n"), "%s",
		  out);
	cr_assert_eq(xlab(&junit, &jerr, "report", "6", "--junit", "-"), 0, "%s", jerr);
	cr_assert(strstr(junit, "<testcase name=\"h1-leaks\""), "%s", junit);
	cr_assert(strstr(junit, "<failure message=\"test failed\">leak-check: FAILED, 2 "
				"finding(s):\n  LV xlab/old is not a guest's\n"),
		  "%s", junit);
	cr_assert(strstr(junit, "<testcase name=\"h1-dmesg\""), "%s", junit);
	cr_assert_eq(xlab(&json, &jserr, "report", "6", "--json"), 0, "%s", jserr);
	o = json_tokener_parse(json);
	cr_assert_not_null(o, "%s", json);
	cr_assert(json_object_object_get_ex(o, "tests", &tests));
	cr_assert_eq(json_object_array_length(tests), 2);
	t0 = json_object_array_get_idx(tests, 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(t0, "kind")), "action");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(t0, "target")), "h1");
	json_object_put(o);
}

/* A manifest from someone else's export: its strings are shown, not obeyed. */
Test(report_cli, image_list_and_inspect_print_manifest_text_safely)
{
	_cleanup_free_ char *dir = xasprintf("%s/images/xen-4.17", home);
	_cleanup_free_ char *m = xasprintf("%s/manifest.json", dir);
	_cleanup_free_ char *f = xasprintf("%s/root.qcow2", dir);
	_cleanup_free_ char *out = NULL, *err = NULL;
	/* sha256 of the empty file */
	const char *json =
		"{\"name\":\"xen-4.17\",\"xen_version\":\"4.17\\u001b[2J\","
		"\"kernel_version\":\"6.1\\u001b]0;owned\\u0007\",\"suite\":\"\\u009b31m\","
		"\"built\":\"2026\\u0008\",\"packages\":[\"xen\\u001b[8m\"],"
		"\"files\":{\"root.qcow2\":"
		"\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}";
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(m, json, strlen(json), 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(f, "", 0, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(xlab(&out, &err, "image", "list"), 0, "%s", err);
	no_control_chars(out);
	cr_assert(strstr(out, "xen-4.17"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(xlab(&out, &err, "image", "inspect", "xen-4.17"), 0, "%s", err);
	no_control_chars(out);
	cr_assert(strstr(out, "verified:       ok"), "%s", out);
}
