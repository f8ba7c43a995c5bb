/* The image store: manifest parsing, opening, verification, list, rm. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "sha256.h"
#include "util.h"

static char home[64];

static void setup_home(void)
{
	strcpy(home, "/tmp/xlab-image-test-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	setenv("XLAB_HOME", home, 1);
}

static void teardown_home(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
}

TestSuite(image, .init = setup_home, .fini = teardown_home);

static void write_file(const char *path, const char *data)
{
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(path, data, strlen(data), 0644, &e), 0, "%s", e.msg);
}

static const char *files[] = { "root.qcow2", "boot/xen.gz", "boot/vmlinuz", "boot/initrd.img" };

/* A tiny but complete image directory: real files, real hashes. */
static char *make_image_at(const char *dir, const char *name)
{
	json_object *m = json_object_new_object(), *fs = json_object_new_object();
	json_object *pk = json_object_new_array();
	_cleanup_free_ char *boot = xasprintf("%s/boot", dir);
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(boot, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);
		_cleanup_free_ char *body = xasprintf("contents of %s in %s\n", files[i], name);
		char sha[65];

		write_file(p, body);
		cr_assert_eq(sha256_file_hex(p, sha, &e), 0, "%s", e.msg);
		json_object_object_add(fs, files[i], json_object_new_string(sha));
	}
	json_object_array_add(pk, json_object_new_string("xen-hypervisor-4.17-amd64"));
	json_object_array_add(pk, json_object_new_string("openssh-server"));
	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(m, "xen_version", json_object_new_string("4.17.5"));
	json_object_object_add(m, "kernel_version", json_object_new_string("6.1.0-37-amd64"));
	json_object_object_add(m, "suite", json_object_new_string("bookworm"));
	json_object_object_add(m, "packages", pk);
	json_object_object_add(m, "built", json_object_new_string("2026-01-02T03:04:05Z"));
	json_object_object_add(m, "recipe", json_object_new_string("abc"));
	json_object_object_add(m, "files", fs);
	{
		_cleanup_free_ char *mp = xasprintf("%s/manifest.json", dir);

		write_file(mp, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY));
	}
	json_object_put(m);
	return xstrdup(dir);
}

static char *make_image(const char *name)
{
	_cleanup_free_ char *dir = xasprintf("%s/images/%s", home, name);

	return make_image_at(dir, name);
}

static const char good[] =
	"{\"name\":\"xen-4.17\",\"xen_version\":\"4.17.5\",\"kernel_version\":\"6.1.0-37-amd64\","
	"\"suite\":\"bookworm\",\"packages\":[\"xen-utils-4.17\",\"lvm2\"],"
	"\"built\":\"2026-01-02T03:04:05Z\",\"recipe\":\"r1\",\"files\":{"
	"\"root.qcow2\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
	"\"boot/xen.gz\":\"FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210\"}}\n";

