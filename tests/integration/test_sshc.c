/* sshc and the agent client against a real sshd on 127.0.0.1: each test
 * starts its own sshd (own port, own keys) in a temporary directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "spawn.h"
#include "sshc.h"
#include "stop.h"
#include "util.h"

static char dir[] = "/tmp/xlab-sshc-XXXXXX";
static int port;
static pid_t sshd_pid = -1;
/* Strings a target points to, freed at teardown. */
static char *kept[16];
static size_t n_kept;

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void keygen(const char *name, const char *comment)
{
	_cleanup_free_ char *priv = path_in(name);
	_cleanup_free_ char *pub = xasprintf("%s.pub", priv);
	struct xerr e = { 0 };

	cr_assert_eq(sshkey_generate_ed25519(priv, pub, comment, &e), 0, "%s", e.msg);
}

static void write_text(const char *name, const char *text)
{
	_cleanup_free_ char *p = path_in(name);
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(p, text, strlen(text), 0644, &e), 0, "%s", e.msg);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

static void setup(void)
{
	_cleanup_free_ char *pub = NULL, *authorized = NULL, *cfg = NULL;
	struct xerr e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	port = free_port();
	keygen("hostkey", "host");
	keygen("otherhost", "other");
	keygen("client", "client");
	keygen("stranger", "stranger");
	pub = path_in("client.pub");
	cr_assert_eq(sshkey_public_line(pub, &authorized, &e), 0, "%s", e.msg);
	authorized = xrealloc(authorized, strlen(authorized) + 2);
	strcat(authorized, "\n");
	write_text("authorized_keys", authorized);
	cfg = xasprintf("HostKey %s/hostkey\n"
			"AuthorizedKeysFile %s/authorized_keys\n"
			"PermitRootLogin yes\n"
			"ListenAddress 127.0.0.1\n"
			"StrictModes no\n"
			"UsePAM no\n"
			"PidFile none\n"
			"PasswordAuthentication no\n"
			"KbdInteractiveAuthentication no\n"
			"Subsystem sftp internal-sftp\n"
			"LogLevel ERROR\n",
			dir, dir);
	write_text("sshd_config", cfg);
	mkdir("/run/sshd", 0755);
}

static void sshd_start(void)
{
	_cleanup_free_ char *cfg = path_in("sshd_config");
	_cleanup_free_ char *log = path_in("sshd.log");
	_cleanup_free_ char *portstr = xasprintf("%d", port);

	sshd_pid = fork();
	cr_assert(sshd_pid >= 0);
	if (sshd_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, STDERR_FILENO);
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg, "-p", portstr, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port_open(); i++) {
		if (waitpid(sshd_pid, NULL, WNOHANG) != 0) {
			_cleanup_free_ char *text = NULL;
			struct xerr e = { 0 };
			size_t len;

			sshd_pid = -1;
			file_read_all(log, 0, &text, &len, &e);
			cr_assert_fail("sshd exited: %s", text ? text : e.msg);
		}
		usleep(25 * 1000);
	}
	cr_assert(port_open(), "sshd did not listen on %d", port);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	if (sshd_pid > 0) {
		/* A test cut short may have left it stopped: SIGTERM waits for SIGCONT. */
		kill(sshd_pid, SIGCONT);
		kill(sshd_pid, SIGTERM);
		waitpid(sshd_pid, NULL, 0);
		sshd_pid = -1;
	}
	rm_rf(dir, &e);
	while (n_kept)
		free(kept[--n_kept]);
}

TestSuite(sshc, .init = setup, .fini = teardown, .timeout = 120);

static char *keep(char *p)
{
	cr_assert_lt(n_kept, ARRAY_SIZE(kept));
	return kept[n_kept++] = p;
}

static struct sshc_target target(const char *client, const char *hostpub)
{
	struct sshc_target t = {
		.addr = "127.0.0.1",
		.port = port,
		.user = "root",
		.key_path = keep(path_in(client)),
		.host_pub_path = keep(path_in(hostpub)),
		.connect_timeout_ms = 5000,
	};
	return t;
}

static struct sshc *connect_ok(void)
{
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };
	struct sshc *c = NULL;

	cr_assert_eq(sshc_connect(&t, &c, &e), 0, "%s", e.msg);
	return c;
}

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

