/* `xlab image fetch/export` against a real HTTP server on 127.0.0.1,
 * written here with plain sockets so it can misbehave on purpose: answer
 * 404, cut the body short, or trickle one byte a second. The store and the
 * image come from imagekit.h. */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "imagekit.h"
#include "sha256.h"
#include "util.h"

TestSuite(fetch, .init = imagekit_setup, .fini = imagekit_teardown, .timeout = 60);

/* --- the server --- */

enum mode { SRV_NORMAL, SRV_404, SRV_TRUNCATE, SRV_SLOW };

struct server {
	int lfd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	enum mode mode;
	const char *body;
	size_t len;
	size_t truncate_at;
	int requests;
	int range_requests;
	long last_range_start;
	volatile int stop;
};

static struct server srv;

static void send_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, const char *req)
{
	char path[256] = "", hdr[512];
	const char *range = NULL;
	long start = -1;
	enum mode mode;
	size_t from = 0, to, len;

	sscanf(req, "GET %255s", path);
	for (const char *l = strstr(req, "\r\n"); l; l = strstr(l + 2, "\r\n"))
		if (strncasecmp(l + 2, "Range: bytes=", 13) == 0)
			range = l + 15;
	if (range)
		start = strtol(range, NULL, 10);
	pthread_mutex_lock(&srv.lock);
	srv.requests++;
	if (range) {
		srv.range_requests++;
		srv.last_range_start = start;
	}
	mode = srv.mode;
	pthread_mutex_unlock(&srv.lock);

	if (strcmp(path, "/moved") == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\nLocation: /image.tar.gz\r\n"
			 "Content-Length: 0\r\nConnection: close\r\n\r\n");
		send_all(fd, hdr, strlen(hdr));
		return;
	}
	if (mode == SRV_404 || strcmp(path, "/image.tar.gz") != 0) {
		const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
				"Connection: close\r\n\r\nnot found";

		send_all(fd, r, strlen(r));
		return;
	}
	if (start > 0 && (size_t)start < srv.len) {
		from = (size_t)start;
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
			 "Content-Range: bytes %zu-%zu/%zu\r\nConnection: close\r\n\r\n",
			 srv.len - from, from, srv.len - 1, srv.len);
	} else {
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			 "Content-Type: application/gzip\r\nConnection: close\r\n\r\n", srv.len);
	}
	send_all(fd, hdr, strlen(hdr));
	to = srv.len;
	if (mode == SRV_TRUNCATE && srv.truncate_at < to)
		to = srv.truncate_at > from ? srv.truncate_at : from;
	if (mode == SRV_SLOW) {
		for (size_t i = from; i < to && !srv.stop; i++) {
			if (send(fd, srv.body + i, 1, MSG_NOSIGNAL) != 1)
				return;
			sleep(1);
		}
		return;
	}
	len = to - from;
	send_all(fd, srv.body + from, len);
}

static void *serve(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		char req[4096];
		size_t n = 0;
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		while (n < sizeof(req) - 1) {
			ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

			if (r <= 0)
				break;
			n += (size_t)r;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			respond(fd, req);
		/* Closing marks the end of the body; a short one is then short. */
		shutdown(fd, SHUT_RDWR);
		close(fd);
	}
	return NULL;
}

static void server_start(const char *body, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.body = body;
	srv.len = len;
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(srv.lfd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv.lfd, 8), 0);
	cr_assert_eq(getsockname(srv.lfd, (struct sockaddr *)&a, &al), 0);
	srv.port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
	srv.stop = 1;
	shutdown(srv.lfd, SHUT_RDWR);
	close(srv.lfd);
	pthread_join(srv.thread, NULL);
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", srv.port, path);
}

static void tar_add(struct archive *a, const char *name, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	struct xerr e = { 0 };
	struct archive_entry *ent = archive_entry_new();

	cr_assert_eq(file_read_all(path, 0, &data, &len, &e), 0, "%s", e.msg);
	archive_entry_set_pathname(ent, name);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, (la_int64_t)len);
	cr_assert_eq(archive_write_header(a, ent), ARCHIVE_OK);
	cr_assert_eq(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(ent);
	free(data);
}

/* The archive as another tool would make it (GNU tar layout, "NAME/" prefix),
 * independent of our export. */
