/* Commands over sshc against a real sshd on 127.0.0.1 (sshdrun.h): exec's
 * argv, status, stdout, stderr and stdin, the line channel the agent speaks
 * over, and the interactive exec without a terminal. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshc.h"
#include "sshdrun.h"
#include "util.h"

TestSuite(sshc, .init = sshd_setup, .fini = sshd_teardown, .timeout = 120);

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
	cr_assert_not_null(strstr(e.msg, "ended with status 3"), "%s", e.msg);
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
