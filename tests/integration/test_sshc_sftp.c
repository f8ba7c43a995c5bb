/* Files over sshc's SFTP against a real sshd on 127.0.0.1 (sshdrun.h): put
 * and get, their modes, and what get refuses to bring back. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshc.h"
#include "sshdrun.h"
#include "util.h"

TestSuite(sshc, .init = sshd_setup, .fini = sshd_teardown, .timeout = 120);

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
