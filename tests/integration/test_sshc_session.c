/* sshc's session against a real sshd on 127.0.0.1 (sshdrun.h): the boot
 * wait's probe, the session it keeps, host key pinning, client keys and
 * known_hosts. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "sshc.h"
#include "sshdrun.h"
#include "util.h"

TestSuite(sshc, .init = sshd_setup, .fini = sshd_teardown, .timeout = 120);

Test(sshc, probe_waits_then_succeeds)
{
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };

	cr_assert_eq(sshc_probe(&t, 2000, NULL, &e), 0, "nobody listens yet: keep waiting");
	sshd_start();
	cr_assert_eq(sshc_probe(&t, 5000, NULL, &e), 1, "%s", e.msg);
}

/* `up` keeps the session its boot wait opened for the agent: it must be
 * authenticated and usable as one from sshc_connect. */
Test(sshc, probe_can_keep_the_session)
{
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };
	struct sshc *c = NULL;
	const char *argv[] = { "printf", "%s", "kept", NULL };
	_cleanup_free_ char *out = NULL;
	int status = -2;

	cr_assert_eq(sshc_probe(&t, 2000, &c, &e), 0);
	cr_assert_null(c, "no session while nobody listens");
	sshd_start();
	cr_assert_eq(sshc_probe(&t, 5000, &c, &e), 1, "%s", e.msg);
	cr_assert_not_null(c);
	cr_assert_eq(sshc_exec(c, argv, NULL, &status, &out, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(status, 0);
	cr_assert_str_eq(out, "kept");
	sshc_free(c);
}

/* A dom0 just booted under TCG answered a channel open on the kept session
 * later than the probe's timeout, and `up` failed with "cannot run". */
Test(sshc, kept_session_waits_longer_than_the_probe)
{
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };
	struct sshc *c = NULL;
	const char *argv[] = { "printf", "%s", "late", NULL };
	_cleanup_free_ char *out = NULL;
	int status = -2;
	pid_t waker;

	sshd_start();
	cr_assert_eq(sshc_probe(&t, 1000, &c, &e), 1, "%s", e.msg);
	cr_assert_gt(sshd_signal_tree(SIGSTOP), 1, "the session's sshd is found");
	waker = fork();
	cr_assert(waker >= 0);
	if (waker == 0) {
		usleep(2500 * 1000);
		sshd_signal_tree(SIGCONT);
		_exit(0);
	}
	cr_assert_eq(sshc_exec(c, argv, NULL, &status, &out, NULL, &e), 0, "%s", e.msg);
	waitpid(waker, NULL, 0);
	cr_assert_eq(status, 0);
	cr_assert_str_eq(out, "late");
	sshc_free(c);
}

Test(sshc, wrong_host_key_is_fatal)
{
	struct sshc_target t = target("client", "otherhost.pub");
	struct xerr e = { 0 };
	struct sshc *c = NULL;

	sshd_start();
	cr_assert_eq(sshc_probe(&t, 5000, NULL, &e), -1);
	cr_assert_not_null(strstr(e.msg, "host key mismatch for 127.0.0.1: expected SHA256:"),
			   "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "otherhost.pub, got SHA256:"), "%s", e.msg);
	cr_assert_eq(sshc_connect(&t, &c, &e), -1);
	cr_assert_null(c);
}

Test(sshc, pinned_key_of_another_type_is_fatal)
{
	_cleanup_free_ char *rsa = path_in("rsahost");
	char *const keygen_argv[] = { "ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "",
				      "-f", rsa, NULL };
	struct sshc_target t = target("client", "rsahost.pub");
	struct spawn_opts o = { .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(spawn_check(keygen_argv, &o, &r, &e), 0, "%s", e.msg);
	spawn_result_free(&r);
	sshd_start();
	cr_assert_eq(sshc_probe(&t, 5000, NULL, &e), -1, "a server without that key type never fits");
	cr_assert_not_null(strstr(e.msg, "host key mismatch for 127.0.0.1"), "%s", e.msg);
}

Test(sshc, unauthorized_key_is_fatal)
{
	struct sshc_target t = target("stranger", "hostkey.pub");
	struct xerr e = { 0 };

	sshd_start();
	cr_assert_eq(sshc_probe(&t, 5000, NULL, &e), -1);
	cr_assert_not_null(strstr(e.msg, "refused the key"), "%s", e.msg);
}

Test(sshc, keys_and_known_hosts)
{
	_cleanup_free_ char *priv = path_in("hostkey"), *pub = path_in("hostkey.pub");
	_cleanup_free_ char *kh = path_in("known_hosts"), *line = NULL, *text = NULL;
	const char *names[] = { "h1,10.80.0.10" };
	const char *pubs[1];
	struct xerr e = { 0 };
	struct stat st;
	size_t len;

	cr_assert_eq(stat(priv, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(sshkey_public_line(pub, &line, &e), 0, "%s", e.msg);
	cr_assert_eq(strncmp(line, "ssh-ed25519 AAAA", 16), 0, "%s", line);
	cr_assert_null(strchr(line, '\n'));
	cr_assert_eq(strchr(line, ' '), strrchr(line, ' '), "the comment is not part of it: %s",
		     line);
	pubs[0] = line;
	cr_assert_eq(known_hosts_write(kh, names, pubs, 1, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(kh, 0, &text, &len, &e), 0, "%s", e.msg);
	_cleanup_free_ char *want = xasprintf("h1,10.80.0.10 %s\n", line);
	cr_assert_str_eq(text, want);
}