static char *make_archive(const char *name, size_t *len, char sha[65])
{
	_cleanup_free_ char *dir = xasprintf("%s/src-%s", work, name);
	_cleanup_free_ char *out = xasprintf("%s/%s.tar.gz", work, name);
	struct archive *a = archive_write_new();
	struct xerr e = { 0 };
	char *data = NULL;

	make_image(dir, name);
	archive_write_add_filter_gzip(a);
	archive_write_set_format_gnutar(a);
	cr_assert_eq(archive_write_open_filename(a, out), ARCHIVE_OK);
	{
		_cleanup_free_ char *p = xasprintf("%s/manifest.json", dir);
		_cleanup_free_ char *n = xasprintf("%s/manifest.json", name);

		tar_add(a, n, p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(image_files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, image_files[i]);
		_cleanup_free_ char *n = xasprintf("%s/%s", name, image_files[i]);

		tar_add(a, n, p);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	cr_assert_eq(file_read_all(out, 0, &data, len, &e), 0, "%s", e.msg);
	sha256_hex(data, *len, sha);
	return data;
}

static char *part_path(const char *sha)
{
	return xasprintf("%s/images/.download/%s.part", home, sha);
}

static int fetch(const char *u, const char *sha, const char *name, struct xerr *e)
{
	char *argv[] = { "fetch", (char *)u, "--sha256", (char *)sha, "--name", (char *)name,
			 NULL };

	return image_cmd_fetch(name ? 6 : 4, argv, e);
}

static void assert_image_ok(const char *name)
{
	struct image *img = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_open(name, &img, &e), 0, "%s", e.msg);
	cr_assert_eq(img->n_files, 4);
	cr_assert_eq(image_verify(img, &e), 0, "%s", e.msg);
	image_free(img);
}

/* --- cases --- */

Test(fetch, good_archive_lands_verified)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	_cleanup_free_ char *u = NULL, *part = part_path(sha), *ls = NULL;
	struct xerr e = { 0 };

	server_start(body, len);
	u = url("/moved"); /* a redirect first, as mirrors do */
	cr_assert_eq(fetch(u, sha, NULL, &e), 0, "%s", e.msg);
	server_stop();
	assert_image_ok("xen-4.17");
	cr_assert_not(path_exists(part), "the download is removed once installed");
	ls = store_listing();
	cr_assert_str_eq(ls, "xen-4.17 ", "work directories left behind: %s", ls);
	/* Again: refused without --force, the store keeps the image. */
	server_start(body, len);
	free(u);
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, sha, NULL, &e), -1);
	cr_assert_not_null(strstr(e.msg, "already in the store"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "--force"), "%s", e.msg);
	server_stop();
	assert_image_ok("xen-4.17");
}

Test(fetch, name_option_renames)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	_cleanup_free_ char *u = NULL, *plain = xasprintf("%s/images/xen-4.17", home);
	struct xerr e = { 0 };

	server_start(body, len);
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, sha, "xen-4.17-test", &e), 0, "%s", e.msg);
	server_stop();
	assert_image_ok("xen-4.17-test");
	cr_assert_not(path_exists(plain));
}

Test(fetch, wrong_checksum_leaves_store_unchanged)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	const char *wrong = "00000000000000000000000000000000000000000000000000000000000000ff";
	_cleanup_free_ char *u = NULL, *part = part_path(wrong), *ls = NULL;
	struct xerr e = { 0 };

	server_start(body, len);
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, wrong, NULL, &e), -1);
	server_stop();
	cr_assert_not_null(strstr(e.msg, "checksum mismatch"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, wrong), "expected digest named: %s", e.msg);
	cr_assert_not_null(strstr(e.msg, sha), "actual digest named: %s", e.msg);
	cr_assert_not(path_exists(part));
	ls = store_listing();
	cr_assert_str_eq(ls, "", "store changed: %s", ls);
}

Test(fetch, http_404)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	_cleanup_free_ char *u = NULL, *part = part_path(sha), *ls = NULL, *want = NULL;
	struct xerr e = { 0 };

	server_start(body, len);
	srv.mode = SRV_404;
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, sha, NULL, &e), -1);
	server_stop();
	want = xasprintf("HTTP 404 for %s", u);
	cr_assert_str_eq(e.msg, want);
	cr_assert_not(path_exists(part));
	ls = store_listing();
	cr_assert_str_eq(ls, "", "store changed: %s", ls);
}

Test(fetch, truncated_then_rerun_resumes)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	_cleanup_free_ char *u = NULL, *part = part_path(sha), *ls = NULL;
	struct xerr e = { 0 };
	struct stat st;

	server_start(body, len);
	srv.mode = SRV_TRUNCATE;
	srv.truncate_at = len / 2;
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, sha, NULL, &e), -1);
	cr_assert_not_null(strstr(e.msg, "cut short"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "resume"), "%s", e.msg);
	cr_assert_eq(stat(part, &st), 0, "the partial download is kept");
	cr_assert_eq((size_t)st.st_size, len / 2);
	ls = store_listing();
	cr_assert_str_eq(ls, ".download ", "only the partial download is kept: %s", ls);
	cr_assert_eq(srv.range_requests, 0);

	srv.mode = SRV_NORMAL;
	cr_assert_eq(fetch(u, sha, NULL, &e), 0, "%s", e.msg);
	server_stop();
	cr_assert_eq(srv.range_requests, 1, "the rerun asked for the rest only");
	cr_assert_eq(srv.last_range_start, (long)(len / 2));
	assert_image_ok("xen-4.17");
	cr_assert_not(path_exists(part));
}