Test(image, manifest_parses_every_field)
{
	struct image *img = NULL;
	struct xerr e = { 0 };
	char sha[65];

	cr_assert_eq(image_manifest_parse(good, strlen(good), "/x/xen-4.17", &img, &e), 0, "%s", e.msg);
	cr_assert_str_eq(img->name, "xen-4.17");
	cr_assert_str_eq(img->xen_version, "4.17.5");
	cr_assert_str_eq(img->kernel_version, "6.1.0-37-amd64");
	cr_assert_str_eq(img->suite, "bookworm");
	cr_assert_str_eq(img->built, "2026-01-02T03:04:05Z");
	cr_assert_eq(strv_len(img->packages), 2);
	cr_assert_str_eq(img->packages[1], "lvm2");
	cr_assert_eq(img->n_files, 2);
	cr_assert_str_eq(img->files[0].path, "root.qcow2");
	/* Digests are compared as lower case whatever the manifest used. */
	cr_assert_str_eq(img->files[1].sha256,
			 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
	sha256_hex(good, strlen(good), sha);
	cr_assert_str_eq(img->manifest_sha256, sha);
	{
		_cleanup_free_ char *p = image_path(img, "boot/xen.gz");

		cr_assert_str_eq(p, "/x/xen-4.17/boot/xen.gz");
	}
	image_free(img);
}

/* The agent its build put in the root: a digest, or nothing; a value that is
 * no sha256 counts as nothing (up then pushes, as for an image without). */
Test(image, manifest_names_the_agent_it_holds)
{
	static const char *const cases[][2] = {
		{ ",\"agent\":{\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}",
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ ",\"agent\":{\"sha256\":\"not a digest\"}}", NULL },
		{ ",\"agent\":\"0123\"}", NULL },
		{ "}", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *json = NULL;
		struct image *img = NULL;
		struct xerr e = { 0 };

		json = xasprintf("%.*s%s", (int)(strrchr(good, '}') - good), good, cases[i][0]);
		cr_assert_eq(image_manifest_parse(json, strlen(json), "/x/xen-4.17", &img, &e), 0,
			     "%s: %s", json, e.msg);
		if (cases[i][1])
			cr_assert_str_eq(img->agent_sha256, cases[i][1]);
		else
			cr_assert_null(img->agent_sha256, "case %zu", i);
		image_free(img);
	}
}

static void expect_bad(const char *json, const char *needle)
{
	struct image *img = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_manifest_parse(json, strlen(json), "/x", &img, &e), -1,
		     "accepted: %s", json);
	cr_assert_null(img);
	cr_assert_not_null(strstr(e.msg, needle), "'%s' not in: %s", needle, e.msg);
}

#define HEAD "{\"name\":\"xen-4.17\",\"xen_version\":\"4\",\"kernel_version\":\"6\",\"suite\":\"b\"," \
	     "\"packages\":[],\"built\":\"t\","
#define SHA "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""

Test(image, manifest_rejects_bad_input)
{
	expect_bad("{\"name\":", "not valid JSON");
	expect_bad("[1,2]", "JSON object");
	expect_bad(HEAD "\"files\":{\"root.qcow2\":" SHA "}} x", "after the object");
	expect_bad(HEAD "\"files\":{}}", "empty");
	expect_bad(HEAD "\"files\":{\"root.qcow2\":\"abc\"}}", "64 hex");
	expect_bad(HEAD "\"files\":{\"../etc/passwd\":" SHA "}}", "not a path inside");
	expect_bad(HEAD "\"files\":{\"/etc/passwd\":" SHA "}}", "not a path inside");
	expect_bad(HEAD "\"files\":{\"boot//x\":" SHA "}}", "not a path inside");
	expect_bad(HEAD "\"files\":[]}", "\"files\" must be");
	expect_bad("{\"name\":\"Xen 4\",\"xen_version\":\"4\",\"kernel_version\":\"6\",\"suite\":\"b\","
		   "\"packages\":[],\"built\":\"t\",\"files\":{\"a\":" SHA "}}", "valid image name");
	expect_bad("{\"name\":\"xen-4.17\",\"kernel_version\":\"6\",\"suite\":\"b\","
		   "\"packages\":[],\"built\":\"t\",\"files\":{\"a\":" SHA "}}", "\"xen_version\"");
	expect_bad("{\"name\":\"xen-4.17\",\"xen_version\":\"4\",\"kernel_version\":\"6\",\"suite\":\"b\","
		   "\"packages\":[1],\"built\":\"t\",\"files\":{\"a\":" SHA "}}", "\"packages\"[0]");
}

Test(image, names)
{
	_cleanup_free_ char *n = image_name_for_xen("4.17");

	cr_assert_str_eq(n, "xen-4.17");
	cr_assert(image_name_valid("xen-4.20"));
	cr_assert(image_name_valid("0"));
	cr_assert_not(image_name_valid(""));
	cr_assert_not(image_name_valid(".hidden"));
	cr_assert_not(image_name_valid("-x"));
	cr_assert_not(image_name_valid("Xen"));
	cr_assert_not(image_name_valid("a/b"));
	cr_assert_not(image_name_valid("a_b"));
	cr_assert(image_name_valid("a23456789012345678901234567890123456789012345678901234567890123"));
	cr_assert_not(image_name_valid("a234567890123456789012345678901234567890123456789012345678901234"));
}

Test(image, open_missing_says_how_to_get_it)
{
	struct image *img = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_open("xen-4.17", &img, &e), -1);
	cr_assert_null(img);
	cr_assert_not_null(strstr(e.msg, "image 'xen-4.17' is not in the store"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "`xlab image build xen-4.17`"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "xlab image fetch URL --sha256 HEX"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, home), "%s", e.msg);
	cr_assert_eq(image_open("../etc", &img, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
}

Test(image, open_and_verify_good_image)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	struct image *img = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_open("xen-4.17", &img, &e), 0, "%s", e.msg);
	cr_assert_str_eq(img->dir, dir);
	cr_assert_eq(img->n_files, 4);
	cr_assert_eq(image_verify(img, &e), 0, "%s", e.msg);
	image_free(img);
}

