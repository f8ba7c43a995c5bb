/* The store on a real sqlite file in a temporary directory. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

static char dir[] = "/tmp/xlab-test-db-XXXXXX";
static char path[256];
static struct db *db;

static void setup(void)
{
	struct xerr e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xlab.db", dir);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	db_close(db);
	rm_rf(dir, &e);
}

TestSuite(db, .init = setup, .fini = teardown);

Test(db, migrates_to_current_schema_in_wal_mode)
{
	sqlite3 *h;
	sqlite3_stmt *st;

	cr_assert_eq(db_schema_version(db), db_schema_latest());
	cr_assert_geq(db_schema_latest(), 1);
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(h);
	char *ok = db_integrity_check(db);
	cr_assert_str_eq(ok, "ok");
	free(ok);
}

Test(db, reopening_keeps_data_and_version)
{
	struct xerr e = { 0 };
	struct db_lab *l = NULL;

	cr_assert_eq(db_lab_upsert(db, "demo", "lab.yaml", "abc", "10.80.0.0/24", "up", &e), 0);
	db_close(db);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_schema_version(db), db_schema_latest());
	cr_assert_eq(db_lab_get(db, "demo", &l, &e), 0);
	cr_assert_not_null(l);
	cr_assert_str_eq(l->subnet, "10.80.0.0/24");
	db_lab_free(l);
}

Test(db, refuses_a_newer_schema)
{
	struct xerr e = { 0 };
	struct db *other = NULL;
	sqlite3 *h;

	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	cr_assert_eq(db_open(path, &other, &e), -1);
	cr_assert_not_null(strstr(e.msg, "schema version 99 is newer"), "%s", e.msg);
}

Test(db, runs_and_steps_record_status_and_duration)
{
	struct xerr e = { 0 };
	int64_t run, step, step2;
	struct db_run *runs = NULL;
	struct db_step *steps = NULL;
	size_t n = 0;

	cr_assert_eq(db_run_begin(db, "demo", "up", "sha", &run, &e), 0, "%s", e.msg);
	cr_assert_eq(db_step_begin(db, run, "host.define", "h1", &step, &e), 0);
	usleep(20 * 1000);
	cr_assert_eq(db_step_end(db, step, "ok", NULL, &e), 0);
	cr_assert_eq(db_step_begin(db, run, "host.start", "h1", &step2, &e), 0);
	cr_assert_eq(db_step_end(db, step2, "failed", "boom", &e), 0);
	cr_assert_eq(db_run_end(db, run, "failed", "boom", &e), 0);

	cr_assert_eq(db_runs_list(db, "demo", 0, &runs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(runs[0].status, "failed");
	cr_assert_str_eq(runs[0].spec_sha256, "sha");
	cr_assert_eq(runs[0].steps, 2);
	cr_assert_eq(runs[0].steps_failed, 1);
	cr_assert_geq(runs[0].duration_ms, 20);
	cr_assert_eq(runs[0].pid, getpid());
	db_runs_free(runs, n);

	cr_assert_eq(db_steps_list(db, run, &steps, &n, &e), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(steps[0].name, "host.define");
	cr_assert_geq(steps[0].duration_ms, 20);
	cr_assert_str_eq(steps[1].message, "boom");
	/* The second step began after the first ended: the timeline's order. */
	cr_assert_geq(steps[0].offset_ms, 0);
	cr_assert_geq(steps[1].offset_ms, steps[0].offset_ms + steps[0].duration_ms);
	db_steps_free(steps, n);
}

