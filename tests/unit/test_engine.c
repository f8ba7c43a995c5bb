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

/* ---- snapshot, revert: what they refuse, and what the store keeps ----
 * libvirt's test driver reads a node file afresh for every connection, so a
 * snapshot taken through one connection is gone from the next: that is the
 * "host remade since the snapshot" case revert must refuse. Snapshots of
 * real hosts are shown by tests/e2e/reference.sh and class.sh. */

#include "names.h"
#include "paths.h"
#include "snapshot.h"
#include "virt.h"

TestSuite(snapshot, .init = scratch_setup, .fini = scratch_teardown);

/* A test-driver node holding the lab's one host, running; extra is more
 * <devices> content. Returns the URI. */
static char *node_with_host(const char *lab, const char *extra)
{
	char id[XLAB_STORE_ID_LEN + 1];
	struct xerr e = { 0 };
	_cleanup_free_ char *dom = NULL, *path = NULL, *xml = NULL;

	cr_assert_eq(xlab_store_id(id, &e), 0, "%s", e.msg);
	dom = names_domain(id, lab, "h1");
	path = xasprintf("%s/node.xml", scratch_home);
	xml = xasprintf("<node><domain type='test'><name>%s</name>"
			"<metadata><xlab:lab xmlns:xlab='" XLAB_XML_NS "' name='%s' store='%s'/>"
			"</metadata><memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
			"<os><type arch='x86_64'>hvm</type></os><devices>%s</devices>"
			"</domain></node>",
			dom, lab, id, extra);
	cr_assert_eq(file_write_atomic(path, xml, strlen(xml), 0600, &e), 0, "%s", e.msg);
	return xasprintf("test://%s", path);
}

static void lab_with_host(const char *lab, const char *state)
{
	struct xerr e = { 0 };
	struct db *db = NULL;
	struct db_host h = { .lab = lab, .name = "h1", .ip = "10.9.0.10", .state = "up" };
	struct db_guest g = { .lab = lab, .host = "h1", .name = "g1", .ip = "10.9.0.50",
			      .state = "up", .made_by = "spec" };

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, lab, "/x/snap.yaml", "00", "10.9.0.0/24", state, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	db_close(db);
}

Test(snapshot, taken_kept_refused_twice_and_removed)
{
	_cleanup_free_ char *uri = node_with_host("snap", "");
	struct snapshot_timing t = { 0 };
	struct db_snapshot *s = NULL;
	struct xerr e = { 0 };
	struct db *db = NULL;

	lab_with_host("snap", "up");
	cr_assert_eq(lab_snapshot("snap", "Bad Name", uri, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE, "%s", e.msg);
	cr_assert_eq(lab_snapshot("snap", "s1", uri, &t, &e), 0, "%s", e.msg);
	cr_assert_geq(t.total_ms, t.paused_ms);

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_get(db, "snap", "s1", &s, &e), 1, "%s", e.msg);
	cr_assert_str_eq(s->hosts, "h1");
	cr_assert_eq(s->guests, 1);
	db_snapshots_free(s, 1);

	cr_assert_eq(lab_snapshot("snap", "s1", uri, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_CONFLICT, "%s", e.msg);
	cr_assert(strstr(e.msg, "already has a snapshot 's1'"), "%s", e.msg);

	cr_assert_eq(lab_revert("snap", "nope", uri, 5, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_NOTFOUND, "%s", e.msg);
	cr_assert(strstr(e.msg, "its snapshots: s1"), "%s", e.msg);
	/* The fresh connection's host has no part of s1: as a host remade
	 * since would; refused before anything is touched. */
	cr_assert_eq(lab_revert("snap", "s1", uri, 5, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_CONFLICT, "%s", e.msg);
	cr_assert(strstr(e.msg, "has no part of snapshot 's1'"), "%s", e.msg);
	cr_assert(strstr(e.msg, "xlab snapshot rm snap s1"), "%s", e.msg);

	cr_assert_eq(lab_snapshot_rm("snap", "s1", uri, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_get(db, "snap", "s1", &s, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_snapshot_rm("snap", "s1", uri, &e), -1);
	cr_assert_eq(e.kind, XERR_NOTFOUND, "%s", e.msg);
	db_close(db);
}

Test(snapshot, a_stopped_lab_or_a_shared_disk_is_refused_before_any_pause)
{
	_cleanup_free_ char *uri = node_with_host(
		"snap", "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
			"<source file='/tmp/shared.raw'/><target dev='vdd' bus='virtio'/>"
			"<shareable/></disk>");
	struct xerr e = { 0 };

	lab_with_host("snap", "stopped");
	cr_assert_eq(lab_snapshot("snap", "s1", uri, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_CONFLICT, "%s", e.msg);
	cr_assert(strstr(e.msg, "`xlab start snap`"), "%s", e.msg);

	lab_with_host("snap", "up");
	cr_assert_eq(lab_snapshot("snap", "s1", uri, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE, "%s", e.msg);
	cr_assert(strstr(e.msg, "disk vdd"), "%s", e.msg);
	cr_assert(strstr(e.msg, "shared storage cannot be snapshotted"), "%s", e.msg);
}

/* A snapshot of hosts the lab no longer has all of cannot bring it back
 * whole: refused, naming both sets, before anything is touched. */
Test(snapshot, a_revert_to_other_hosts_is_refused)
{
	_cleanup_free_ char *uri = node_with_host("snap", "");
	struct db_snapshot s = { .lab = "snap", .name = "two", .hosts = "h1,h2",
				 .created = "2026-12-07T02:00:00Z", .duration_ms = 1 };
	struct xerr e = { 0 };
	struct db *db = NULL;

	lab_with_host("snap", "up");
	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_snapshot_add(db, &s, &e), 0, "%s", e.msg);
	db_close(db);
	cr_assert_eq(lab_revert("snap", "two", uri, 5, NULL, &e), -1);
	cr_assert_eq(e.kind, XERR_CONFLICT, "%s", e.msg);
	cr_assert(strstr(e.msg, "has host(s) h1 now, snapshot 'two' holds h1,h2"), "%s", e.msg);
}