Test(image, open_refuses_manifest_for_another_name)
{
	_cleanup_free_ char *dir = xasprintf("%s/images/xen-4.20", home);
	_cleanup_free_ char *d = make_image_at(dir, "xen-4.17");
	struct image *img = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_open("xen-4.20", &img, &e), -1);
	cr_assert_not_null(strstr(e.msg, "names image 'xen-4.17'"), "%s", e.msg);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	char c;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	cr_assert_eq(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

Test(image, verify_names_the_corrupted_file)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	_cleanup_free_ char *xen = xasprintf("%s/boot/xen.gz", dir);
	struct image *img = NULL;
	struct xerr e = { 0 };
	struct timespec ts[2];
	struct stat st;

	cr_assert_eq(image_open("xen-4.17", &img, &e), 0, "%s", e.msg);
	cr_assert_eq(image_verify(img, &e), 0, "%s", e.msg);
	/* Same size, rewritten within the same (coarse) clock tick as the file
	 * was made and hashed, so the mtime did not move: the cache must not
	 * vouch for a file that recent. */
	cr_assert_eq(stat(xen, &st), 0);
	flip_byte(xen, 3);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	cr_assert_eq(utimensat(AT_FDCWD, xen, ts, 0), 0);
	cr_assert_eq(image_verify(img, &e), -1);
	cr_assert_not_null(strstr(e.msg, "boot/xen.gz"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "corrupted"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "xlab image build xen-4.17"), "%s", e.msg);
	image_free(img);
}

Test(image, verify_reports_missing_file)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	_cleanup_free_ char *rd = xasprintf("%s/boot/initrd.img", dir);
	struct image *img = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(image_open("xen-4.17", &img, &e), 0, "%s", e.msg);
	unlink(rd);
	cr_assert_eq(image_verify(img, &e), -1);
	cr_assert_not_null(strstr(e.msg, "boot/initrd.img is missing"), "%s", e.msg);
	image_free(img);
}

static void age_files(const char *dir)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 3600;
	ts[1] = ts[0];
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);

		cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
}

Test(image, verify_caches_by_size_and_mtime)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	_cleanup_free_ char *root = xasprintf("%s/root.qcow2", dir);
	_cleanup_free_ char *cache = xasprintf("%s/.verified", dir);
	struct image *img = NULL;
	struct xerr e = { 0 };
	struct stat before;
	struct timespec ts[2];

	age_files(dir);
	cr_assert_eq(image_open("xen-4.17", &img, &e), 0, "%s", e.msg);
	cr_assert_eq(image_verify(img, &e), 0, "%s", e.msg);
	cr_assert(path_exists(cache));
	/* Change a byte but put size and mtime back: the cache is trusted, which
	 * is what keeps `up` from re-hashing gigabytes... */
	cr_assert_eq(stat(root, &before), 0);
	flip_byte(root, 0);
	ts[0] = before.st_atim;
	ts[1] = before.st_mtim;
	cr_assert_eq(utimensat(AT_FDCWD, root, ts, 0), 0);
	cr_assert_eq(image_verify(img, &e), 0, "%s", e.msg);
	/* ...while the full check still sees it, */
	cr_assert_eq(image_verify_full(img, &e), -1);
	cr_assert_not_null(strstr(e.msg, "root.qcow2"), "%s", e.msg);
	/* and any mtime change makes the cached check re-hash. */
	ts[1].tv_nsec = (ts[1].tv_nsec + 1) % 1000000000;
	cr_assert_eq(utimensat(AT_FDCWD, root, ts, 0), 0);
	cr_assert_eq(image_verify(img, &e), -1);
	cr_assert_not_null(strstr(e.msg, "root.qcow2"), "%s", e.msg);
	image_free(img);
}

