/* The lifecycle as library calls, on a scratch store and libvirt's test
 * driver (which never proves a lab works; it proves what down does with
 * the store, the lock and the errors). And the stop flag the entry points
 * set for the layers below. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "down.h"
#include "lab.h"
#include "scratch.h"
#include "stop.h"
#include "util.h"

#define TEST_URI "test:///default"

TestSuite(down, .init = scratch_setup, .fini = scratch_teardown);

/* A lab the store never had is a typo: refused, nothing recorded. */
Test(down, a_lab_nobody_knows_is_not_found)
{
	struct xerr e = { 0 };
	struct db *db = NULL;
	struct db_run *runs = NULL;
	size_t n = 0;

	cr_assert_eq(lab_down("nolab", TEST_URI, &e), -1);
	cr_assert_eq(e.kind, XERR_NOTFOUND, "%s: %s", xerr_kind_name(e.kind), e.msg);
	cr_assert(strstr(e.msg, "no lab named 'nolab'"), "%s", e.msg);
	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_runs_list(db, "nolab", 10, &runs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 0, "a refused down records no run");
	db_runs_free(runs, n);
	db_close(db);
}

/* A known lab with no libvirt object left (a half-made one): its files and
 * rows go, its state is down, and the run says ok. */
Test(down, a_half_made_lab_goes_down_and_leaves_nothing)
{
	struct xerr e = { 0 };
	struct db *db = NULL;
	struct db_lab *l = NULL;
	struct db_run *runs = NULL;
	struct lab_dirs d = { 0 };
	size_t n = 0;

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo", "/x/demo.yaml", "00", "10.9.0.0/24", "partial", &e),
		     0, "%s", e.msg);
	cr_assert_eq(lab_dirs_get("demo", &d, &e), 0, "%s", e.msg);
	cr_assert(path_exists(d.dir));
	cr_assert_eq(lab_down("demo", TEST_URI, &e), 0, "%s", e.msg);
	cr_assert_not(path_exists(d.dir), "%s is left", d.dir);
	cr_assert_eq(db_lab_get(db, "demo", &l, &e), 0, "%s", e.msg);
	cr_assert_not_null(l);
	cr_assert_str_eq(l->state, "down");
	cr_assert_eq(db_runs_list(db, "demo", 10, &runs, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(runs[0].command, "down");
	cr_assert_str_eq(runs[0].status, "ok");
	db_runs_free(runs, n);
	db_lab_free(l);
	lab_dirs_free(&d);
	db_close(db);
}

/* Another process holds the lab (an up running): down is a conflict, at
 * once, and the lab's files stay. */
Test(down, a_busy_lab_is_a_conflict_and_keeps_its_files)
{
	struct xerr e = { 0 };
	struct db *db = NULL;
	struct lab_dirs d = { 0 };
	int ready[2], hold[2];
	pid_t pid;
	char c;

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo", "/x/demo.yaml", "00", "10.9.0.0/24", "up", &e), 0,
		     "%s", e.msg);
	db_close(db);
	cr_assert_eq(lab_dirs_get("demo", &d, &e), 0, "%s", e.msg);
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(hold), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct xerr ce = { 0 };
		int fd = lab_lock("demo", "up", &ce);

		close(ready[0]);
		close(hold[1]);
		if (write(ready[1], fd >= 0 ? "y" : "n", 1) != 1 || read(hold[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(c, 'y');
	cr_assert_eq(lab_down("demo", TEST_URI, &e), -1);
	cr_assert_eq(e.kind, XERR_CONFLICT, "%s: %s", xerr_kind_name(e.kind), e.msg);
	cr_assert(path_exists(d.dir), "a refused down removed %s", d.dir);
	close(hold[1]);
	waitpid(pid, NULL, 0);
	lab_dirs_free(&d);
}

/* The entry point's choice, seen by the layers below. */
Test(stop, a_signal_at_a_safe_point_sets_the_flag_and_the_process_lives)
{
	cr_assert_not(stop_requested());
	stop_on_signals(STOP_AT_SAFE_POINT);
	cr_assert_eq(raise(SIGTERM), 0);
	cr_assert(stop_requested());
	cr_assert_eq(stop_signal(), SIGTERM);
	/* The first signal is the one reported. */
	cr_assert_eq(raise(SIGINT), 0);
	cr_assert_eq(stop_signal(), SIGTERM);
}

Test(stop, never_ignores_ctrl_c)
{
	stop_on_signals(STOP_NEVER);
	cr_assert_eq(raise(SIGINT), 0);
	cr_assert_not(stop_requested(), "a down is not asked to stop");
}

Test(stop, without_an_entry_point_choice_ctrl_c_kills, .signal = SIGINT)
{
	raise(SIGINT);
	cr_assert_fail("still alive after SIGINT");
}

/* A job that passes signals on takes a hang-up as a stop, unless nohup(1)
 * ignores it; any other command keeps dying of one, as before. */
Test(stop, nohup_keeps_a_hangup_ignored_even_for_a_build)
{
	stop_on_signals(STOP_AND_PASS_ON);
	signal(SIGHUP, SIG_IGN); /* as nohup leaves it; a second choice must not undo it */
	stop_on_signals(STOP_AND_PASS_ON);
	cr_assert_eq(raise(SIGHUP), 0);
	cr_assert_not(stop_requested(), "nohup's ignored SIGHUP was taken over");
}

Test(stop, a_hangup_still_ends_an_up, .signal = SIGHUP)
{
	stop_on_signals(STOP_AT_SAFE_POINT);
	raise(SIGHUP);
	cr_assert_fail("an up survived SIGHUP");
}