Test(db, runs_filter_by_lab_newest_first_with_limit)
{
	struct xerr e = { 0 };
	int64_t a, b, c;
	struct db_run *runs = NULL;
	size_t n = 0;

	db_run_begin(db, "a", "up", NULL, &a, &e);
	db_run_begin(db, "b", "up", NULL, &b, &e);
	db_run_begin(db, "a", "down", NULL, &c, &e);
	cr_assert_eq(db_runs_list(db, "a", 0, &runs, &n, &e), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(runs[0].id, c);
	cr_assert_eq(runs[1].id, a);
	cr_assert_eq(runs[0].duration_ms, -1, "a running run has no duration");
	db_runs_free(runs, n);
	cr_assert_eq(db_runs_list(db, NULL, 1, &runs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(runs[0].id, c);
	db_runs_free(runs, n);
}

Test(db, a_killed_run_is_marked_interrupted)
{
	struct xerr e = { 0 };
	int64_t run, step, other;
	struct db_run *r = NULL;

	db_run_begin(db, "demo", "up", NULL, &run, &e);
	db_step_begin(db, run, "host.boot", "h1", &step, &e);
	db_run_begin(db, "else", "up", NULL, &other, &e);
	cr_assert_eq(db_runs_mark_interrupted(db, "demo", &e), 0);
	cr_assert_eq(db_run_get(db, run, &r, &e), 0);
	cr_assert_str_eq(r->status, "interrupted");
	db_runs_free(r, 1);
	cr_assert_eq(db_run_get(db, other, &r, &e), 0);
	cr_assert_str_eq(r->status, "running", "another lab's run is not touched");
	db_runs_free(r, 1);
	cr_assert_eq(db_run_get(db, 4242, &r, &e), -1);
	cr_assert_not_null(strstr(e.msg, "no run 4242"));
}

Test(db, hosts_and_guests_upsert_by_lab_and_name)
{
	struct xerr e = { 0 };
	struct db_host h = { .lab = "demo", .name = "h1", .mac = "02:00:00:00:00:01",
			     .ip = "10.80.0.10", .state = "defined" };
	struct db_guest g = { .lab = "demo", .host = "h1", .name = "web1", .state = "created" };
	struct db_host *hs = NULL;
	struct db_guest *gs = NULL;
	size_t n = 0;

	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	h.state = "up";
	h.libvirt_uuid = "1234";
	cr_assert_eq(db_host_upsert(db, &h, &e), 0);
	h.lab = "other";
	cr_assert_eq(db_host_upsert(db, &h, &e), 0);
	cr_assert_eq(db_hosts_list(db, "demo", &hs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(hs[0].state, "up");
	cr_assert_str_eq(hs[0].libvirt_uuid, "1234");
	cr_assert_null(hs[0].image);
	db_hosts_free(hs, n);

	cr_assert_eq(db_guest_upsert(db, &g, &e), 0);
	g.state = "up";
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0);
	cr_assert_eq(db_guests_list(db, "demo", &gs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(gs[0].state, "up");
	db_guests_free(gs, n);
}

/* A host rebuilt takes its guests along; only the guests on that host (or
 * in that lab) change, and removed ones are no longer listed. */
Test(db, guests_set_state_by_host_or_whole_lab)
{
	struct xerr e = { 0 };
	struct db_guest gs_in[] = {
		{ .lab = "demo", .host = "h1", .name = "a", .state = "up" },
		{ .lab = "demo", .host = "h2", .name = "b", .state = "up" },
		{ .lab = "other", .host = "h1", .name = "c", .state = "up" },
	};
	struct db_guest *gs = NULL;
	size_t n = 0;

	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(db_guest_upsert(db, &gs_in[i], &e), 0, "%s", e.msg);
	cr_assert_eq(db_guests_set_state(db, "demo", "h1", "removed", &e), 0, "%s", e.msg);
	cr_assert_eq(db_guests_list(db, "demo", &gs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(gs[0].name, "b");
	cr_assert_str_eq(gs[0].state, "up");
	db_guests_free(gs, n);

	cr_assert_eq(db_guests_set_state(db, "demo", NULL, "removed", &e), 0, "%s", e.msg);
	cr_assert_eq(db_guests_list(db, "demo", &gs, &n, &e), 0);
	cr_assert_eq(n, 0);
	db_guests_free(gs, n);
	cr_assert_eq(db_guests_list(db, "other", &gs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(gs[0].state, "up");
	db_guests_free(gs, n);
	/* Made again (up), it is listed again. */
	cr_assert_eq(db_guest_upsert(db, &gs_in[0], &e), 0, "%s", e.msg);
	cr_assert_eq(db_guests_list(db, "demo", &gs, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(gs[0].name, "a");
	db_guests_free(gs, n);
}

/* `xlab matrix` killed with SIGKILL: its row says "running" with a pid that
 * is gone; whoever reads it next sees (and records) "interrupted". A live
 * matrix (this process) stays running. */
Test(db, a_dead_matrix_reads_as_interrupted)
{
	struct xerr e = { 0 };
	struct db_matrix m = { .spec_path = "m.yaml", .tests = "[]" };
	struct db_matrix_cell c = { .xen = "4.17", .lab = "m-x4-17", .status = "running" };
	struct db_matrix *got = NULL;
	struct db_matrix_cell *cells = NULL;
	size_t n = 0;
	int64_t live, dead, cid;
	sqlite3 *h;
	char *sql;
	pid_t child = fork();

	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	cr_assert_eq(db_matrix_begin(db, &m, &live, &e), 0, "%s", e.msg);
	cr_assert_eq(db_matrix_begin(db, &m, &dead, &e), 0, "%s", e.msg);
	c.matrix_id = dead;
	cr_assert_eq(db_matrix_cell_add(db, &c, &cid, &e), 0, "%s", e.msg);
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	sql = sqlite3_mprintf("UPDATE matrices SET pid = %d WHERE id = %lld", (int)child,
			      (long long)dead);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(sql);
	sqlite3_close(h);

	cr_assert_eq(db_matrix_get(db, live, &got, &e), 0, "%s", e.msg);
	cr_assert_str_eq(got->status, "running");
	db_matrix_free(got);
	cr_assert_eq(db_matrix_get(db, dead, &got, &e), 0, "%s", e.msg);
	cr_assert_str_eq(got->status, "interrupted");
	cr_assert_not_null(got->ended);
	db_matrix_free(got);
	cr_assert_eq(db_matrix_cells_list(db, dead, &cells, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(cells[0].status, "interrupted");
	db_matrix_cells_free(cells, n);
}

/* A report finds the matrix a run belongs to through the cell that names it. */
Test(db, the_cell_of_a_run)
{
	struct xerr e = { 0 };
	struct db_matrix m = { .spec_path = "m.yaml", .tests = "[]" };
	struct db_matrix_cell c = { .xen = "4.20", .lab = "m-x4-20", .status = "running" };
	struct db_matrix_cell *got = NULL;
	int64_t mid, cid, run, other;

	cr_assert_eq(db_matrix_begin(db, &m, &mid, &e), 0, "%s", e.msg);
	c.matrix_id = mid;
	cr_assert_eq(db_matrix_cell_add(db, &c, &cid, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "m-x4-20", "up", NULL, &run, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "demo", "up", NULL, &other, &e), 0, "%s", e.msg);
	c.id = cid;
	c.run_id = run;
	c.status = "passed";
	cr_assert_eq(db_matrix_cell_update(db, &c, &e), 0, "%s", e.msg);

	cr_assert_eq(db_matrix_cell_of_run(db, run, &got, &e), 0, "%s", e.msg);
	cr_assert_not_null(got);
	cr_assert_eq(got->matrix_id, mid);
	cr_assert_str_eq(got->xen, "4.20");
	db_matrix_cells_free(got, 1);
	cr_assert_eq(db_matrix_cell_of_run(db, other, &got, &e), 0, "%s", e.msg);
	cr_assert_null(got, "a run of no matrix has no cell");
}

/* A lab that is down keeps its subnet for its next up: the pool must not
 * hand it to another lab meanwhile. */
Test(db, subnets_in_use_include_labs_that_are_down)
{
	struct xerr e = { 0 };
	char **used = NULL;

	db_lab_upsert(db, "a", NULL, NULL, "10.90.1.0/24", "up", &e);
	db_lab_upsert(db, "b", NULL, NULL, "10.90.2.0/24", "partial", &e);
	db_lab_upsert(db, "c", NULL, NULL, "10.90.3.0/24", "up", &e);
	cr_assert_eq(db_lab_set_state(db, "c", "down", &e), 0);
	cr_assert_eq(db_subnets_in_use(db, &used, &e), 0);
	cr_assert_eq(strv_len(used), 3);
	cr_assert_str_eq(used[0], "10.90.1.0/24");
	cr_assert_str_eq(used[1], "10.90.2.0/24");
	cr_assert_str_eq(used[2], "10.90.3.0/24");
	strv_free(used);
}

Test(db, test_results_belong_to_their_run)
{
	struct xerr e = { 0 };
	int64_t run;
	struct db_test_result t = { .name = "ping", .kind = "run", .target = "h1",
				    .passed = false, .duration_ms = 42, .output = "exit 1" };
	struct db_test_result *v = NULL;
	struct db_run *r = NULL;
	size_t n = 0;

	db_run_begin(db, "demo", "up", NULL, &run, &e);
	t.run_id = run;
	cr_assert_eq(db_test_result_add(db, &t, &e), 0, "%s", e.msg);
	t.name = "console";
	t.passed = true;
	cr_assert_eq(db_test_result_add(db, &t, &e), 0);
	cr_assert_eq(db_test_results_list(db, run, &v, &n, &e), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].name, "ping");
	cr_assert_not(v[0].passed);
	cr_assert(v[1].passed);
	cr_assert_eq(v[0].duration_ms, 42);
	db_test_results_free(v, n);
	cr_assert_eq(db_run_get(db, run, &r, &e), 0);
	cr_assert_eq(r->tests, 2);
	cr_assert_eq(r->tests_failed, 1);
	db_runs_free(r, 1);
}

struct holder {
	const char *path;
	sem_t locked;
};

static void *hold_write_lock(void *arg)
{
	struct holder *hd = arg;
	sqlite3 *h;

	sqlite3_open(hd->path, &h);
	sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sem_post(&hd->locked);
	usleep(300 * 1000);
	sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(h);
	return NULL;
}

Test(db, a_second_writer_waits_instead_of_failing)
{
	struct xerr e = { 0 };
	struct holder hd = { .path = path };
	pthread_t t;
	int64_t run, t0;

	sem_init(&hd.locked, 0, 0);
	pthread_create(&t, NULL, hold_write_lock, &hd);
	sem_wait(&hd.locked);
	t0 = now_ms();
	cr_assert_eq(db_run_begin(db, "demo", "up", NULL, &run, &e), 0, "%s", e.msg);
	cr_assert_geq(now_ms() - t0, 200, "the write went through while another held the lock");
	pthread_join(t, NULL);
}

/* Issue 24: `down` forgets a lab's hosts and guests, so a lab made again
 * under that name from another spec lists only its own. */
Test(db, forgotten_nodes_are_not_listed_by_a_new_lab_of_that_name)
{
	struct xerr e = { 0 };
	struct db_host src = { .lab = "mig", .name = "src", .ip = "10.94.2.10", .state = "up" };
	struct db_host dst = { .lab = "mig", .name = "dst", .ip = "10.94.2.11", .state = "up" };
	struct db_host h1 = { .lab = "mig", .name = "h1", .ip = "10.85.0.10", .state = "up" };
	struct db_host keep = { .lab = "other", .name = "src", .state = "up" };
	struct db_guest g = { .lab = "mig", .host = "src", .name = "vm", .state = "up" };
	struct db_host *hs = NULL;
	struct db_guest *gs = NULL;
	size_t n = 0;

	cr_assert_eq(db_host_upsert(db, &src, &e), 0, "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &dst, &e), 0, "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &keep, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_forget_nodes(db, "mig", &e), 0, "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &h1, &e), 0, "%s", e.msg);
	cr_assert_eq(db_hosts_list(db, "mig", &hs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(hs[0].name, "h1");
	db_hosts_free(hs, n);
	cr_assert_eq(db_guests_list(db, "mig", &gs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 0);
	db_guests_free(gs, n);
	cr_assert_eq(db_hosts_list(db, "other", &hs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	db_hosts_free(hs, n);
}

/* Issue 17 point 5: a lab made by one command is never adopted by another
 * while it is up; once down, anyone may make it again. */
Test(db, lab_claim_refuses_a_lab_made_otherwise)
{
	struct xerr e = { 0 };
	struct db_lab *l = NULL;

	cr_assert_eq(db_lab_claim(db, "demo-x4-17", "spec", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo-x4-17", "/a.yaml", "x", "10.1.0.0/24", "up", &e), 0,
		     "%s", e.msg);
	cr_assert_eq(db_lab_claim(db, "demo-x4-17", "matrix", &e), -1);
	cr_assert(strstr(e.msg, "made by `xlab up` of a spec, not by `xlab matrix`"), "%s",
		  e.msg);
	cr_assert_eq(db_lab_get(db, "demo-x4-17", &l, &e), 0, "%s", e.msg);
	cr_assert_str_eq(l->made_by, "spec");
	cr_assert_str_eq(l->spec_path, "/a.yaml");
	db_lab_free(l);
	/* Its own maker takes it again. */
	cr_assert_eq(db_lab_claim(db, "demo-x4-17", "spec", &e), 0, "%s", e.msg);
	/* A class copy's name taken by a user's lab. */
	cr_assert_eq(db_lab_claim(db, "demo-x4-17", "class", &e), -1);
	/* Down: free for anyone. */
	cr_assert_eq(db_lab_set_state(db, "demo-x4-17", "down", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_claim(db, "demo-x4-17", "matrix", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_get(db, "demo-x4-17", &l, &e), 0, "%s", e.msg);
	cr_assert_str_eq(l->made_by, "matrix");
	db_lab_free(l);
	/* A new name is recorded as down until its maker brings it up. */
	cr_assert_eq(db_lab_claim(db, "fresh", "class", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_get(db, "fresh", &l, &e), 0, "%s", e.msg);
	cr_assert_str_eq(l->made_by, "class");
	cr_assert_str_eq(l->state, "down");
	db_lab_free(l);
}

/* The store holds runs, test output and lab details: root's alone, also when
 * an older xlab left it world-readable. */
Test(db, store_file_is_private)
{
	char mdir[] = "/tmp/xlab-db-mode-XXXXXX";
	_cleanup_free_ char *dbp = NULL, *wal = NULL;
	struct db *d = NULL;
	struct xerr e = { 0 };
	struct stat st;
	mode_t old = umask(022);

	cr_assert_not_null(mkdtemp(mdir));
	dbp = xasprintf("%s/xlab.db", mdir);
	wal = xasprintf("%s-wal", dbp);
	cr_assert_eq(db_open(dbp, &d, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(dbp, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "xlab.db is %04o", st.st_mode & 0777);
	if (stat(wal, &st) == 0)
		cr_assert_eq(st.st_mode & 0777, 0600, "xlab.db-wal is %04o", st.st_mode & 0777);
	db_close(d);
	cr_assert_eq(chmod(dbp, 0644), 0);
	cr_assert_eq(db_open(dbp, &d, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(dbp, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "an old xlab.db stays %04o", st.st_mode & 0777);
	db_close(d);
	umask(old);
	rm_rf(mdir, &e);
}

/* A snapshot keeps the lab's guest rows as they were; a revert puts them
 * back: a guest made since is forgotten, one removed since is known again,
 * another lab's rows are never touched. */
Test(db, snapshot_keeps_and_restores_the_guest_rows)
{
	struct xerr e = { 0 };
	struct db_guest g1 = { .lab = "lab", .host = "h1", .name = "g1", .ip = "10.0.0.50",
			       .state = "up", .made_by = "spec" };
	struct db_guest hand = { .lab = "lab", .host = "h1", .name = "hand", .state = "up",
				 .made_by = "hand" };
	struct db_guest other = { .lab = "other", .host = "h1", .name = "o1", .state = "up" };
	struct db_snapshot s = { .lab = "lab", .name = "s1", .hosts = "h1,h2",
				 .created = "2026-12-07T02:00:00Z", .duration_ms = 4200 };
	struct db_snapshot *got = NULL, *all = NULL;
	struct db_guest *gs = NULL;
	size_t n = 0;

	cr_assert_eq(db_guest_upsert(db, &g1, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &other, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_add(db, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_add(db, &s, &e), -1, "a name is taken once");

	/* After the snapshot: g1 destroyed, a guest made by hand. */
	cr_assert_eq(db_guest_delete(db, "lab", "g1", &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &hand, &e), 0, "%s", e.msg);

	cr_assert_eq(db_snapshot_get(db, "lab", "s1", &got, &e), 1, "%s", e.msg);
	cr_assert_str_eq(got->hosts, "h1,h2");
	cr_assert_eq(got->guests, 1);
	cr_assert_eq(got->duration_ms, 4200);
	db_snapshots_free(got, 1);
	cr_assert_eq(db_snapshot_get(db, "lab", "nope", &got, &e), 0, "%s", e.msg);
	cr_assert_null(got);

	cr_assert_eq(db_snapshot_restore_guests(db, "lab", "s1", &e), 0, "%s", e.msg);
	cr_assert_eq(db_guests_list(db, "lab", &gs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(gs[0].name, "g1");
	cr_assert_str_eq(gs[0].ip, "10.0.0.50");
	cr_assert_str_eq(gs[0].made_by, "spec");
	db_guests_free(gs, n);
	cr_assert_eq(db_guests_list(db, "other", &gs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	db_guests_free(gs, n);

	cr_assert_eq(db_snapshots_list(db, "lab", &all, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	db_snapshots_free(all, n);
	/* down forgets them with the lab's hosts and guests. */
	cr_assert_eq(db_lab_forget_nodes(db, "lab", &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_get(db, "lab", "s1", &got, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_add(db, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_delete(db, "lab", NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshots_list(db, "lab", &all, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 0);
	db_snapshots_free(all, n);
}
