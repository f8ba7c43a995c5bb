#include "hostprep.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"
#include "vmlinux.h"

int config_disk_write(const char *path, const struct config_entry *entries, size_t n,
		      struct xerr *e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	struct archive *a = archive_write_new();
	/* It holds the host's private keys: 0600 from its first byte (mkostemp),
	 * under a fresh name, so no planted link at a known name is followed. */
	int fd = mkostemp(tmp, O_CLOEXEC), rc = -1;

	archive_write_set_format_ustar(a);
	/* Whole 512-byte sectors: QEMU wants a disk size it can address. */
	archive_write_set_bytes_per_block(a, 10240);
	if (fd < 0) {
		xerr_errno(e, XERR_IO, "cannot create %s", tmp);
		archive_write_free(a);
		return -1;
	}
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		xerr_set(e, XERR_FAIL, "cannot create %s: %s", tmp, archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ent = archive_entry_new();

		archive_entry_set_pathname(ent, entries[i].name);
		archive_entry_set_size(ent, (la_int64_t)entries[i].len);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, (mode_t)entries[i].mode);
		archive_entry_set_mtime(ent, 0, 0); /* same inputs, same bytes */
		if (archive_write_header(a, ent) != ARCHIVE_OK ||
		    archive_write_data(a, entries[i].data, entries[i].len) < 0) {
			xerr_set(e, XERR_FAIL, "cannot write %s: %s", tmp,
				 archive_error_string(a));
			archive_entry_free(ent);
			goto out;
		}
		archive_entry_free(ent);
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		xerr_set(e, XERR_FAIL, "cannot write %s: %s", tmp, archive_error_string(a));
		goto out;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		xerr_errno(e, XERR_IO, "cannot put config disk in place at %s", path);
		goto out;
	}
	rc = 0;
out:
	archive_write_free(a);
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int qcow2_create(const char *path, const char *backing, uint64_t size, struct xerr *e)
{
	char sz[32];
	char *argv[12];
	int i = 0;
	struct spawn_result r;

	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	argv[i++] = "qemu-img";
	argv[i++] = "create";
	argv[i++] = "-q";
	argv[i++] = "-f";
	argv[i++] = "qcow2";
	if (backing) {
		argv[i++] = "-b";
		argv[i++] = (char *)backing;
		argv[i++] = "-F";
		argv[i++] = "qcow2";
	}
	argv[i++] = (char *)path;
	if (size)
		argv[i++] = sz;
	argv[i] = NULL;
	if (spawn_check(argv, NULL, &r, e) < 0)
		return xerr_prefix(e, "creating disk %s", path);
	spawn_result_free(&r);
	/* A lab disk holds what students and tests wrote: root's alone (libvirt
	 * gives QEMU its access when the domain starts, as for the config disk). */
	if (chmod(path, 0600) < 0)
		return xerr_errno(e, XERR_IO, "creating disk %s", path);
	return 0;
}

/* Hard links keep the ISO build from copying 60 MB per host; a copy is the
 * fallback across filesystems. */
static int link_or_copy(const char *from, const char *to, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (link(from, to) == 0)
		return 0;
	if (file_read_all(from, 0, &data, &len, e) < 0)
		return -1;
	return file_write_atomic(to, data, len, 0644, e);
}

int boot_iso_make(const char *iso_path, const char *image_dir, const char *grub_cfg,
		  struct xerr *e)
{
	static const char *const files[] = { "xen.gz", "vmlinuz", "initrd.img" };
	_cleanup_free_ char *tree = xasprintf("%s.d", iso_path);
	_cleanup_free_ char *grubdir = xasprintf("%s/boot/grub", tree);
	_cleanup_free_ char *cfg = xasprintf("%s/grub.cfg", grubdir);
	_cleanup_free_ char *tmp_iso = xasprintf("%s.tmp", iso_path);
	struct spawn_result r;
	int rc = -1;

