/* `xlab report --html` through the real binary, against a scratch store
 * (XLAB_HOME) holding a lab's `up` run (steps on two hosts and two guests,
 * a passing test, a failing one whose output tries to break out of its
 * <pre>, a test action's rounds, a migration experiment) and a matrix of
 * two copies. Each page is then looked at as a person would:
 * tests/e2e/htmlcheck.py parses it, checks it fetches and runs nothing,
 * opens it in headless Chromium, finds the sections by id in the DOM
 * Chromium built and checks its screenshot is not blank. The same script
 * checks the e2e suite's pages of real labs. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clirun.h"
#include "db.h"
#include "sha256.h"
#include "spawn.h"
#include "util.h"

static char home[] = "/tmp/xlab-report-html-XXXXXX";
static char *home_env;

#define HOSTILE "</pre><script>alert(1)</script><img src=http://example.com/x.png>"

static const char spec_text[] =
	"lab: demo\nxen: \"4.17\"\nnetwork: {subnet: 10.87.0.0/24}\n"
	"storage: {vg: xlab, shared: {vg: shared, size: 1G}}\n"
	"hosts: [{name: h1}, {name: h2}]\n"
	"guests: [{name: web1, host: h1, storage: shared}, {name: db1, host: h2}]\n"
	"tests:\n  - {name: web1-console, guest: web1, expect_console: XLAB-GUEST-UP}\n"
	"  - {name: h1-hostile, host: h1, run: [\"false\"]}\n"
	"  - {name: web1-sr, guest: web1, action: save-restore, repeat: 3}\n"
	"experiments: [{name: pingpong, migrate: {guest: web1, from: h1, to: h2}, rounds: 3}]\n";

/* A step of the up run: began `at` ms after the run, took `ms`. */
struct step {
	const char *name, *target, *status;
	int64_t at, ms;
};

static const struct step up_steps[] = {
	{ "image.verify", "xen-4.17", "ok", 0, 20 },
	{ "keys", NULL, "ok", 20, 5 },
	{ "network.ensure", "xlab-00000000.demo", "ok", 25, 40 },
	{ "host.prepare", "h1", "ok", 70, 300 },
	{ "host.prepare", "h2", "ok", 380, 900 },
	{ "host.boot", "h1", "ok", 1300, 50000 },
	{ "host.boot", "h2", "ok", 1350, 52000 },
	{ "agent.push", "h1", "ok", 51400, 4000 },
	{ "storage.init", "h1", "ok", 55400, 7000 },
	{ "guest.create", "web1", "ok", 62500, 40000 },
	{ "guest.create", "db1", "failed", 63000, 30000 },
	{ "guest.boot", "web1", "ok", 102600, 20000 },
};

static const char *sql_of_steps =
	"UPDATE steps SET t0_ms = (SELECT t0_ms FROM runs WHERE id = ?1) + ?2,"
	" duration_ms = ?3 WHERE id = ?4";

/* The store writes each step's times from the clock as it runs; a bring-up
 * of minutes is made here by moving them. */