Test(fetch, slow_server_times_out)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	_cleanup_free_ char *u = NULL, *ls = NULL;
	struct xerr e = { 0 };
	int64_t t0;

	setenv("XLAB_FETCH_LOW_SPEED_TIME", "2", 1);
	server_start(body, len);
	srv.mode = SRV_SLOW;
	u = url("/image.tar.gz");
	t0 = now_ms();
	cr_assert_eq(fetch(u, sha, NULL, &e), -1);
	cr_assert_lt(now_ms() - t0, 15000, "took %lld ms", (long long)(now_ms() - t0));
	server_stop();
	cr_assert_not_null(strstr(e.msg, "timed out"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "resume"), "%s", e.msg);
	/* The trickled bytes are kept for a later resume, nothing else. */
	ls = store_listing();
	cr_assert(strcmp(ls, "") == 0 || strcmp(ls, ".download ") == 0, "store changed: %s", ls);
}

Test(fetch, export_then_fetch_round_trip)
{
	_cleanup_free_ char *src = xasprintf("%s/built", work);
	_cleanup_free_ char *file = xasprintf("%s/xen-4.17.tar.gz", work);
	_cleanup_free_ char *body = NULL, *u = NULL, *rm_dir = NULL;
	char *iargv[] = { "import", src, NULL };
	char *eargv[] = { "export", "xen-4.17", file, NULL };
	char *rargv[] = { "rm", "xen-4.17", NULL };
	struct image *before = NULL, *after = NULL;
	struct xerr e = { 0 };
	char sha[65];
	size_t len;

	make_image(src, "xen-4.17");
	cr_assert_eq(image_cmd_import(2, iargv, &e), 0, "%s", e.msg);
	cr_assert_eq(image_open("xen-4.17", &before, &e), 0, "%s", e.msg);
	cr_assert_eq(image_cmd_export(3, eargv, &e), 0, "%s", e.msg);
	cr_assert_eq(image_cmd_rm(2, rargv, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(file, 0, &body, &len, &e), 0, "%s", e.msg);
	sha256_hex(body, len, sha);

	server_start(body, len);
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, sha, NULL, &e), 0, "%s", e.msg);
	server_stop();
	assert_image_ok("xen-4.17");
	cr_assert_eq(image_open("xen-4.17", &after, &e), 0, "%s", e.msg);
	cr_assert_str_eq(after->manifest_sha256, before->manifest_sha256,
			 "the manifest comes back byte for byte");
	/* QEMU, not root, opens root.qcow2 in it as a backing file. */
	{
		struct stat st;

		cr_assert_eq(stat(after->dir, &st), 0);
		cr_expect_eq(st.st_mode & 0777, 0755, "%s is %04o", after->dir,
			     st.st_mode & 0777);
	}
	image_free(before);
	image_free(after);
}

/* A full disk, for real: XLAB_HOME on a tiny tmpfs in a private mount
 * namespace (this test process only). */
static void small_home(const char *size)
{
	_cleanup_free_ char *opts = xasprintf("size=%s,mode=0755", size);

	if (unshare(CLONE_NEWNS) < 0)
		cr_skip_test("needs root for a mount namespace: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount("tmpfs", home, "tmpfs", 0, opts), 0, "%s", strerror(errno));
}

static void full_disk_case(const char *size, const char *needle)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *body = make_archive("xen-4.17", &len, sha);
	_cleanup_free_ char *u = NULL, *part = part_path(sha), *ls = NULL;
	struct xerr e = { 0 };

	small_home(size);
	server_start(body, len);
	u = url("/image.tar.gz");
	cr_assert_eq(fetch(u, sha, NULL, &e), -1);
	server_stop();
	cr_assert_not_null(strstr(e.msg, "disk full"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, needle), "%s", e.msg);
	cr_assert_not(path_exists(part));
	ls = store_listing();
	cr_assert_str_eq(ls, "", "store changed: %s", ls);
	umount2(home, MNT_DETACH);
}

Test(fetch, disk_full_while_downloading)
{
	full_disk_case("64k", "downloading");
}

Test(fetch, disk_full_while_unpacking)
{
	/* The archive (about 200 KiB, incompressible) fits; a second copy
	 * unpacked next to it does not. */
	full_disk_case("320k", "unpacking");
}
