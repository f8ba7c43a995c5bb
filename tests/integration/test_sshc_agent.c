/* The agent client over sshc against a real sshd on 127.0.0.1 (sshdrun.h):
 * pushing the real xlab-agent, calling it, giving a call up, and the hello
 * that decides whether to push. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_ops.h"
#include "sshc.h"
#include "sshdrun.h"
#include "stop.h"
#include "util.h"

TestSuite(sshc, .init = sshd_setup, .fini = sshd_teardown, .timeout = 120);

/* Criterion does not run .fini for a skipped test. */
#define skip_no_agent()                                                                       \
	do {                                                                                  \
		sshd_teardown();                                                              \
		cr_skip_test("no xlab-agent binary ($XLAB_AGENT or "                          \
			     "$XLAB_BUILD_DIR/agents/xlab-agent) has been built yet");        \
	} while (0)

static char *agent_binary(void)
{
	const char *env = getenv("XLAB_AGENT");
	const char *build = getenv("XLAB_BUILD_DIR");
	char *p;

	if (env && *env)
		return access(env, X_OK) == 0 ? xstrdup(env) : NULL;
	if (!build)
		return NULL;
	p = xasprintf("%s/agents/xlab-agent", build);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* sshd started, and the agent pushed there and opened over a session of
 * its own (*c). */
static struct agent *agent_running(struct sshc **c)
{
	_cleanup_free_ char *local = agent_binary();
	_cleanup_free_ char *remote = path_in("var/lib/xlab-agent/xlab-agent");
	struct agent *ag = NULL;
	struct xerr e = { 0 };

	if (!local)
		skip_no_agent();
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	*c = connect_ok();
	cr_assert_eq(agent_open(*c, local, &ag, NULL, &e), 0, "%s", e.msg);
	return ag;
}

Test(sshc, agent_push_and_call)
{
	_cleanup_free_ char *local = agent_binary();
	_cleanup_free_ char *remote = path_in("var/lib/xlab-agent/xlab-agent");
	struct json_object *args, *argv, *res = NULL, *v;
	struct agent *ag = NULL;
	struct xerr e = { 0 };
	bool pushed = false;
	struct stat st;
	struct sshc *c;

	if (!local)
		skip_no_agent();
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(agent_open(c, local, &ag, &pushed, &e), 0, "%s", e.msg);
	cr_assert(pushed, "nothing at %s, yet no push", remote);
	cr_assert_eq(stat(remote, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0755);
	files_equal(local, remote);

	args = json_object_new_object();
	argv = json_object_new_array();
	json_object_array_add(argv, json_object_new_string("sh"));
	json_object_array_add(argv, json_object_new_string("-c"));
	json_object_array_add(argv, json_object_new_string("echo out 'it''s'; exit 4"));
	json_object_object_add(args, "argv", argv);
	cr_assert_eq(agent_call(ag, AGENT_OP_RUN, args, &res, &e), 0, "%s", e.msg);
	cr_assert(json_object_object_get_ex(res, "status", &v), "%s", json_object_get_string(res));
	cr_assert_eq(json_object_get_int(v), 4);
	cr_assert(json_object_object_get_ex(res, "stdout", &v), "%s", json_object_get_string(res));
	cr_assert_str_eq(json_object_get_string(v), "out its\n");
	json_object_put(res);

	/* The agent's refusal comes back as its own kind, not as text. */
	cr_assert_eq(agent_call(ag, AGENT_OP_RUN, NULL, &res, &e), -1);
	cr_assert_null(res);
	cr_assert_eq(e.kind, XERR_REMOTE, "%s", xerr_kind_name(e.kind));
	cr_assert_eq(e.remote, XERR_USAGE, "%s", xerr_kind_name(e.remote));
	cr_assert_not_null(strstr(e.msg, "agent: run: "), "%s", e.msg);
	/* An error leaves the agent usable. */
	args = json_object_new_object();
	argv = json_object_new_array();
	json_object_array_add(argv, json_object_new_string("true"));
	json_object_object_add(args, "argv", argv);
	cr_assert_eq(agent_call(ag, AGENT_OP_RUN, args, &res, &e), 0, "%s", e.msg);
	json_object_put(res);
	agent_close(ag);
	sshc_free(c);
}

/* Ctrl-C during a call that only waits (a guest's boot): it is given up at
 * once rather than when the dom0 answers, and the session, whose next line
 * would be that late answer, refuses to be used again. */
Test(sshc, a_stop_request_gives_up_an_abandonable_call)
{
	struct json_object *args, *argv, *res = NULL;
	struct xerr e = { 0 };
	struct sshc *c;
	struct agent *ag = agent_running(&c);
	int64_t t0;
	pid_t killer;

	stop_on_signals(STOP_AT_SAFE_POINT);
	killer = fork();
	cr_assert_geq(killer, 0);
	if (killer == 0) {
		usleep(500 * 1000);
		kill(getppid(), SIGINT);
		_exit(0);
	}
	args = json_object_new_object();
	argv = json_object_new_array();
	json_object_array_add(argv, json_object_new_string("sleep"));
	json_object_array_add(argv, json_object_new_string("20"));
	json_object_object_add(args, "argv", argv);
	t0 = now_ms();
	cr_assert_eq(agent_call_abandonable(ag, AGENT_OP_RUN, args, &res, &e), -1);
	cr_assert_lt(now_ms() - t0, 5000, "waited %lld ms", (long long)(now_ms() - t0));
	cr_assert_eq(e.kind, XERR_INTERRUPTED, "%s: %s", xerr_kind_name(e.kind), e.msg);
	waitpid(killer, NULL, 0);
	cr_assert_eq(agent_call(ag, AGENT_OP_RUN, NULL, &res, &e), -1);
	cr_assert_eq(e.kind, XERR_INTERRUPTED, "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "an earlier call was given up"), "%s", e.msg);
	agent_close(ag);
	sshc_free(c);
}

static bool strv_has_sub(char **v, const char *sub)
{
	for (; v && *v; v++)
		if (strstr(*v, sub))
			return true;
	return false;
}

/* The typed host.check through a real agent on a machine with no Xen: the
 * lab's names reach the agent (its output says what it accounted for), and
 * a check whose tools cannot look fails, each finding named. */
Test(sshc, a_host_check_that_cannot_look_fails)
{
	static const char *const doms[] = { "g1", NULL }, *const vgs[] = { "xlab", NULL };
	static const char *const lvs[] = { "xlab/g1", "xlab/g1-swap", NULL };
	struct agent_host_check_req q = { .action = "leak-check", .domains = doms, .vgs = vgs,
					  .lvs = lvs, .timeout_s = 30 };
	struct agent_host_check_out o;
	struct xerr e = { 0 };
	struct sshc *c;
	struct agent *ag = agent_running(&c);

	cr_assert_eq(agent_host_check(ag, &q, &o, &e), 0, "%s", e.msg);
	cr_assert_not(o.passed, "%s", o.output);
	cr_assert(strv_has_sub(o.findings, "xenstore-ls"), "%s", o.output);
	cr_assert(strv_has_sub(o.findings, "xl"), "%s", o.output);
	cr_assert(strstr(o.output, "leak-check: FAILED, "), "%s", o.output);
	cr_assert(strstr(o.output, "  accounted for: guests g1; LVs xlab/g1 xlab/g1-swap\n"), "%s",
		  o.output);
	for (size_t i = 0; o.findings[i]; i++)
		cr_assert(strstr(o.output, o.findings[i]), "%s", o.output);
	agent_host_check_out_free(&o);

	q = (struct agent_host_check_req){ .action = "xen-dmesg-clean" };
	cr_assert_eq(agent_host_check(ag, &q, &o, &e), 0, "%s", e.msg);
	cr_assert_not(o.passed, "%s", o.output);
	cr_assert_eq(strv_len(o.findings), 1, "%s", o.output);
	agent_host_check_out_free(&o);

	q.action = "reboot";
	cr_assert_eq(agent_host_check(ag, &q, &o, &e), -1);
	cr_assert_eq(e.remote, XERR_USAGE, "%s", e.msg);
	agent_close(ag);
	sshc_free(c);
}

/* Another build of the agent at remote: ours one byte longer (still a
 * program that runs), renamed over it the way a push does, so an agent still
 * exiting from the last open keeps running from the old file. */
static void agent_other_build(const char *local, const char *remote)
{
	_cleanup_free_ char *data = NULL;
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_read_all(local, 0, &data, &len, &e), 0, "%s", e.msg);
	data = xrealloc(data, len + 1);
	data[len] = '\n';
	cr_assert_eq(file_write_atomic(remote, data, len + 1, 0755, &e), 0, "%s", e.msg);
}

/* One exec channel when the agent there is ours: its hello's sha256 decides. */
Test(sshc, agent_open_pushes_only_when_the_digest_differs)
{
	_cleanup_free_ char *local = agent_binary();
	_cleanup_free_ char *remote = path_in("fresh/xlab-agent");
	struct agent *ag = NULL;
	struct xerr e = { 0 };
	bool pushed = false;
	struct sshc *c;

	if (!local)
		skip_no_agent();
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(agent_open(c, local, &ag, &pushed, &e), 0, "%s", e.msg);
	cr_assert(pushed, "missing: pushed");
	files_equal(local, remote);
	agent_close(ag);

	cr_assert_eq(agent_open(c, local, &ag, &pushed, &e), 0, "%s", e.msg);
	cr_assert_not(pushed, "hello reported our sha256: no second push");
	agent_close(ag);

	agent_other_build(local, remote);
	cr_assert_eq(agent_open(c, local, &ag, &pushed, &e), 0, "%s", e.msg);
	cr_assert(pushed, "another build there: pushed");
	files_equal(local, remote);
	agent_close(ag);

	/* Callers that do not care whether it pushed pass NULL. */
	cr_assert_eq(agent_open(c, local, &ag, NULL, &e), 0, "%s", e.msg);
	agent_close(ag);
	sshc_free(c);
}

/* An agent from another xlab: answers hello with protocol 2. */
Test(sshc, agent_protocol_mismatch_names_both_versions)
{
	_cleanup_free_ char *remote = path_in("old/xlab-agent");
	const char *script = "#!/bin/sh\n"
			     "read line\n"
			     "echo '{\"v\":2,\"id\":1,\"ok\":true,\"result\":{\"proto\":2,\"version\":\"9.9.9\"}}'\n";
	struct agent *ag = NULL;
	struct xerr e = { 0 };
	struct sshc *c;

	cr_assert_eq(mkdir_p(remote, 0755, &e), 0, "%s", e.msg);
	rmdir(remote);
	cr_assert_eq(file_write_atomic(remote, script, strlen(script), 0755, &e), 0, "%s", e.msg);
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	c = connect_ok();
	/* Same file locally: it reports no sha256, so it is pushed over itself,
	 * and then it must say that the push did not help. */
	cr_assert_eq(agent_open(c, remote, &ag, NULL, &e), -1);
	cr_assert_null(ag);
	cr_assert_not_null(strstr(e.msg, "protocol mismatch"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "speaks v1"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "(version 9.9.9) speaks v2 even after pushing"), "%s",
			   e.msg);
	sshc_free(c);
}

/* Our very binary, speaking another protocol: pushing it again cannot help,
 * so it is not pushed (the file keeps its inode) and the error says why. */
Test(sshc, agent_same_binary_other_protocol_is_not_pushed)
{
	_cleanup_free_ char *remote = path_in("same/xlab-agent");
	const char *script = "#!/bin/sh\n"
			     "read line\n"
			     "sum=$(sha256sum \"$0\" | cut -c1-64)\n"
			     "echo '{\"v\":2,\"id\":1,\"ok\":true,\"result\":{\"proto\":2,\"version\":\"9.9.9\",'"
			     "'\"sha256\":\"'$sum'\"}}'\n";
	struct agent *ag = NULL;
	struct xerr e = { 0 };
	bool pushed = true;
	struct stat before, after;
	struct sshc *c;

	cr_assert_eq(mkdir_p(remote, 0755, &e), 0, "%s", e.msg);
	rmdir(remote);
	cr_assert_eq(file_write_atomic(remote, script, strlen(script), 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(remote, &before), 0);
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(agent_open(c, remote, &ag, &pushed, &e), -1);
	cr_assert_null(ag);
	cr_assert_not(pushed);
	cr_assert_not_null(strstr(e.msg, "(version 9.9.9) speaks v2"), "%s", e.msg);
	cr_assert_null(strstr(e.msg, "after pushing"), "%s", e.msg);
	cr_assert_eq(stat(remote, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino, "pushed over itself");
	sshc_free(c);
}

/* Faults while a call is under way, as the typed calls meet them: the agent
 * killed (an OOM in the dom0), then the whole SSH session's server killed
 * (a dom0 that died). Each is an error of its own kind naming what
 * happened, never a hang or a crash, and the session refuses what follows. */
Test(sshc, a_dying_agent_or_sshd_is_an_error_not_a_hang)
{
	_cleanup_free_ char *local = agent_binary();
	_cleanup_free_ char *remote = path_in("var/lib/xlab-agent/xlab-agent");
	/* Kills its parent, the agent, from inside the call. */
	const char *const kill_agent[] = { "sh", "-c", "kill -9 $PPID; sleep 5", NULL };
	const char *const sleep_long[] = { "sleep", "30", NULL };
	struct agent_run_out o;
	struct agent *ag = NULL;
	struct xerr e = { 0 };
	struct sshc *c;
	int64_t t0;

	if (!local)
		skip_no_agent();
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(agent_open(c, local, &ag, NULL, &e), 0, "%s", e.msg);
	t0 = now_ms();
	cr_assert_eq(agent_run(ag, kill_agent, 0, &o, &e), -1, "a killed agent answered");
	cr_expect_lt(now_ms() - t0, 10000, "the client waited past the agent's end");
	cr_expect_eq(e.kind, XERR_IO, "%s: %s", xerr_kind_name(e.kind), e.msg);
	cr_expect(strstr(e.msg, "agent: run: ") && strstr(e.msg, "without an exit status"), "%s",
		  e.msg);
	memset(&e, 0, sizeof(e));
	cr_expect_eq(agent_run(ag, sleep_long, 0, &o, &e), -1, "a dead agent answered");
	agent_close(ag);
	ag = NULL;

	/* The server side of the session dies while the agent sleeps in a call. */
	cr_assert_eq(agent_open(c, local, &ag, NULL, &e), 0, "%s", e.msg);
	{
		pid_t pid = fork();

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			usleep(700 * 1000);
			sshd_signal_tree(SIGKILL);
			_exit(0);
		}
		t0 = now_ms();
		memset(&e, 0, sizeof(e));
		cr_expect_eq(agent_run(ag, sleep_long, 0, &o, &e), -1, "a call outlived its sshd");
		cr_expect_lt(now_ms() - t0, 20000, "the client waited past the session's end");
		cr_expect_eq(e.kind, XERR_IO, "%s: %s", xerr_kind_name(e.kind), e.msg);
		cr_expect(strstr(e.msg, "agent: run: ssh 127.0.0.1: "), "%s", e.msg);
		waitpid(pid, NULL, 0);
	}
	agent_close(ag);
	sshc_free(c);
}