	if (rm_rf(tree, e) < 0 || mkdir_p(grubdir, 0755, e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *from = xasprintf("%s/boot/%s", image_dir, files[i]);
		_cleanup_free_ char *to = xasprintf("%s/boot/%s", tree, files[i]);

		if (link_or_copy(from, to, e) < 0)
			goto out;
	}
	if (file_write_atomic(cfg, grub_cfg, strlen(grub_cfg), 0644, e) < 0)
		goto out;
	{
		char *argv[] = { "grub-mkrescue", "-o", tmp_iso, tree, NULL };

		if (spawn_check(argv, NULL, &r, e) < 0) {
			xerr_prefix(e, "making boot ISO %s", iso_path);
			goto out;
		}
		spawn_result_free(&r);
	}
	if (chmod(tmp_iso, 0644) < 0 || rename(tmp_iso, iso_path) < 0) {
		xerr_errno(e, XERR_IO, "cannot put %s in place", iso_path);
		goto out;
	}
	rc = 0;
out:
	{
		struct xerr ignore = { 0 };

		rm_rf(tree, &ignore);
	}
	if (rc < 0)
		unlink(tmp_iso);
	return rc;
}

/* Xen as QEMU's multiboot loader reads it: the ELF. An image's
 * boot/xen.gz is Debian's gzip of it, or, for a hypervisor given to
 * `image build --hypervisor`, possibly the ELF itself; anything else is
 * refused here rather than at boot. */
static int xen_elf_read(const char *path, char **out, size_t *len, struct xerr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	struct buf b = { 0 };
	char chunk[65536];
	la_ssize_t n = 0;
	const char *why = NULL;

	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, sizeof(chunk)) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		why = archive_error_string(a);
	} else {
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			buf_append(&b, chunk, (size_t)n);
		if (n < 0)
			why = archive_error_string(a);
		else if (b.len < 4 || memcmp(b.data, "\177ELF", 4) != 0)
			why = "neither an ELF nor the gzip of one";
	}
	if (why || !b.len) {
		xerr_set(e, XERR_FAIL, "cannot read Xen from %s: %s", path,
			 why ? why : "it holds nothing");
		free(buf_steal(&b));
		archive_read_free(a);
		return -1;
	}
	*len = b.len;
	*out = buf_steal(&b);
	archive_read_free(a);
	return 0;
}

/* The dom0 kernel as Xen's module: the ELF inside the image's bzImage.
 * Xen would unpack a bzImage itself, in the emulated host: 0.4 s of its
 * boot under TCG for the lean kernel's gzip, 0.05 s here. A bzImage that
 * cannot be unpacked is an error (it would not boot either); a kernel that
 * is no bzImage (an ELF already) is copied as it is. */
static int dom0_kernel_make(const char *vmlinuz, const char *out, bool unpack,
			    struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (unpack && bzimage_file_is(vmlinuz))
		return vmlinux_extract(vmlinuz, out, e);
	if (file_read_all(vmlinuz, 0, &data, &len, e) < 0)
		return -1;
	return file_write_atomic(out, data, len, 0644, e);
}

int boot_files_make(const char *xen_path, const char *kernel_path, bool unpack_kernel,
		    const char *image_dir, struct xerr *e)
{
	_cleanup_free_ char *xen_gz = xasprintf("%s/boot/xen.gz", image_dir);
	_cleanup_free_ char *vmlinuz = xasprintf("%s/boot/vmlinuz", image_dir);
	_cleanup_free_ char *xen = NULL;
	size_t xen_len;

	if (xen_elf_read(xen_gz, &xen, &xen_len, e) < 0 ||
	    file_write_atomic(xen_path, xen, xen_len, 0644, e) < 0 ||
	    dom0_kernel_make(vmlinuz, kernel_path, unpack_kernel, e) < 0)
		return xerr_prefix(e, "making the boot files of %s", image_dir);
	return 0;
}

int qcow2_virtual_size(const char *path, unsigned long long *size, struct xerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char h[32];
	ssize_t n;

	if (fd < 0 || (n = read(fd, h, sizeof(h))) < 0)
		return xerr_errno(e, XERR_IO, "cannot read the header of %s", path);
	if (n != (ssize_t)sizeof(h))
		return xerr_set(e, XERR_FAIL, "%s is too short for a qcow2 image", path);
	/* "QFI\xfb", version, backing offset and size, cluster bits, then the
	 * size at byte 24: all big-endian. */
	if (memcmp(h, "QFI\xfb", 4) != 0)
		return xerr_set(e, XERR_FAIL, "%s is not a qcow2 image", path);
	*size = 0;
	for (int i = 24; i < 32; i++)
		*size = *size << 8 | h[i];
	return 0;
}
