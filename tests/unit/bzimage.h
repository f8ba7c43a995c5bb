/* Kernels made for the tests: a real bzImage header around a payload
 * compressed by libarchive, as Debian's and xlab's kernels are. */
#ifndef XLAB_TEST_BZIMAGE_H
#define XLAB_TEST_BZIMAGE_H

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* data compressed with filter (ARCHIVE_FILTER_XZ, ...), or as it is. */
static inline void payload_compress(int filter, const void *data, size_t n, struct buf *out)
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

/* A bzImage at path of 2 setup sectors, protocol 2.15, the payload 16
 * bytes into the protected-mode part and 8 bytes of trailer behind it. */
static inline void bzimage_write_at(const char *path, const struct buf *payload,
				    uint32_t claimed_len)
{
	size_t start = 3 * 512 + 16, len = start + payload->len + 8;
	unsigned char *img = xcalloc(1, len);
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
}

#endif
