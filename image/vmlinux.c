/* A kernel unpacked: a bzImage holds the kernel's ELF as a compressed
 * payload, which libxc would decompress in the dom0 at every `xl create` of
 * a PV or PVH guest (8 of the 9 s a create took under TCG), and Xen as it
 * builds a PV dom0 (0.4 s). Unpacked here, at native speed, they load the
 * ELF as it is: the guest kit's at image build, a host's dom0 kernel as
 * `up` makes its boot files. */
#include "vmlinux.h"

#include <archive.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Boot protocol fields (Documentation/arch/x86/boot.rst). */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_MAGIC 0x202
#define BZ_VERSION 0x206
#define BZ_PAYLOAD_OFFSET 0x248
#define BZ_PAYLOAD_LENGTH 0x24c
#define BZ_HEADER_END 0x250
/* payload_offset and payload_length came with boot protocol 2.08. */
#define BZ_VERSION_PAYLOAD 0x0208
/* A kernel's ELF is tens of MiB; refuse what no kernel needs. */
#define VMLINUX_MAX (512u << 20)

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

bool bzimage_file_is(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char magic[4];

	return fd >= 0 && pread(fd, magic, sizeof(magic), BZ_MAGIC) == (ssize_t)sizeof(magic) &&
	       memcmp(magic, "HdrS", 4) == 0;
}

int bzimage_payload(const unsigned char *img, size_t len, size_t *off, size_t *plen,
		    struct xerr *e)
{
	unsigned sects;
	size_t start;

	if (len < BZ_HEADER_END || memcmp(img + BZ_MAGIC, "HdrS", 4) != 0)
		return xerr_set(e, XERR_USAGE, "not a Linux bzImage (no HdrS header)");
	if (le16(img + BZ_VERSION) < BZ_VERSION_PAYLOAD)
		return xerr_set(e, XERR_USAGE,
				"boot protocol %#x is older than 2.08: no payload fields",
				le16(img + BZ_VERSION));
	/* 0 setup sectors means 4, for old kernels' sake. */
	sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	start = (size_t)(sects + 1) * 512;
	*off = start + le32(img + BZ_PAYLOAD_OFFSET);
	*plen = le32(img + BZ_PAYLOAD_LENGTH);
	if (*plen == 0 || *off > len || *plen > len - *off)
		return xerr_set(e, XERR_USAGE,
				"the payload (%zu bytes at %zu) is not inside the %zu-byte file",
				*plen, *off, len);
	return 0;
}

/* What is unpacked goes to a file as it comes: a kernel is 16-60 MB, and
 * `up` unpacks one per host it makes (host/hostprep.c). */
struct sink {
	int fd;
	size_t len;
	unsigned char head[4];
};

/* Whatever compression the kernel was built with: libarchive knows them. */
static int payload_unpack(const unsigned char *p, size_t n, struct sink *out, struct xerr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	char chunk[1 << 16];
	la_ssize_t got;
	int rc = -1;

	out->len = 0;
	if (lseek(out->fd, 0, SEEK_SET) < 0 || ftruncate(out->fd, 0) < 0) {
		xerr_errno(e, XERR_IO, "cannot empty the unpacked kernel's file");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, p, n) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		xerr_set(e, XERR_USAGE, "cannot read the payload: %s", archive_error_string(a));
		goto out;
	}
	if (archive_filter_count(a) < 2) {
		xerr_set(e, XERR_USAGE, "the payload is not compressed in a known way");
		goto out;
	}
	while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)got > VMLINUX_MAX) {
			xerr_set(e, XERR_USAGE, "the payload unpacks to more than %u MiB",
				 VMLINUX_MAX >> 20);
			goto out;
		}
		for (size_t i = 0; out->len + i < sizeof(out->head) && i < (size_t)got; i++)
			out->head[out->len + i] = (unsigned char)chunk[i];
		if (fd_write_all(out->fd, chunk, (size_t)got) < 0) {
			xerr_errno(e, XERR_IO, "cannot write the unpacked kernel");
			goto out;
		}
		out->len += (size_t)got;
	}
	if (got < 0) {
		xerr_set(e, XERR_USAGE, "cannot unpack the payload (%s): %s",
			 archive_filter_name(a, 0), archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

/* The payload ends with the unpacked size, as the kernel's own decompressor
 * reads it: appended after an xz, zstd, lz4... stream, the last field of a
 * gzip one. So the stream is the payload less 4 bytes, or all of it. */
static int payload_unpack_sized(const unsigned char *p, size_t n, struct sink *out,
				struct xerr *e)
{
	struct xerr first = { 0 };
	uint32_t want;

	if (n < 8)
		return xerr_set(e, XERR_USAGE, "the payload is %zu bytes: too short", n);
	want = le32(p + n - 4);
	/* A write that failed fails the same way again: only the format is retried. */
	if (payload_unpack(p, n - 4, out, &first) < 0 &&
	    (first.kind == XERR_IO || payload_unpack(p, n, out, e) < 0)) {
		*e = first;
		return -1;
	}
	if (out->len != want)
		return xerr_set(e, XERR_USAGE,
				"the payload unpacks to %zu bytes where its trailer says %u",
				out->len, want);
	return 0;
}

int vmlinux_extract(const char *bzimage, const char *out, struct xerr *e)
{
	_cleanup_free_ char *img = NULL, *tmp = xasprintf("%s.tmp.XXXXXX", out);
	struct sink elf = { .fd = mkostemp(tmp, O_CLOEXEC) };
	size_t len, off, plen;
	int rc = -1;

	if (elf.fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", tmp);
	if (file_read_all(bzimage, 64u << 20, &img, &len, e) < 0 ||
	    bzimage_payload((unsigned char *)img, len, &off, &plen, e) < 0 ||
	    payload_unpack_sized((unsigned char *)img + off, plen, &elf, e) < 0)
		goto out;
	if (elf.len < 4 || memcmp(elf.head, "\177ELF", 4) != 0) {
		xerr_set(e, XERR_USAGE, "the payload is not an ELF file");
		goto out;
	}
	if (fchmod(elf.fd, 0644) < 0 || fsync(elf.fd) < 0) {
		xerr_errno(e, XERR_IO, "cannot write %s", tmp);
		goto out;
	}
	if (rename(tmp, out) < 0) {
		xerr_errno(e, XERR_IO, "cannot rename %s to %s", tmp, out);
		goto out;
	}
	rc = 0;
out:
	close(elf.fd);
	if (rc < 0)
		unlink(tmp);
	return rc < 0 ? xerr_prefix(e, "unpacking the kernel %s", bzimage) : 0;
}