/* Runs fn with stdout going to a file; returns what it printed. */
static char *capture(int (*fn)(int, char **, struct xerr *), int argc, char **argv, int *rc,
		     struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/stdout", home);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), saved = dup(1);
	char *out = NULL;
	size_t len;
	struct xerr e2 = { 0 };

	fflush(stdout);
	dup2(fd, 1);
	*rc = fn(argc, argv, e);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	cr_assert_eq(file_read_all(path, 0, &out, &len, &e2), 0, "%s", e2.msg);
	unlink(path);
	return out;
}

Test(image, list_json)
{
	_cleanup_free_ char *a = make_image("xen-4.20");
	_cleanup_free_ char *b = make_image("xen-4.17");
	_cleanup_free_ char *junk = xasprintf("%s/images/.xen-4.17.tmp-1", home);
	char *argv[] = { "list", "--json", NULL };
	struct xerr e = { 0 };
	_cleanup_free_ char *out = NULL;
	json_object *arr, *first;
	int rc;

	mkdir(junk, 0755); /* work in progress is not listed */
	out = capture(image_cmd_list, 2, argv, &rc, &e);
	cr_assert_eq(rc, 0, "%s", e.msg);
	arr = json_tokener_parse(out);
	cr_assert_not_null(arr, "not JSON: %s", out);
	cr_assert(json_object_is_type(arr, json_type_array));
	cr_assert_eq(json_object_array_length(arr), 2, "%s", out);
	first = json_object_array_get_idx(arr, 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(first, "name")), "xen-4.17");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(first, "xen_version")), "4.17.5");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(first, "kernel_version")),
			 "6.1.0-37-amd64");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(first, "suite")), "bookworm");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(first, "built")),
			 "2026-01-02T03:04:05Z");
	cr_assert_gt(json_object_get_int64(json_object_object_get(first, "size")), 0);
	json_object_put(arr);
}

Test(image, list_table_and_inspect_json)
{
	_cleanup_free_ char *a = make_image("xen-4.17");
	char *largv[] = { "list", NULL };
	char *iargv[] = { "inspect", "xen-4.17", "--json", NULL };
	struct xerr e = { 0 };
	_cleanup_free_ char *table = NULL, *out = NULL;
	json_object *o;
	int rc;

	table = capture(image_cmd_list, 1, largv, &rc, &e);
	cr_assert_eq(rc, 0, "%s", e.msg);
	cr_assert_not_null(strstr(table, "NAME"), "%s", table);
	cr_assert_not_null(strstr(table, "xen-4.17"), "%s", table);
	cr_assert_not_null(strstr(table, "6.1.0-37-amd64"), "%s", table);
	out = capture(image_cmd_inspect, 3, iargv, &rc, &e);
	cr_assert_eq(rc, 0, "%s", e.msg);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "not JSON: %s", out);
	cr_assert(json_object_get_boolean(json_object_object_get(o, "verified")));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(
				 json_object_object_get(o, "manifest"), "recipe")), "abc");
	json_object_put(o);
}

