/* `xlab image import` refusing what must not reach the store: a file whose
 * digest is wrong, and hostile archives. The store and the image come from
 * imagekit.h. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image.h"
#include "imagekit.h"
#include "spawn.h"
#include "util.h"

TestSuite(fetch, .init = imagekit_setup, .fini = imagekit_teardown, .timeout = 60);

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
	struct hent *all = xcalloc(ARRAY_SIZE(image_files) + 1 + n, sizeof(*all));
	char *data[ARRAY_SIZE(image_files) + 1] = { 0 };
	struct xerr e = { 0 };
	size_t k = 0, len;

	make_image(dir, "xen-4.17");
	for (size_t i = 0; i <= ARRAY_SIZE(image_files); i++) {
		const char *rel = i ? image_files[i - 1] : "manifest.json";
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);

		cr_assert_eq(file_read_all(p, 0, &data[i], &len, &e), 0, "%s", e.msg);
		all[k++] = (struct hent){ .name = rel, .type = AE_IFREG, .data = data[i],
					  .size = (int64_t)len };
	}
	for (size_t i = 0; i < n; i++)
		all[k++] = extra[i];
	hostile_write(out, all, k, gnu);
	for (size_t i = 0; i <= ARRAY_SIZE(image_files); i++)
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
