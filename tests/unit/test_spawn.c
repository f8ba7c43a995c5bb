/* Child processes fed on their standard input: a child that never reads it
 * is an exit status of the child's, never a SIGPIPE that ends xlab. A stop
 * asked of xlab reaches the child it waits for. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "stop.h"
#include "util.h"

/* More than a pipe holds, so the write meets the closed pipe. */
#define BIG (1u << 20)

Test(spawn, child_that_ignores_stdin_is_no_sigpipe)
{
	char *argv[] = { "true", NULL };
	_cleanup_free_ char *data = xcalloc(BIG, 1);
	struct spawn_opts o = { .stdin_data = data, .stdin_len = BIG };
	struct spawn_result r = { 0 };
	struct xerr e = { 0 };
	sigset_t pending;

	memset(data, 'x', BIG);
	cr_assert_eq(spawn_run(argv, &o, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(r.status, 0);
	sigpending(&pending);
	cr_expect_not(sigismember(&pending, SIGPIPE), "a SIGPIPE was left pending");
	spawn_result_free(&r);
}

Test(spawn, missing_program_with_stdin_is_enoent)
{
	char *argv[] = { "/nonexistent/xlab-no-such-program", NULL };
	struct spawn_opts o = { .stdin_data = "digraph {}\n", .stdin_len = 11 };
	struct spawn_result r = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(spawn_check(argv, &o, &r, &e), -1);
	cr_expect_eq(e.kind, XERR_IO);
	cr_expect_eq(e.sys, ENOENT, "%s", e.msg);
}

/* What the child reads arrives whole. */
Test(spawn, stdin_reaches_the_child)
{
	char *argv[] = { "cat", NULL };
	struct spawn_opts o = { .stdin_data = "a\nb\n", .stdin_len = 4, .capture_stdout = true };
	struct spawn_result r = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(spawn_check(argv, &o, &r, &e), 0, "%s", e.msg);
	cr_expect_str_eq(r.out, "a\nb\n");
	spawn_result_free(&r);
}

/* `kill PID` reaches xlab alone when it leads no process group (a script
 * started it): the stop is handed to the child it waits for, logged or
 * captured, instead of waiting out the child's whole run. */
static void stop_self_soon(void)
{
	pid_t parent = getpid();

	if (fork() == 0) {
		usleep(300 * 1000);
		kill(parent, SIGTERM);
		_exit(0);
	}
}

Test(spawn, a_stop_reaches_the_child, .timeout = 20)
{
	char *argv[] = { "sleep", "30", NULL };
	struct spawn_opts logged = { 0 }, captured = { .capture_stdout = true };
	struct spawn_result r = { 0 };
	struct xerr e = { 0 };
	int64_t t0;

	/* Criterion runs each test in a process of its own: a group's
	 * leader would pass the stop on itself; this one must not. */
	stop_on_signals(STOP_AT_SAFE_POINT);
	for (struct spawn_opts *o = &logged; o; o = o == &logged ? &captured : NULL) {
		t0 = now_ms();
		stop_self_soon();
		cr_assert_eq(spawn_run(argv, o, &r, &e), 0, "%s", e.msg);
		cr_expect_eq(r.status, 128 + SIGTERM, "status %d", r.status);
		cr_expect_lt(now_ms() - t0, 10000, "waited %lld ms", (long long)(now_ms() - t0));
		spawn_result_free(&r);
	}
	cr_expect(stop_requested());
}