static pid_t parent_of(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "r");
	char comm[256];
	int ppid = -1;

	/* sshd's comm has no spaces or parentheses. */
	if (!f || fscanf(f, "%*d (%255[^)]) %*c %d", comm, &ppid) != 2)
		return -1;
	return ppid;
}

/* Signals sshd and every process under it: each session is a process
 * tree of its own (sshd calls setsid), so a group kill misses it. */
static int signal_sshd_tree(int sig)
{
	pid_t tree[64] = { sshd_pid };
	size_t n = 1, before;
	DIR *d;
	struct dirent *de;

	do {
		before = n;
		d = opendir("/proc");
		cr_assert_not_null(d);
		while ((de = readdir(d)) && n < ARRAY_SIZE(tree)) {
			pid_t pid = (pid_t)atoi(de->d_name), pp;
			bool known = false;

			if (pid <= 0 || (pp = parent_of(pid)) <= 0)
				continue;
			for (size_t i = 0; i < n; i++)
				known |= tree[i] == pid;
			for (size_t i = 0; i < n && !known; i++) {
				if (tree[i] == pp) {
					tree[n++] = pid;
					break;
				}
			}
		}
		closedir(d);
	} while (n != before);
	for (size_t i = 0; i < n; i++)
		kill(tree[i], sig);
	return (int)n;
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
	cr_assert_gt(signal_sshd_tree(SIGSTOP), 1, "the session's sshd is found");
	waker = fork();
	cr_assert(waker >= 0);
	if (waker == 0) {
		usleep(2500 * 1000);
		signal_sshd_tree(SIGCONT);
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

Test(sshc, exec_argv_arrives_verbatim)
{
	static const char *const args[] = {
		"a b", "it's", "$(echo pwned)", "`id`", "\"dq\" 'sq'", "back\\slash\\",
		"semi;colon|pipe&amp", "*", "", "multi\nline", "-n", "'", "''\\''",
	};
	struct xerr e = { 0 };
	struct sshc *c;

	sshd_start();
	c = connect_ok();
	for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
		const char *argv[] = { "printf", "%s", args[i], NULL };
		_cleanup_free_ char *out = NULL, *err = NULL;
		int status = -2;

		cr_assert_eq(sshc_exec(c, argv, NULL, &status, &out, &err, &e), 0, "%s", e.msg);
		cr_assert_eq(status, 0, "arg %zu: stderr %s", i, err);
		cr_assert_str_eq(out, args[i]);
	}
	sshc_free(c);
}

Test(sshc, exec_status_and_stderr)
{
	const char *seven[] = { "sh", "-c", "echo to-err >&2; echo to-out; exit 7", NULL };
	const char *none[] = { "/nonexistent/cmd", NULL };
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct sshc *c;
	struct xerr e = { 0 };
	int status = -2;

	sshd_start();
	c = connect_ok();
	cr_assert_eq(sshc_exec(c, seven, NULL, &status, &out, &err, &e), 0, "%s", e.msg);
	cr_assert_eq(status, 7);
	cr_assert_str_eq(out, "to-out\n");
	cr_assert_str_eq(err, "to-err\n");
	cr_assert_eq(sshc_exec(c, none, NULL, &status, NULL, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(status, 127);
	sshc_free(c);
}

Test(sshc, exec_stdin_round_trip)
{
	const char *cat[] = { "cat", NULL };
	const char *wc[] = { "wc", "-c", NULL };
	struct sshc *c;
	struct xerr e = { 0 };
	struct buf big = { 0 };
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	int status = -2;

	sshd_start();
	c = connect_ok();
	/* Bigger than the ssh windows, so writing and reading must interleave. */
	for (int i = 0; big.len < 4 * 1024 * 1024; i++)
		buf_printf(&big, "line %d with 'quotes' and $(x)\n", i);
	cr_assert_eq(sshc_exec(c, cat, big.data, &status, &out, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(status, 0);
	cr_assert_eq(strlen(out), big.len);
	cr_assert(memcmp(out, big.data, big.len) == 0);
	cr_assert_eq(sshc_exec(c, wc, "12345", &status, &out2, NULL, &e), 0, "%s", e.msg);
	cr_assert_str_eq(out2, "5\n");
	buf_free(&big);
	sshc_free(c);
}

static void files_equal(const char *a, const char *b)
{
	_cleanup_free_ char *da = NULL, *db = NULL;
	size_t la, lb;
	struct xerr e = { 0 };

	cr_assert_eq(file_read_all(a, 0, &da, &la, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(b, 0, &db, &lb, &e), 0, "%s", e.msg);
	cr_assert_eq(la, lb, "%s: %zu bytes, %s: %zu bytes", a, la, b, lb);
	cr_assert(memcmp(da, db, la) == 0, "%s and %s differ", a, b);
}

Test(sshc, put_get_round_trip)
{
	_cleanup_free_ char *local = path_in("payload"), *back = path_in("back");
	_cleanup_free_ char *remote = path_in("remote/a/b/payload");
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", remote);
	size_t n = 3 * 1024 * 1024 + 17;
	_cleanup_free_ unsigned char *data = xmalloc(n);
	struct xerr e = { 0 };
	struct stat st;
	struct sshc *c;

	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> 13);
	cr_assert_eq(file_write_atomic(local, data, n, 0600, &e), 0, "%s", e.msg);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(sshc_put(c, local, remote, 0750, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(remote, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0750);
	cr_assert_eq(access(tmp, F_OK), -1, "temporary file left behind");
	files_equal(local, remote);

	/* Over an existing file, with other content and mode. */
	data[0] ^= 0xff;
	cr_assert_eq(file_write_atomic(local, data, n - 5, 0600, &e), 0, "%s", e.msg);
	cr_assert_eq(sshc_put(c, local, remote, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(remote, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
	files_equal(local, remote);

	cr_assert_eq(sshc_get(c, remote, back, &e), 0, "%s", e.msg);
	files_equal(remote, back);
	cr_assert_eq(stat(back, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);

	cr_assert_eq(sshc_get(c, "/nonexistent/file", back, &e), -1);
	cr_assert_not_null(strstr(e.msg, "/nonexistent/file"), "%s", e.msg);
	sshc_free(c);
}

/* Root in a dom0 is a student: what it sets on a file must not come back as
 * a set-id program on the controller. */
Test(sshc, get_never_keeps_set_id_or_sticky_bits)
{
	static const struct { mode_t remote, umask_, local; } cases[] = {
		{ 04755, 022, 0755 }, { 06755, 022, 0755 }, { 07777, 022, 0755 },
		{ 02644, 022, 0644 }, { 01600, 022, 0644 }, { 04711, 077, 0700 },
		{ 0600, 0, 0666 },
	};
	_cleanup_free_ char *remote = path_in("suid"), *back = path_in("suid-back");
	struct xerr e = { 0 };
	struct stat st;
	struct sshc *c;
	mode_t old = umask(022);

	write_text("suid", "#!/bin/sh\nid\n");
	sshd_start();
	c = connect_ok();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(chmod(remote, cases[i].remote), 0);
		unlink(back);
		umask(cases[i].umask_);
		cr_assert_eq(sshc_get(c, remote, back, &e), 0, "%s", e.msg);
		cr_assert_eq(stat(back, &st), 0);
		cr_assert_eq(st.st_mode & 07777, cases[i].local,
			     "remote %04o, umask %03o: got %04o, want %04o", cases[i].remote,
			     cases[i].umask_, st.st_mode & 07777, cases[i].local);
		files_equal(remote, back);
	}
	umask(old);
	sshc_free(c);
}

Test(sshc, get_refuses_what_is_not_a_regular_file)
{
	_cleanup_free_ char *fifo = path_in("fifo"), *back = path_in("fifo-back");
	struct xerr e = { 0 };
	struct sshc *c;

	cr_assert_eq(mkfifo(fifo, 0644), 0);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(sshc_get(c, fifo, back, &e), -1);
	cr_assert_not_null(strstr(e.msg, "not a regular file"), "%s", e.msg);
	cr_assert_eq(sshc_get(c, "/dev/zero", back, &e), -1);
	cr_assert_eq(access(back, F_OK), -1);
	sshc_free(c);
}

Test(sshc, line_channel)
{
	const char *cat[] = { "cat", NULL };
	const char *fail[] = { "sh", "-c", "echo dying words >&2; exit 3", NULL };
	struct sshc_chan *ch = NULL;
	struct xerr e = { 0 };
	char *line = NULL;
	struct sshc *c;
	int64_t t0;

	sshd_start();
	c = connect_ok();
	cr_assert_eq(sshc_chan_open(c, cat, &ch, &e), 0, "%s", e.msg);
	cr_assert_eq(sshc_chan_write(ch, "hello\n", 6, &e), 0, "%s", e.msg);
	cr_assert_eq(sshc_chan_read_line(ch, &line, 5000, &e), 0, "%s", e.msg);
	cr_assert_str_eq(line, "hello");
	free(line);
	cr_assert_eq(sshc_chan_write(ch, "one\ntwo\nthr", 11, &e), 0, "%s", e.msg);
	cr_assert_eq(sshc_chan_read_line(ch, &line, 5000, &e), 0, "%s", e.msg);
	cr_assert_str_eq(line, "one");
	free(line);
	cr_assert_eq(sshc_chan_read_line(ch, &line, 5000, &e), 0, "%s", e.msg);
	cr_assert_str_eq(line, "two");
	free(line);
	t0 = now_ms();
	cr_assert_eq(sshc_chan_read_line(ch, &line, 500, &e), -1, "half a line is no line");
	cr_assert_geq(now_ms() - t0, 450);
	cr_assert_not_null(strstr(e.msg, "no answer"), "%s", e.msg);
	cr_assert_eq(sshc_chan_write(ch, "ee\n", 3, &e), 0, "%s", e.msg);
	cr_assert_eq(sshc_chan_read_line(ch, &line, 5000, &e), 0, "%s", e.msg);
	cr_assert_str_eq(line, "three");
	free(line);
	sshc_chan_close(ch);

	cr_assert_eq(sshc_chan_open(c, fail, &ch, &e), 0, "%s", e.msg);
	cr_assert_eq(sshc_chan_read_line(ch, &line, 5000, &e), -1);
	cr_assert_not_null(strstr(e.msg, "exit status 3"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "dying words"), "%s", e.msg);
	sshc_chan_close(ch);
	sshc_free(c);
}

/* Like ssh: no pty when stdin is not a terminal, so scripts get the
 * command's output as it is (no CRs) with stdin still flowing. */
Test(sshc, interactive_without_a_terminal_gets_no_pty)
{
	const char *argv[] = { "sh", "-c",
			       "if test -t 0; then echo tty; else echo notty; fi; read x; "
			       "echo got:$x; exit 3",
			       NULL };
	_cleanup_free_ char *outp = path_in("tty.out"), *text = NULL;
	int in[2], saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);
	int fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct xerr e = { 0 };
	struct sshc *c;
	int status = -2, rc;
	size_t len;

	sshd_start();
	c = connect_ok();
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(write(in[1], "abc\n", 4), 4);
	close(in[1]);
	dup2(in[0], STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = sshc_exec_interactive(c, argv, &status, &e);
	dup2(saved_in, STDIN_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(in[0]);
	close(fd);
	cr_assert_eq(rc, 0, "%s", e.msg);
	cr_assert_eq(status, 3);
	cr_assert_eq(file_read_all(outp, 0, &text, &len, &e), 0, "%s", e.msg);
	cr_assert_str_eq(text, "notty\ngot:abc\n", "output: %s", text);
	sshc_free(c);
}

/* ---------------------------------------------------------------- agent */

/* Criterion does not run .fini for a skipped test. */
#define skip_no_agent()                                                                       \
	do {                                                                                  \
		teardown();                                                                   \
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
	_cleanup_free_ char *local = agent_binary();
	_cleanup_free_ char *remote = path_in("var/lib/xlab-agent/xlab-agent");
	struct json_object *args, *argv, *res = NULL;
	struct agent *ag = NULL;
	struct xerr e = { 0 };
	struct sshc *c;
	int64_t t0;
	pid_t killer;

	if (!local)
		skip_no_agent();
	setenv("XLAB_AGENT_REMOTE", remote, 1);
	sshd_start();
	c = connect_ok();
	cr_assert_eq(agent_open(c, local, &ag, NULL, &e), 0, "%s", e.msg);
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
