/* Sessions through a server (sshc_target.via), against a real sshd on
 * 127.0.0.1 (sshdrun.h) that is both the server and the target: a
 * direct-tcpip channel from it to its own port carries the second session.
 * That the tunnel is really used shows when the server refuses forwarding:
 * the same target then cannot be reached. No descriptor outlives a session. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshc.h"
#include "sshdrun.h"
#include "util.h"

TestSuite(sshc_via, .init = sshd_setup, .fini = sshd_teardown, .timeout = 120);

/* The sshd processes now: the listener and one per session. */
static int sshd_procs(void)
{
	return sshd_signal_tree(0);
}

static int sshd_procs_settle(int want)
{
	int n = sshd_procs();

	for (int i = 0; i < 100 && n > want; i++) {
		usleep(50 * 1000);
		n = sshd_procs();
	}
	return n;
}

/* This process's open descriptors. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

Test(sshc_via, a_session_through_the_server_runs_and_ends_whole)
{
	struct sshc_target via = target("client", "hostkey.pub");
	struct sshc_target t = target("client", "hostkey.pub");
	const char *argv[] = { "sh", "-c", "echo through; exit 3", NULL };
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct xerr e = { 0 };
	struct sshc *c = NULL;
	int status = -1, alone, fds;

	sshd_start();
	/* The listener alone: sshd_start's own probe of the port has ended. */
	alone = sshd_procs_settle(1);
	cr_assert_eq(alone, 1);
	fds = open_fds();
	t.via = &via;
	cr_assert_eq(sshc_connect(&t, &c, &e), 0, "%s", e.msg);
	cr_expect_gt(sshd_procs(), alone, "two sessions on the server");
	cr_assert_eq(sshc_exec(c, argv, NULL, &status, &out, &err, &e), 0, "%s", e.msg);
	cr_expect_eq(status, 3);
	cr_expect_str_eq(out, "through\n");
	/* A second request on the same tunnel. */
	cr_assert_eq(sshc_exec(c, (const char *[]){ "true", NULL }, NULL, &status, NULL, NULL,
			       &e), 0, "%s", e.msg);
	cr_expect_eq(status, 0);
	sshc_free(c);
	cr_expect_eq(open_fds(), fds, "every descriptor of the tunnel is closed");
	/* Both the session and the one it went through are gone. */
	cr_expect_eq(sshd_procs_settle(alone), alone, "alone %d now %d", alone, sshd_procs());
}

Test(sshc_via, a_server_that_forwards_nothing_reaches_nothing)
{
	struct sshc_target via = target("client", "hostkey.pub");
	struct sshc_target t = target("client", "hostkey.pub");
	_cleanup_free_ char *cfg = path_in("sshd_config");
	_cleanup_free_ char *text = NULL, *more = NULL;
	struct xerr e = { 0 };
	struct sshc *c = NULL;
	size_t len;

	cr_assert_eq(file_read_all(cfg, 0, &text, &len, &e), 0, "%s", e.msg);
	more = xasprintf("%sAllowTcpForwarding no\n", text);
	write_text("sshd_config", more);
	sshd_start();
	/* Directly it answers: the refusal below is the tunnel's. */
	cr_assert_eq(sshc_connect(&t, &c, &e), 0, "%s", e.msg);
	sshc_free(c);
	t.via = &via;
	/* Never, not "not yet": a boot wait must not spin on it. */
	cr_expect_eq(sshc_probe(&t, 3000, NULL, &e), -1, "%s", e.msg);
	cr_expect(strstr(e.msg, "cannot reach 127.0.0.1 port") && strstr(e.msg, "AllowTcpForwarding"),
		  "%s", e.msg);
	cr_expect_eq(sshc_connect(&t, &c, &e), -1);
}

Test(sshc_via, both_host_keys_are_pinned)
{
	struct sshc_target via = target("client", "otherhost.pub");
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };
	struct sshc *c = NULL;

	sshd_start();
	t.via = &via;
	/* The server's own key. */
	cr_expect_eq(sshc_probe(&t, 3000, NULL, &e), -1, "a wrong server key is never right");
	cr_expect(strstr(e.msg, "through 127.0.0.1") && strstr(e.msg, "host key mismatch"), "%s",
		  e.msg);
	/* The target's, behind a right server. */
	via = target("client", "hostkey.pub");
	t = target("client", "otherhost.pub");
	t.via = &via;
	memset(&e, 0, sizeof(e));
	cr_expect_eq(sshc_connect(&t, &c, &e), -1);
	cr_expect(strstr(e.msg, "host key mismatch") && !strstr(e.msg, "through"), "%s", e.msg);
}

Test(sshc_via, a_target_not_up_yet_is_worth_waiting_for)
{
	struct sshc_target via = target("client", "hostkey.pub");
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };

	sshd_start();
	t.via = &via;
	t.port = 1; /* nothing listens there */
	cr_expect_eq(sshc_probe(&t, 3000, NULL, &e), 0, "%s", e.msg);
}