Test(image, inspect_reports_corruption)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	_cleanup_free_ char *vm = xasprintf("%s/boot/vmlinuz", dir);
	char *argv[] = { "inspect", "xen-4.17", NULL };
	struct xerr e = { 0 };
	_cleanup_free_ char *out = NULL;
	int rc;

	flip_byte(vm, 1);
	out = capture(image_cmd_inspect, 2, argv, &rc, &e);
	cr_assert_eq(rc, -1);
	cr_assert_not_null(strstr(out, "verified:       FAILED"), "%s", out);
	cr_assert_not_null(strstr(e.msg, "boot/vmlinuz"), "%s", e.msg);
}

/* A qcow2 overlay header with a backing file name, as qemu-img writes it. */
static void write_overlay(const char *path, const char *backing)
{
	unsigned char hdr[512] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	uint32_t len = (uint32_t)strlen(backing);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	hdr[15] = 0x80; /* backing_file_offset = 0x80 */
	hdr[16] = (unsigned char)(len >> 24);
	hdr[17] = (unsigned char)(len >> 16);
	hdr[18] = (unsigned char)(len >> 8);
	hdr[19] = (unsigned char)len;
	memcpy(hdr + 0x80, backing, len);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	close(fd);
}

Test(image, rm_refuses_while_a_lab_uses_it)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	_cleanup_free_ char *other = make_image("xen-4.20");
	_cleanup_free_ char *host = xasprintf("%s/labs/demo/hosts/h1", home);
	_cleanup_free_ char *disk = xasprintf("%s/root.qcow2", host);
	_cleanup_free_ char *backing = xasprintf("%s/root.qcow2", dir);
	_cleanup_free_ char *lab = xasprintf("%s/labs/demo", home);
	char *argv[] = { "rm", "xen-4.17", NULL };
	char *argv2[] = { "rm", "xen-4.20", NULL };
	struct xerr e = { 0 };
	_cleanup_free_ char *o1 = NULL, *o2 = NULL, *o3 = NULL;
	int rc;

	cr_assert_eq(mkdir_p(host, 0755, &e), 0, "%s", e.msg);
	write_overlay(disk, backing);
	o1 = capture(image_cmd_rm, 2, argv, &rc, &e);
	cr_assert_eq(rc, -1);
	cr_assert_not_null(strstr(e.msg, "lab 'demo'"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "`xlab down demo`"), "%s", e.msg);
	cr_assert(path_exists(dir));
	/* An image no lab uses goes. */
	o2 = capture(image_cmd_rm, 2, argv2, &rc, &e);
	cr_assert_eq(rc, 0, "%s", e.msg);
	cr_assert_not(path_exists(other));
	/* Once the lab is down, rm works and leaves nothing behind. */
	cr_assert_eq(rm_rf(lab, &e), 0);
	o3 = capture(image_cmd_rm, 2, argv, &rc, &e);
	cr_assert_eq(rc, 0, "%s", e.msg);
	cr_assert_not(path_exists(dir));
	{
		_cleanup_free_ char *images = xasprintf("%s/images", home);
		_cleanup_free_ char *listing = NULL;
		char *largv[] = { "list", "--json", NULL };

		listing = capture(image_cmd_list, 2, largv, &rc, &e);
		cr_assert_str_eq(listing, "[\n]\n", "%s", listing);
		(void)images;
	}
}

Test(image, rm_follows_relative_backing_names)
{
	_cleanup_free_ char *dir = make_image("xen-4.17");
	_cleanup_free_ char *host = xasprintf("%s/labs/web/hosts/h2", home);
	_cleanup_free_ char *disk = xasprintf("%s/root.qcow2", host);
	char *argv[] = { "rm", "xen-4.17", NULL };
	struct xerr e = { 0 };
	_cleanup_free_ char *out = NULL;
	int rc;

	cr_assert_eq(mkdir_p(host, 0755, &e), 0, "%s", e.msg);
	write_overlay(disk, "../../../../images/xen-4.17/root.qcow2");
	out = capture(image_cmd_rm, 2, argv, &rc, &e);
	cr_assert_eq(rc, -1);
	cr_assert_not_null(strstr(e.msg, "`xlab down web`"), "%s", e.msg);
}
