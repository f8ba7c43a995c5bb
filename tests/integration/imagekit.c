#include "imagekit.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "util.h"

char home[64], work[64];

void imagekit_setup(void)
{
	strcpy(home, "/tmp/xlab-fetch-home-XXXXXX");
	strcpy(work, "/tmp/xlab-fetch-work-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	cr_assert_not_null(mkdtemp(work));
	setenv("XLAB_HOME", home, 1);
	signal(SIGPIPE, SIG_IGN);
}

void imagekit_teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	rm_rf(work, &e);
}

const char *const image_files[4] = { "root.qcow2", "boot/xen.gz", "boot/vmlinuz",
				      "boot/initrd.img" };

void write_file(const char *path, const void *data, size_t len)
{
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(path, data, len, 0644, &e), 0, "%s", e.msg);
}

/* root.qcow2 is large enough (and incompressible enough) that the archive
 * spans several TCP writes, so truncation lands mid-body. */
void make_image(const char *dir, const char *name)
{
	json_object *m = json_object_new_object(), *fs = json_object_new_object();
	_cleanup_free_ char *boot = xasprintf("%s/boot", dir);
	_cleanup_free_ char *mp = xasprintf("%s/manifest.json", dir);
	struct xerr e = { 0 };
	const char *s;

	cr_assert_eq(mkdir_p(boot, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(image_files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, image_files[i]);
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
		json_object_object_add(fs, image_files[i], json_object_new_string(sha));
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

char *store_listing(void)
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
