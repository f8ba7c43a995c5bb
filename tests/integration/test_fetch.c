/* `xlab image fetch/import/export` against a real HTTP server on 127.0.0.1,
 * written here with plain sockets so it can misbehave on purpose: answer
 * 404, cut the body short, or trickle one byte a second. */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "sha256.h"
#include "spawn.h"
#include "util.h"

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

/* --- a store and a tiny image --- */

static char home[64], work[64];

static void setup(void)
{
	strcpy(home, "/tmp/xlab-fetch-home-XXXXXX");
	strcpy(work, "/tmp/xlab-fetch-work-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	cr_assert_not_null(mkdtemp(work));
	setenv("XLAB_HOME", home, 1);
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	rm_rf(work, &e);
}

TestSuite(fetch, .init = setup, .fini = teardown, .timeout = 60);

static const char *files[] = { "root.qcow2", "boot/xen.gz", "boot/vmlinuz", "boot/initrd.img" };

static void write_file(const char *path, const void *data, size_t len)
{
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(path, data, len, 0644, &e), 0, "%s", e.msg);
}

/* root.qcow2 is large enough (and incompressible enough) that the archive
 * spans several TCP writes, so truncation lands mid-body. */
static void make_image(const char *dir, const char *name)
{
	json_object *m = json_object_new_object(), *fs = json_object_new_object();
	_cleanup_free_ char *boot = xasprintf("%s/boot", dir);
	_cleanup_free_ char *mp = xasprintf("%s/manifest.json", dir);
	struct xerr e = { 0 };
	const char *s;

	cr_assert_eq(mkdir_p(boot, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);
		size_t len = i == 0 ? 200000 : 64;
		_cleanup_free_ unsigned char *body = xmalloc(len);
		uint32_t x = 2463534242u + (uint32_t)i;
		char sha[65];

		for (size_t k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			body[k] = (unsigned char)x;
		}
		write_file(p, body, len);
		cr_assert_eq(sha256_file_hex(p, sha, &e), 0, "%s", e.msg);
		json_object_object_add(fs, files[i], json_object_new_string(sha));
	}
	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(m, "xen_version", json_object_new_string("4.17.5"));
	json_object_object_add(m, "kernel_version", json_object_new_string("6.1.0-37-amd64"));
	json_object_object_add(m, "suite", json_object_new_string("bookworm"));
	json_object_object_add(m, "packages", json_object_new_array());
	json_object_object_add(m, "built", json_object_new_string("2026-01-02T03:04:05Z"));
	json_object_object_add(m, "files", fs);
	s = json_object_to_json_string(m);
	write_file(mp, s, strlen(s));
	json_object_put(m);
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
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);
		_cleanup_free_ char *n = xasprintf("%s/%s", name, files[i]);

		tar_add(a, n, p);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	cr_assert_eq(file_read_all(out, 0, &data, len, &e), 0, "%s", e.msg);
	sha256_hex(data, *len, sha);
	return data;
}

