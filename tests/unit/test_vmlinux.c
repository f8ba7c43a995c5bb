/* The guest kit's kernel unpacked from a bzImage: kernels made here with a
 * real header and a payload compressed by libarchive, as Debian's are. */
#include <criterion/criterion.h>
#include <string.h>

#include "bzimage.h"
#include "scratch.h"
#include "util.h"
#include "vmlinux.h"

TestSuite(vmlinux, .init = scratch_setup, .fini = scratch_teardown);

static const char elf[] = "\177ELF\2\1\1 a kernel's sections would follow";

/* A bzImage of the scratch store's (bzimage.h). */
static char *bzimage_write(const struct buf *payload, uint32_t claimed_len)
{
	char *path = xasprintf("%s/vmlinuz", scratch_home);

	bzimage_write_at(path, payload, claimed_len);
	return path;
}

static void unpacks_with(int filter)
{
	struct buf z = { 0 };
	_cleanup_free_ char *in = NULL, *out = xasprintf("%s/vmlinux", scratch_home);
	_cleanup_free_ char *got = NULL;
	struct xerr e = { 0 };
	size_t len;

	payload_compress(filter, elf, sizeof(elf), &z);
	in = bzimage_write(&z, (uint32_t)z.len);
	cr_assert_eq(vmlinux_extract(in, out, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(out, 0, &got, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(len, sizeof(elf));
	cr_assert_eq(memcmp(got, elf, len), 0);
	buf_free(&z);
}

Test(vmlinux, xz_payload) { unpacks_with(ARCHIVE_FILTER_XZ); }
Test(vmlinux, zstd_payload) { unpacks_with(ARCHIVE_FILTER_ZSTD); }
Test(vmlinux, gzip_payload) { unpacks_with(ARCHIVE_FILTER_GZIP); }

static void refused(const struct buf *payload, uint32_t claimed_len, const char *why)
{
	_cleanup_free_ char *in = bzimage_write(payload, claimed_len);
	_cleanup_free_ char *out = xasprintf("%s/vmlinux", scratch_home);
	struct xerr e = { 0 };

	cr_assert_eq(vmlinux_extract(in, out, &e), -1);
	cr_assert_not_null(strstr(e.msg, why), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, in), "the error names the file: %s", e.msg);
	cr_assert_not(path_exists(out), "nothing is written");
}

Test(vmlinux, a_payload_past_the_end_is_refused)
{
	struct buf z = { 0 };

	payload_compress(ARCHIVE_FILTER_XZ, elf, sizeof(elf), &z);
	refused(&z, (uint32_t)z.len + 100, "not inside");
	buf_free(&z);
}

Test(vmlinux, an_uncompressed_payload_is_refused)
{
	struct buf z = { 0 };

	payload_compress(ARCHIVE_FILTER_NONE, elf, sizeof(elf), &z);
	refused(&z, (uint32_t)z.len, "not compressed");
	buf_free(&z);
}

Test(vmlinux, a_payload_that_is_no_elf_is_refused)
{
	static const char text[] = "#!/bin/sh\necho not a kernel\n";
	struct buf z = { 0 };

	payload_compress(ARCHIVE_FILTER_XZ, text, sizeof(text), &z);
	refused(&z, (uint32_t)z.len, "not an ELF");
	buf_free(&z);
}

Test(vmlinux, a_payload_whose_trailer_lies_is_refused)
{
	struct buf z = { 0 };

	payload_compress(ARCHIVE_FILTER_XZ, elf, sizeof(elf), &z);
	z.data[z.len - 4]++;
	refused(&z, (uint32_t)z.len, "where its trailer says");
	buf_free(&z);
}

Test(vmlinux, a_truncated_payload_is_refused)
{
	struct buf z = { 0 };

	payload_compress(ARCHIVE_FILTER_XZ, elf, sizeof(elf), &z);
	memmove(z.data + z.len - 16, z.data + z.len - 4, 4);
	z.len -= 12;
	refused(&z, (uint32_t)z.len, "cannot");
	buf_free(&z);
}

Test(vmlinux, a_file_without_the_header_is_refused)
{
	_cleanup_free_ char *in = xasprintf("%s/vmlinuz", scratch_home);
	_cleanup_free_ char *out = xasprintf("%s/vmlinux", scratch_home);
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(in, elf, sizeof(elf), 0644, &e), 0);
	cr_assert_eq(vmlinux_extract(in, out, &e), -1);
	cr_assert_not_null(strstr(e.msg, "not a Linux bzImage"), "%s", e.msg);
}