static void steps_timed(const char *dbp, int64_t run, const int64_t *ids,
			const struct step *s, size_t n, int64_t run_ms)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	cr_assert_eq(sqlite3_open(dbp, &h), SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sqlite3_prepare_v2(h, sql_of_steps, -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int64(st, 1, run);
		sqlite3_bind_int64(st, 2, s[i].at);
		sqlite3_bind_int64(st, 3, s[i].ms);
		sqlite3_bind_int64(st, 4, ids[i]);
		cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	cr_assert_eq(sqlite3_prepare_v2(h, "UPDATE runs SET duration_ms = ? WHERE id = ?", -1, &st,
					NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, run_ms);
	sqlite3_bind_int64(st, 2, run);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static int64_t run_record(struct db *db, const char *lab, const char *sha, const char *status,
			  int64_t *ids)
{
	struct xerr e = { 0 };
	int64_t run;

	cr_assert_eq(db_run_begin(db, lab, "up", sha, &run, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(up_steps); i++) {
		const struct step *s = &up_steps[i];

		cr_assert_eq(db_step_begin(db, run, s->name, s->target, &ids[i], &e), 0);
		cr_assert_eq(db_step_end(db, ids[i], s->status,
					 strcmp(s->status, "ok") ? "lvcreate: " HOSTILE : NULL, &e),
			     0);
	}
	cr_assert_eq(db_run_end(db, run, status, NULL, &e), 0);
	return run;
}

static void results(struct db *db, int64_t run, bool second_passes)
{
	struct db_test_result t[] = {
		{ .run_id = run, .name = "web1-console", .kind = "console", .target = "web1",
		  .passed = true, .duration_ms = 2500, .output = "XLAB-GUEST-UP web1" },
		{ .run_id = run, .name = "h1-hostile", .kind = "run", .target = "h1",
		  .passed = second_passes, .duration_ms = 400,
		  .output = "exit 1\n" HOSTILE "\nline & <b>bold</b>" },
	};
	struct xerr e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		cr_assert_eq(db_test_result_add(db, &t[i], &e), 0, "%s", e.msg);
}

static void action_and_experiment(struct db *db, int64_t run)
{
	static const int64_t save_ms[] = { 4000, 2500, 3100 };
	struct xerr e = { 0 };

	for (int r = 1; r <= 3; r++) {
		struct db_action_step a = { .run_id = run, .test = "web1-sr", .step = "xl save",
					    .round = r, .ok = r != 2, .duration_ms = save_ms[r - 1] };
		struct db_experiment_round x = {
			.run_id = run, .experiment = "pingpong", .round = r, .guest = "web1",
			.src = r % 2 ? "h1" : "h2", .dst = r % 2 ? "h2" : "h1", .ok = true,
			.wall_ms = 20000 + r * 1000, .downtime_ms = 2000 + r * 300, .came_back = true,
			.pings_sent = 100, .pings_answered = 95, .started = "2026-01-01T00:00:00Z",
		};

		cr_assert_eq(db_action_step_add(db, &a, &e), 0, "%s", e.msg);
		cr_assert_eq(db_experiment_round_add(db, &x, &e), 0, "%s", e.msg);
	}
}

/* Matrix 1: copies demo-x4-17 (passed) and demo-x4-20 (its hostile test
 * failed), runs 2 and 3, made from the lab's spec. */
static void matrix(struct db *db, const char *dbp, const char *spec, const char *sha)
{
	struct db_matrix m = { .spec_path = spec, .spec_sha256 = sha, .xlab_version = "0.1.0",
			       .tests = "[\"web1-console\",\"h1-hostile\"]" };
	static const char *const xen[] = { "4.17", "4.20" };
	struct xerr e = { 0 };
	int64_t mid, ids[ARRAY_SIZE(up_steps)];

	cr_assert_eq(db_matrix_begin(db, &m, &mid, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *lab = xasprintf("demo-x4-%s", xen[i] + 2);
		_cleanup_free_ char *image = xasprintf("xen-%s", xen[i]);
		_cleanup_free_ char *subnet = xasprintf("10.87.%zu.0/24", i + 1);
		struct db_matrix_cell c = { .matrix_id = mid, .xen = xen[i], .lab = lab,
					    .status = "running" };
		int64_t run;

		cr_assert_eq(db_lab_upsert(db, lab, spec, sha, subnet, "down", &e), 0, "%s", e.msg);
		run = run_record(db, lab, sha, i ? "failed" : "ok", ids);
		results(db, run, i == 0);
		steps_timed(dbp, run, ids, up_steps, ARRAY_SIZE(up_steps), 130000);
		cr_assert_eq(db_matrix_cell_add(db, &c, &c.id, &e), 0, "%s", e.msg);
		c = (struct db_matrix_cell){ .id = c.id, .run_id = run, .image = image,
					     .xen_version = i ? "4.20.1" : "4.17.5",
					     .kernel_version = "6.1.0-50-amd64", .bringup_ms = 122600,
					     .status = i ? "failed" : "passed" };
		cr_assert_eq(db_matrix_cell_update(db, &c, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(db_matrix_end(db, mid, "failed", &e), 0, "%s", e.msg);
}

static void setup(void)
{
	_cleanup_free_ char *dbp = NULL, *spec = NULL;
	char sha[SHA256_HEX_LEN + 1];
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t run, ids[ARRAY_SIZE(up_steps)];

	cr_assert(mkdtemp(home));
	dbp = xasprintf("%s/xlab.db", home);
	spec = xasprintf("%s/demo.yaml", home);
	cr_assert_eq(file_write_atomic(spec, spec_text, strlen(spec_text), 0644, &e), 0);
	sha256_hex(spec_text, strlen(spec_text), sha);
	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo", spec, sha, "10.87.0.0/24", "up", &e), 0, "%s",
		     e.msg);
	run = run_record(db, "demo", sha, "failed", ids);
	cr_assert_eq(run, 1);
	results(db, run, false);
	action_and_experiment(db, run);
	steps_timed(dbp, run, ids, up_steps, ARRAY_SIZE(up_steps), 130000);
	matrix(db, dbp, spec, sha);
	/* Copy 01 of a class of that spec (run 4). */
	cr_assert_eq(db_lab_claim(db, "demo-01", "class", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo-01", spec, sha, "10.90.7.0/24", "up", &e), 0, "%s",
		     e.msg);
	cr_assert_eq(run_record(db, "demo-01", sha, "ok", ids), 4);
	db_close(db);
	home_env = xasprintf("XLAB_HOME=%s", home);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(home_env);
}

TestSuite(report_html, .init = setup, .fini = teardown, .timeout = 240);

#define xlab(out, err, ...) cli_run((char *[]){ home_env, NULL }, out, err, __VA_ARGS__, NULL)

/* tests/e2e/htmlcheck.py on the page: its exit status, what it printed in
 * *said. Without Chromium it says so and exits 77 (outside CI only: under
 * CI it fails), which skips the test. */
static int htmlcheck(char **said, const char *page, const char *ids, const char *svgs,
		     const char *text)
{
	_cleanup_free_ char *script = xasprintf("%s/tests/e2e/htmlcheck.py",
						getenv("XLAB_SOURCE_DIR"));
	_cleanup_free_ char *shot = xasprintf("%s.png", page);
	char *argv[] = { "python3", script, (char *)page, "--ids", (char *)ids, "--svg",
			 (char *)svgs, "--text", (char *)text, "--screenshot", shot, NULL };
	struct spawn_opts o = { .capture_stdout = true, .capture_stderr = true,
				.timeout_ms = 200000 };
	struct spawn_result r;
	struct xerr e = { 0 };
	int status;

	cr_assert_eq(spawn_run(argv, &o, &r, &e), 0, "%s", e.msg);
	*said = xasprintf("%s%s", r.out ? r.out : "", r.err ? r.err : "");
	status = r.status;
	spawn_result_free(&r);
	if (status == 77)
		cr_skip_test("chromium is not installed (apt-get install chromium); CI=true fails");
	return status;
}

static void look_at(const char *page, const char *ids, const char *svgs, const char *text)
{
	_cleanup_free_ char *said = NULL;

	cr_assert_eq(htmlcheck(&said, page, ids, svgs, text), 0, "htmlcheck.py %s:\n%s", page,
		     said);
}

static char *page_read(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/index.html", dir);
	char *text = NULL;
	size_t len = 0;
	struct xerr e = { 0 };

	cr_assert_eq(file_read_all(path, 0, &text, &len, &e), 0, "%s", e.msg);
	return text;
}

Test(report_html, a_run_page_as_a_person_sees_it)
{
	_cleanup_free_ char *dir = xasprintf("%s/pages/run", home);
	_cleanup_free_ char *out = NULL, *err = NULL, *page = NULL, *want = NULL, *path = NULL;

	cr_assert_eq(xlab(&out, &err, "report", "--last", "demo", "--html", dir), 0, "%s", err);
	path = xasprintf("%s/index.html", dir);
	want = xasprintf("wrote %s\n", path);
	cr_expect_str_eq(out, want);
	page = page_read(dir);
	/* The hostile output and message are text, never markup. */
	cr_expect_null(strstr(page, "<script"), "a script got into the page");
	cr_expect_null(strstr(page, "<img"), "an image got into the page");
	cr_expect(strstr(page, "<pre>exit 1\n&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
			       "&lt;img src=http://example.com/x.png&gt;\nline &amp; &lt;b&gt;"),
		  "%s", page);
	cr_expect(strstr(page, "<h2>Migration experiments</h2>"), "%s", page);
	cr_expect(strstr(page, "<td class=\"num\">2/3</td>"), "the save rounds: %s", page);
	look_at(path, "header,contents,topology,timeline,steps,tests,migration,actions",
		"topology,timeline,actions", "</pre><script>alert(1)</script>");
}

Test(report_html, a_matrix_copy_page_has_its_matrix)
{
	_cleanup_free_ char *dir = xasprintf("%s/pages/copy", home);
	_cleanup_free_ char *path = xasprintf("%s/index.html", dir);
	_cleanup_free_ char *out = NULL, *err = NULL, *page = NULL;

	cr_assert_eq(xlab(&out, &err, "report", "--last", "demo-x4-20", "--html", dir), 0, "%s",
		     err);
	page = page_read(dir);
	cr_expect(strstr(page, "<td class=\"fail here\" title=\"exit 1\">FAIL 0.4 s</td>"), "%s",
		  page);
	cr_expect(strstr(page, "as `xlab matrix` copies"), "the copy is drawn: %s", page);
	cr_expect(strstr(page, "10.87.2.0/24"), "on the copy's subnet: %s", page);
	look_at(path, "header,topology,timeline,tests,matrix,matrix-table", "topology,timeline",
		"xen-4.20");
}

Test(report_html, a_matrix_page)
{
	_cleanup_free_ char *dir = xasprintf("%s/pages/matrix", home);
	_cleanup_free_ char *path = xasprintf("%s/index.html", dir);
	_cleanup_free_ char *out = NULL, *err = NULL, *page = NULL;

	cr_assert_eq(xlab(&out, &err, "report", "--matrix", "1", "--html", dir), 0, "%s", err);
	page = page_read(dir);
	cr_expect(strstr(page, "<td class=\"pass\">PASS 2.5 s</td>"), "%s", page);
	cr_expect_null(strstr(page, "<script"));
	look_at(path, "header,matrix,matrix-table,columns,timeline", "timeline", "4.20.1");
}

/* A class's copy is drawn as `xlab class` made it: the copy's name and
 * subnet, not the spec's. */
Test(report_html, a_class_copy_is_drawn_as_its_copy)
{
	_cleanup_free_ char *dir = xasprintf("%s/pages/class", home);
	_cleanup_free_ char *out = NULL, *err = NULL, *page = NULL;

	cr_assert_eq(xlab(&out, &err, "report", "4", "--html", dir), 0, "%s", err);
	page = page_read(dir);
	cr_expect(strstr(page, "<p class=\"caption\">Lab demo-01 as `xlab class` copies "), "%s",
		  page);
	cr_expect(strstr(page, ">lab demo-01</text>"), "%s", page);
	cr_expect(strstr(page, "10.90.7.0/24"), "%s", page);
}

/* Without Graphviz the page still comes, a note where the picture was. */
Test(report_html, no_dot_a_note)
{
	_cleanup_free_ char *dir = xasprintf("%s/pages/nodot", home);
	_cleanup_free_ char *out = NULL, *err = NULL, *page = NULL;

	cr_assert_eq(cli_run((char *[]){ home_env, "PATH=/nonexistent", NULL }, &out, &err,
			     "report", "1", "--html", dir, NULL),
		     0, "%s", err);
	page = page_read(dir);
	cr_expect(strstr(page, "<section id=\"topology\"><h2>Topology</h2>\n<p class=\"note\">No "
			       "picture of the lab: Graphviz's dot is not installed: apt-get "
			       "install graphviz"),
		  "%s", page);
	cr_expect(strstr(page, "<section id=\"timeline\">"), "%s", page);
}

Test(report_html, refusals)
{
	_cleanup_free_ char *file = xasprintf("%s/a-file", home);
	_cleanup_free_ char *under = xasprintf("%s/a-file/page", home);
	_cleanup_free_ char *none = xasprintf("%s/pages/none", home);
	char *o[5] = { 0 }, *e[5] = { 0 };
	struct xerr x = { 0 };
	struct stat st;

	cr_assert_eq(file_write_atomic(file, "x", 1, 0644, &x), 0);
	cr_expect_eq(xlab(&o[0], &e[0], "report", "1", "--html", file), 2);
	cr_expect(strstr(e[0], "is not a directory"), "%s", e[0]);
	cr_expect_eq(xlab(&o[1], &e[1], "report", "99", "--html", none), 1);
	cr_expect(strstr(e[1], "no run 99 in the store"), "%s", e[1]);
	cr_expect_neq(stat(none, &st), 0, "nothing made for a run that is not there");
	cr_expect_eq(xlab(&o[2], &e[2], "report", "1", "--html", under), 1);
	cr_expect(strstr(e[2], "the page cannot go into"), "%s", e[2]);
	cr_expect_eq(xlab(&o[3], &e[3], "report", "1", "--html", none, "--json"), 2);
	cr_expect(strstr(e[3], "not with --compare, --junit, --json or --plot"), "%s", e[3]);
	cr_expect_eq(xlab(&o[4], &e[4], "report", "--matrix", "7", "--html", none), 1);
	cr_expect(strstr(e[4], "no matrix 7"), "%s", e[4]);
	for (size_t i = 0; i < 5; i++) {
		free(o[i]);
		free(e[i]);
	}
}

/* The checker itself: a page that fetches and runs, and a blank one, fail. */
Test(report_html, the_checker_sees_a_fetch_a_script_and_a_blank_page)
{
	static const char fetching[] =
		"<!DOCTYPE html><html><head><style>p{background:url(http://x/y.png)}</style>"
		"</head><body><div id=\"tests\"><img src=\"http://example.com/x.png\">"
		"<script>document.title='x'</script><p>text</p></div></body></html>";
	static const char blank[] = "<!DOCTYPE html><html><body><div id=\"tests\"></div>"
				    "</body></html>";
	_cleanup_free_ char *a = xasprintf("%s/fetching.html", home);
	_cleanup_free_ char *b = xasprintf("%s/blank.html", home);
	_cleanup_free_ char *said_a = NULL, *said_b = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(a, fetching, strlen(fetching), 0644, &e), 0);
	cr_assert_eq(file_write_atomic(b, blank, strlen(blank), 0644, &e), 0);
	cr_expect_eq(htmlcheck(&said_a, a, "tests", "", "text"), 1, "%s", said_a);
	cr_expect(strstr(said_a, "<img src='http://example.com/x.png'>: leaves the page"), "%s",
		  said_a);
	cr_expect(strstr(said_a, "a <script> element"), "%s", said_a);
	cr_expect(strstr(said_a, "the style fetches something"), "%s", said_a);
	cr_expect_eq(htmlcheck(&said_b, b, "tests,timeline", "tests", ""), 1, "%s", said_b);
	cr_expect(strstr(said_b, "screenshot looks blank"), "%s", said_b);
	cr_expect(strstr(said_b, "no element id='timeline'"), "%s", said_b);
	cr_expect(strstr(said_b, "id='tests' holds no picture"), "%s", said_b);
}