/* Everything in images/; "" when empty. */
static char *store_listing(void)
{
	_cleanup_free_ char *dir = xasprintf("%s/images", home);
	struct buf b = { 0 };
	struct dirent *de;
	DIR *d = opendir(dir);

	buf_puts(&b, "");
	if (!d)
		return buf_steal(&b);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			buf_printf(&b, "%s ", de->d_name);
	closedir(d);
	return buf_steal(&b);
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

Test(fetch, corrupt_file_in_archive_is_refused)
{
	size_t len;
	char sha[65];
	_cleanup_free_ char *dir = xasprintf("%s/bad", work);
	_cleanup_free_ char *vm = xasprintf("%s/boot/vmlinuz", dir);
	_cleanup_free_ char *ls = NULL;
	char *argv[] = { "import", dir, NULL };
	struct xerr e = { 0 };

	(void)len;
	(void)sha;
	make_image(dir, "xen-4.17");
	write_file(vm, "tampered", 8);
	cr_assert_eq(image_cmd_import(2, argv, &e), -1);
	cr_assert_not_null(strstr(e.msg, "boot/vmlinuz"), "%s", e.msg);
	ls = store_listing();
	cr_assert_str_eq(ls, "", "store changed: %s", ls);
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

Test(fetch, import_archive_rejects_escaping_entries)
{
	_cleanup_free_ char *out = xasprintf("%s/evil.tar", work);
	_cleanup_free_ char *victim = xasprintf("%s/escaped", home);
	_cleanup_free_ char *ls = NULL;
	struct archive *a = archive_write_new();
	struct archive_entry *ent = archive_entry_new();
	char *argv[] = { "import", out, NULL };
	struct xerr e = { 0 };

	archive_write_set_format_pax_restricted(a);
	cr_assert_eq(archive_write_open_filename(a, out), ARCHIVE_OK);
	archive_entry_set_pathname(ent, "../../escaped");
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, 2);
	cr_assert_eq(archive_write_header(a, ent), ARCHIVE_OK);
	archive_write_data(a, "hi", 2);
	archive_entry_free(ent);
	archive_write_close(a);
	archive_write_free(a);
	cr_assert_eq(image_cmd_import(2, argv, &e), -1);
	cr_assert_not_null(strstr(e.msg, "outside the image"), "%s", e.msg);
	cr_assert_not(path_exists(victim));
	ls = store_listing();
	cr_assert_str_eq(ls, "", "store changed: %s", ls);
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

/* --- hostile archives: each is refused, and neither the controller's files
 * nor the store change --- */

struct hent {
	const char *name;
	mode_t type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
	const char *hardlink; /* with type AE_IFREG: a hard link carrying data */
	const char *symlink;
	const char *data;
	int64_t size;        /* -1: strlen(data) */
	bool sparse;         /* one 16-byte data run at the end of `size` */
};

static void hostile_write(const char *out, const struct hent *ents, size_t n, bool gnu)
{
	struct archive *a = archive_write_new();

	if (gnu)
		archive_write_set_format_gnutar(a);
	else
		archive_write_set_format_pax(a);
	cr_assert_eq(archive_write_open_filename(a, out), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const struct hent *h = &ents[i];
		struct archive_entry *ent = archive_entry_new();
		size_t dlen = h->data ? strlen(h->data) : 0;
		int64_t size = h->size >= 0 ? h->size : (int64_t)dlen;

		archive_entry_set_pathname(ent, h->name);
		archive_entry_set_filetype(ent, h->type);
		archive_entry_set_perm(ent, 0644);
		if (h->hardlink)
			archive_entry_set_hardlink(ent, h->hardlink);
		if (h->symlink)
			archive_entry_set_symlink(ent, h->symlink);
		if (h->type == AE_IFCHR)
			archive_entry_set_rdev(ent, makedev(1, 3));
		if (h->sparse)
			archive_entry_sparse_add_entry(ent, size - (int64_t)dlen, (int64_t)dlen);
		archive_entry_set_size(ent, h->type == AE_IFREG ? size : 0);
		cr_assert_geq(archive_write_header(a, ent), ARCHIVE_WARN, "%s",
			      archive_error_string(a));
		if (dlen)
			archive_write_data(a, h->data, dlen);
		archive_entry_free(ent);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* A real image (so a missing manifest is never why it fails) plus the
 * hostile entries, in that order. */
static char *hostile_archive(const struct hent *extra, size_t n, bool gnu)
{
	_cleanup_free_ char *dir = xasprintf("%s/src-hostile", work);
	char *out = xasprintf("%s/hostile.tar", work);
	struct hent *all = xcalloc(ARRAY_SIZE(files) + 1 + n, sizeof(*all));
	char *data[ARRAY_SIZE(files) + 1] = { 0 };
	struct xerr e = { 0 };
	size_t k = 0, len;

	make_image(dir, "xen-4.17");
	for (size_t i = 0; i <= ARRAY_SIZE(files); i++) {
		const char *rel = i ? files[i - 1] : "manifest.json";
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);

		cr_assert_eq(file_read_all(p, 0, &data[i], &len, &e), 0, "%s", e.msg);
		all[k++] = (struct hent){ .name = rel, .type = AE_IFREG, .data = data[i],
					  .size = (int64_t)len };
	}
	for (size_t i = 0; i < n; i++)
		all[k++] = extra[i];
	hostile_write(out, all, k, gnu);
	for (size_t i = 0; i <= ARRAY_SIZE(files); i++)
		free(data[i]);
	free(all);
	return out;
}

static char *victim_make(const char *name)
{
	char *p = xasprintf("%s/%s", work, name);

	write_file(p, "original", 8);
	return p;
}

static void victim_intact(const char *p)
{
	_cleanup_free_ char *data = NULL;
	struct xerr e = { 0 };
	size_t len = 0;

	cr_assert_eq(file_read_all(p, 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert(len == 8 && memcmp(data, "original", 8) == 0, "%s was written through", p);
}

static void import_refused(const char *archive, const char *needle)
{
	char *argv[] = { "import", (char *)archive, NULL };
	_cleanup_free_ char *ls = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_cmd_import(2, argv, &e), -1, "a hostile archive was imported");
	cr_assert_not_null(strstr(e.msg, needle), "%s", e.msg);
	ls = store_listing();
	cr_assert_str_eq(ls, "", "store changed: %s", ls);
}

Test(fetch, hostile_hard_link_absolute_target)
{
	_cleanup_free_ char *victim = victim_make("victim");
	struct hent h[] = { { .name = "boot/extra", .type = AE_IFREG, .hardlink = victim,
			      .data = "pwned", .size = -1 } };
	_cleanup_free_ char *a = hostile_archive(h, 1, false);

	import_refused(a, "hard link");
	victim_intact(victim);
}

Test(fetch, hostile_hard_link_relative_target)
{
	_cleanup_free_ char *victim = victim_make("victim-rel");
	struct hent h[] = { { .name = "x", .type = AE_IFREG, .hardlink = "victim-rel",
			      .data = "pwned", .size = -1 } };
	_cleanup_free_ char *a = hostile_archive(h, 1, false);

	/* A relative target would be resolved against the working directory. */
	cr_assert_eq(chdir(work), 0);
	import_refused(a, "hard link");
	victim_intact(victim);
}

Test(fetch, hostile_hard_link_to_a_named_file)
{
	/* Even a link inside the image: the store holds plain files only. */
	struct hent h[] = { { .name = "boot/xen.gz", .type = AE_IFREG, .hardlink = "root.qcow2",
			      .data = "", .size = 0 } };
	_cleanup_free_ char *a = hostile_archive(h, 1, true);

	import_refused(a, "");
}

Test(fetch, hostile_symlink_then_file_through_it)
{
	_cleanup_free_ char *outside = xasprintf("%s/outside", work);
	_cleanup_free_ char *planted = xasprintf("%s/outside/x", work);
	_cleanup_free_ char *victim = victim_make("victim-sym");
	struct hent h[] = {
		{ .name = "d", .type = AE_IFLNK, .symlink = outside },
		{ .name = "d/x", .type = AE_IFREG, .data = "pwned", .size = -1 },
		{ .name = "f", .type = AE_IFLNK, .symlink = victim },
		{ .name = "f", .type = AE_IFREG, .data = "pwned", .size = -1 },
	};
	struct xerr e = { 0 };
	_cleanup_free_ char *a = hostile_archive(h, ARRAY_SIZE(h), false);

	cr_assert_eq(mkdir_p(outside, 0755, &e), 0, "%s", e.msg);
	import_refused(a, "symbolic link");
	cr_assert_not(path_exists(planted));
	victim_intact(victim);
}

Test(fetch, hostile_dot_dot_and_absolute_names)
{
	const char *names[] = { "boot/../../escaped", "../escaped", "/tmp/xlab-escaped-abs",
				"./boot/./x", "boot//x" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct hent h[] = { { .name = names[i], .type = AE_IFREG, .data = "pwned",
				      .size = -1 } };
		_cleanup_free_ char *a = hostile_archive(h, 1, false);
		_cleanup_free_ char *esc = xasprintf("%s/escaped", home);

		import_refused(a, "");
		cr_assert_not(path_exists(esc), "%s escaped", names[i]);
		cr_assert_not(path_exists("/tmp/xlab-escaped-abs"), "%s escaped", names[i]);
	}
}

Test(fetch, hostile_device_and_fifo)
{
	struct hent dev[] = { { .name = "boot/null", .type = AE_IFCHR } };
	struct hent fifo[] = { { .name = "boot/fifo", .type = AE_IFIFO } };
	_cleanup_free_ char *a = hostile_archive(dev, 1, false);

	import_refused(a, "not a plain file");
	free(a);
	a = hostile_archive(fifo, 1, false);
	import_refused(a, "not a plain file");
}

/* GNU tar's own sparse members (old GNU and pax 1.0 forms): root.qcow2, a
 * name the manifest lists, as 1 TiB of holes around 16 bytes, in a 10 KiB
 * archive. Hashing it would read the whole terabyte. */
static void sparse_case(const char *format)
{
	_cleanup_free_ char *dir = xasprintf("%s/src-sparse", work);
	_cleanup_free_ char *big = xasprintf("%s/root.qcow2", dir);
	_cleanup_free_ char *out = xasprintf("%s/sparse-%s.tar", work, format);
	_cleanup_free_ char *fmt = xasprintf("--format=%s", format);
	char *argv[] = { "tar", "--sparse", fmt, "-C", dir, "-cf", out, "manifest.json",
			 "boot", "root.qcow2", NULL };
	struct spawn_result res = { 0 };
	struct xerr e = { 0 };
	int fd;
	int64_t t0;

	make_image(dir, "xen-4.17");
	fd = open(big, O_WRONLY | O_TRUNC | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "0123456789abcdef", 16, 1ll << 40), 16);
	close(fd);
	cr_assert_eq(spawn_check(argv, &(struct spawn_opts){ 0 }, &res, &e), 0, "%s", e.msg);
	spawn_result_free(&res);
	t0 = now_ms();
	import_refused(out, "sparse");
	cr_assert_lt(now_ms() - t0, 5000, "the holes were read");
}

Test(fetch, hostile_huge_sparse_member_gnu)
{
	sparse_case("gnu");
}

Test(fetch, hostile_huge_sparse_member_pax)
{
	sparse_case("pax");
}

/* One ustar header by hand, its size in GNU's base-256 form (no writer
 * library will emit a header for data it is not given). */
static void raw_header(unsigned char h[512], const char *name, uint64_t size)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	h[124] = 0x80;
	for (int i = 0; i < 8; i++)
		h[135 - i] = (unsigned char)(size >> (8 * i));
	memcpy(h + 136, "00000000000", 12);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

Test(fetch, hostile_member_larger_than_the_disk)
{
	/* A header claiming 1 PiB over a one-block body: refused from the
	 * header, before a byte is written or hashed. */
	_cleanup_free_ char *a = xasprintf("%s/huge.tar", work);
	unsigned char blk[1024] = { 0 };
	int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert(fd >= 0);
	raw_header(blk, "boot/huge", 1ull << 50);
	memset(blk + 512, 'x', 512);
	cr_assert_eq(write(fd, blk, sizeof(blk)), (ssize_t)sizeof(blk));
	close(fd);
	import_refused(a, "disk full");
}

Test(fetch, hostile_files_the_manifest_does_not_name)
{
	struct hent h[] = { { .name = "boot/evil.sh", .type = AE_IFREG, .data = "#!/bin/sh\n",
			      .size = -1 } };
	_cleanup_free_ char *a = hostile_archive(h, 1, false);

	import_refused(a, "not named in the image's manifest");
}

Test(fetch, hostile_entry_twice)
{
	struct hent h[] = { { .name = "root.qcow2", .type = AE_IFREG, .data = "again",
			      .size = -1 } };
	_cleanup_free_ char *a = hostile_archive(h, 1, false);

	import_refused(a, "twice");
}
