/* The guest kit's kernel unpacked from a bzImage: kernels made here with a
 * real header and a payload compressed by libarchive, as Debian's are. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <string.h>

#include "scratch.h"
#include "util.h"
#include "vmlinux.h"

TestSuite(vmlinux, .init = scratch_setup, .fini = scratch_teardown);

static const char elf[] = "\177ELF\2\1\1 a kernel's sections would follow";

/* data compressed with filter (ARCHIVE_FILTER_XZ, ...), or as it is. */
static void compress(int filter, const void *data, size_t n, struct buf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ent = archive_entry_new();
	size_t cap = 1 << 16, used = 0;

	out->data = xcalloc(1, cap);
	cr_assert_eq(archive_write_set_format_raw(a), ARCHIVE_OK);
	if (filter != ARCHIVE_FILTER_NONE)
		cr_assert_eq(archive_write_add_filter(a, filter), ARCHIVE_OK, "%s",
			     archive_error_string(a));
	cr_assert_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_memory(a, out->data, cap, &used), ARCHIVE_OK);
	archive_entry_set_pathname(ent, "data");
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_size(ent, (la_int64_t)n);
	cr_assert_eq(archive_write_header(a, ent), ARCHIVE_OK);
	cr_assert_eq(archive_write_data(a, data, n), (la_ssize_t)n);
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_entry_free(ent);
	archive_write_free(a);
	out->len = used;
	/* The kernel's build appends the unpacked size; gzip's trailer ends with it. */
	if (filter != ARCHIVE_FILTER_GZIP) {
		uint32_t size = (uint32_t)n;

		memcpy(out->data + out->len, &size, 4);
		out->len += 4;
	}
}

/* A bzImage of 2 setup sectors, protocol 2.15, the payload 16 bytes into
 * the protected-mode part and 8 bytes of trailer behind it. */
static char *bzimage_write(const struct buf *payload, uint32_t claimed_len)
{
	size_t start = 3 * 512 + 16, len = start + payload->len + 8;
	unsigned char *img = xcalloc(1, len);
	char *path = xasprintf("%s/vmlinuz", scratch_home);
	uint32_t off = 16;
	struct xerr e = { 0 };

	img[0x1f1] = 2;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;
	img[0x207] = 0x02;
	memcpy(img + 0x248, &off, 4);
	memcpy(img + 0x24c, &claimed_len, 4);
	memcpy(img + start, payload->data, payload->len);
	cr_assert_eq(file_write_atomic(path, img, len, 0644, &e), 0, "%s", e.msg);
	free(img);
	return path;
}

static void unpacks_with(int filter)
{
	struct buf z = { 0 };
	_cleanup_free_ char *in = NULL, *out = xasprintf("%s/vmlinux", scratch_home);
	_cleanup_free_ char *got = NULL;
	struct xerr e = { 0 };
	size_t len;

	compress(filter, elf, sizeof(elf), &z);
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

	compress(ARCHIVE_FILTER_XZ, elf, sizeof(elf), &z);
	refused(&z, (uint32_t)z.len + 100, "not inside");
	buf_free(&z);
}

Test(vmlinux, an_uncompressed_payload_is_refused)
{
	struct buf z = { 0 };

	compress(ARCHIVE_FILTER_NONE, elf, sizeof(elf), &z);
	refused(&z, (uint32_t)z.len, "not compressed");
	buf_free(&z);
}

Test(vmlinux, a_payload_that_is_no_elf_is_refused)
{
	static const char text[] = "#!/bin/sh\necho not a kernel\n";
	struct buf z = { 0 };

	compress(ARCHIVE_FILTER_XZ, text, sizeof(text), &z);
	refused(&z, (uint32_t)z.len, "not an ELF");
	buf_free(&z);
}

Test(vmlinux, a_payload_whose_trailer_lies_is_refused)
{
	struct buf z = { 0 };

	compress(ARCHIVE_FILTER_XZ, elf, sizeof(elf), &z);
	z.data[z.len - 4]++;
	refused(&z, (uint32_t)z.len, "where its trailer says");
	buf_free(&z);
}

Test(vmlinux, a_truncated_payload_is_refused)
{
	struct buf z = { 0 };

	compress(ARCHIVE_FILTER_XZ, elf, sizeof(elf), &z);
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
