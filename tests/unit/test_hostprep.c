/* A host's files before libvirt boots it: the config disk (which carries its
 * private keys) and the boot ISO. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bzimage.h"
#include "hostprep.h"
#include "util.h"

Test(hostprep, config_disk_is_private_from_birth_and_follows_no_planted_link)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	_cleanup_free_ char *disk = NULL, *planted = NULL, *victim = NULL, *data = NULL;
	const struct config_entry ents[] = {
		{ "hostname", "h1\n", 3, 0644 },
		{ "ssh_host_ed25519_key", "PRIVATE", 7, 0600 },
	};
	struct xerr e = { 0 };
	struct stat st;
	size_t len;
	mode_t old = umask(0);

	cr_assert_not_null(mkdtemp(dir));
	disk = xasprintf("%s/config.img", dir);
	victim = xasprintf("%s/victim", dir);
	/* The name the old code wrote through: a link there must not be used. */
	planted = xasprintf("%s/config.img.tmp", dir);
	cr_assert_eq(file_write_atomic(victim, "original", 8, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(symlink(victim, planted), 0);
	cr_assert_eq(config_disk_write(disk, ents, 2, &e), 0, "%s", e.msg);
	umask(old);
	cr_assert_eq(stat(disk, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "config disk is %04o", st.st_mode & 07777);
	cr_assert_eq(file_read_all(victim, 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert(len == 8 && !memcmp(data, "original", 8), "the planted link was followed");
	free(data);
	data = NULL;
	cr_assert_eq(file_read_all(disk, 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert(memmem(data, len, "PRIVATE", 7), "the key is not in the disk");
	rm_rf(dir, &e);
}

/* Every entry of an archive file: name, mode and bytes, in order. */
struct entry {
	char name[128];
	int mode;
	char data[256];
	size_t len;
};

static size_t archive_entries(const char *path, struct entry *out, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t n = 0;

	archive_read_support_format_all(a);
	cr_assert_eq(archive_read_open_filename(a, path, 10240), ARCHIVE_OK, "%s: %s", path,
		     archive_error_string(a));
	while (n < max && archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		ssize_t r;

		snprintf(out[n].name, sizeof(out[n].name), "%s", archive_entry_pathname(ae));
		out[n].mode = archive_entry_perm(ae);
		r = archive_read_data(a, out[n].data, sizeof(out[n].data));
		out[n].len = r > 0 ? (size_t)r : 0;
		n++;
	}
	archive_read_free(a);
	return n;
}

static const struct entry *entry_find(const struct entry *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = v[i].name;

		/* ISO 9660 readers may or may not give a leading "./" or "/". */
		while (*p == '.' || *p == '/')
			p++;
		if (!strcmp(p, name))
			return &v[i];
	}
	return NULL;
}

/* What the dom0's init reads back: each entry whole, with its own mode. */
Test(hostprep, config_disk_holds_each_entry_with_its_mode)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	const struct config_entry ents[] = {
		{ "hostname", "h1\n", 3, 0644 },
		{ "network", "ADDRESS=10.80.0.10/24\nGATEWAY=10.80.0.1\n", 40, 0644 },
		{ "ssh_host_ed25519_key", "PRIVATE", 7, 0600 },
	};
	struct entry got[8];
	struct xerr e = { 0 };
	_cleanup_free_ char *disk = NULL;
	size_t n;

	cr_assert_not_null(mkdtemp(dir));
	disk = xasprintf("%s/config.img", dir);
	cr_assert_eq(config_disk_write(disk, ents, 3, &e), 0, "%s", e.msg);
	n = archive_entries(disk, got, 8);
	cr_assert_eq(n, 3, "%zu entries", n);
	for (size_t i = 0; i < 3; i++) {
		const struct entry *g = entry_find(got, n, ents[i].name);

		cr_assert_not_null(g, "no %s", ents[i].name);
		cr_assert_eq(g->mode, ents[i].mode, "%s is %o", ents[i].name, g->mode);
		cr_assert_eq(g->len, ents[i].len, "%s: %zu bytes", ents[i].name, g->len);
		cr_assert(!memcmp(g->data, ents[i].data, g->len), "%s differs", ents[i].name);
	}
	rm_rf(dir, &e);
}

/* A boot ISO that GRUB can read carries the image's three boot files and
 * the host's grub.cfg byte for byte, and nothing is left beside it. */
Test(hostprep, boot_iso_carries_the_boot_files_and_the_hosts_grub_cfg, .timeout = 60)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	static const char *const files[] = { "xen.gz", "vmlinuz", "initrd.img" };
	const char *cfg = "multiboot /boot/xen.gz dom0_mem=1024M\nmodule /boot/vmlinuz\n";
	_cleanup_free_ char *img = NULL, *boot = NULL, *iso = NULL, *left = NULL;
	/* GRUB's modules come along: a few hundred entries. */
	_cleanup_free_ struct entry *got = xcalloc(4096, sizeof(*got));
	struct xerr e = { 0 };
	const struct entry *g;
	size_t n;

	cr_assert_not_null(mkdtemp(dir));
	img = xasprintf("%s/image", dir);
	boot = xasprintf("%s/image/boot", dir);
	cr_assert_eq(mkdir_p(boot, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", boot, files[i]);

		cr_assert_eq(file_write_atomic(p, files[i], strlen(files[i]), 0644, &e), 0);
	}
	iso = xasprintf("%s/boot.iso", dir);
	cr_assert_eq(boot_iso_make(iso, img, cfg, &e), 0, "%s", e.msg);
	n = archive_entries(iso, got, 4096);
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *name = xasprintf("boot/%s", files[i]);

		g = entry_find(got, n, name);
		cr_assert_not_null(g, "no %s in the ISO", name);
		cr_assert(g->len == strlen(files[i]) && !memcmp(g->data, files[i], g->len), "%s",
			  name);
	}
	g = entry_find(got, n, "boot/grub/grub.cfg");
	cr_assert_not_null(g, "no grub.cfg in the ISO");
	cr_assert(g->len == strlen(cfg) && !memcmp(g->data, cfg, g->len), "grub.cfg: %.*s",
		  (int)g->len, g->data);
	left = xasprintf("%s.d", iso);
	cr_assert_not(path_exists(left), "the ISO's tree was left");
	rm_rf(dir, &e);
}

/* A missing boot file is an error naming it, and leaves no ISO. */
Test(hostprep, boot_iso_without_a_kernel_is_refused)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	_cleanup_free_ char *boot = NULL, *iso = NULL, *img = NULL, *xen = NULL;
	struct xerr e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	img = xasprintf("%s/image", dir);
	boot = xasprintf("%s/boot", img);
	cr_assert_eq(mkdir_p(boot, 0755, &e), 0);
	xen = xasprintf("%s/xen.gz", boot);
	cr_assert_eq(file_write_atomic(xen, "x", 1, 0644, &e), 0);
	iso = xasprintf("%s/boot.iso", dir);
	cr_assert_eq(boot_iso_make(iso, img, "", &e), -1);
	cr_assert(strstr(e.msg, "vmlinuz"), "%s", e.msg);
	cr_assert_not(path_exists(iso));
	rm_rf(dir, &e);
}

/* Booted directly, a host gets Xen unpacked (QEMU's multiboot loader reads
 * the ELF, not its gzip) and a copy of a kernel that is no bzImage, never
 * the image's own file; a plain ELF is taken as it is, anything else is
 * refused and leaves no file. */
Test(hostprep, boot_files_are_xen_unpacked_and_a_copy_of_the_kernel, .timeout = 60)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	static const char elf[] = "\177ELF pretend hypervisor";
	_cleanup_free_ char *boot = NULL, *gz = NULL, *vmlinuz = NULL, *xen = NULL, *kernel = NULL;
	_cleanup_free_ char *data = NULL;
	struct xerr e = { 0 };
	struct stat a, b;
	size_t len;

	cr_assert_not_null(mkdtemp(dir));
	boot = xasprintf("%s/image/boot", dir);
	cr_assert_eq(mkdir_p(boot, 0755, &e), 0);
	gz = xasprintf("%s/xen.gz", boot);
	vmlinuz = xasprintf("%s/vmlinuz", boot);
	cr_assert_eq(file_write_atomic(vmlinuz, "bzImage", 7, 0644, &e), 0);
	{
		struct archive *w = archive_write_new();
		struct archive_entry *ent = archive_entry_new();

		archive_write_add_filter_gzip(w);
		archive_write_set_format_raw(w);
		cr_assert_eq(archive_write_open_filename(w, gz), ARCHIVE_OK);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_pathname(ent, "xen");
		cr_assert_eq(archive_write_header(w, ent), ARCHIVE_OK);
		cr_assert_eq(archive_write_data(w, elf, sizeof(elf) - 1), (la_ssize_t)sizeof(elf) - 1);
		archive_entry_free(ent);
		archive_write_free(w);
	}
	xen = xasprintf("%s/xen", dir);
	kernel = xasprintf("%s/vmlinuz", dir);
	{
		_cleanup_free_ char *image = xasprintf("%s/image", dir);

		cr_assert_eq(boot_files_make(xen, kernel, true, image, &e), 0, "%s", e.msg);
		cr_assert_eq(file_read_all(xen, 0, &data, &len, &e), 0);
		cr_assert(len == sizeof(elf) - 1 && !memcmp(data, elf, len), "xen: %.*s", (int)len, data);
		free(data);
		data = NULL;
		cr_assert_eq(file_read_all(kernel, 0, &data, &len, &e), 0);
		cr_assert(len == 7 && !memcmp(data, "bzImage", 7));
		cr_assert_eq(stat(kernel, &a), 0);
		cr_assert_eq(stat(vmlinuz, &b), 0);
		cr_assert_neq(a.st_ino, b.st_ino, "the image's own kernel file");

		/* `image build --hypervisor` may have stored the ELF itself. */
		unlink(xen);
		cr_assert_eq(file_write_atomic(gz, elf, sizeof(elf) - 1, 0644, &e), 0);
		cr_assert_eq(boot_files_make(xen, kernel, true, image, &e), 0, "%s", e.msg);
		free(data);
		data = NULL;
		cr_assert_eq(file_read_all(xen, 0, &data, &len, &e), 0);
		cr_assert(len == sizeof(elf) - 1 && !memcmp(data, elf, len), "xen: %.*s", (int)len, data);

		unlink(xen);
		cr_assert_eq(file_write_atomic(gz, "not Xen", 7, 0644, &e), 0);
		cr_assert_eq(boot_files_make(xen, kernel, true, image, &e), -1);
		cr_assert(strstr(e.msg, "xen.gz") && strstr(e.msg, "neither an ELF"), "%s", e.msg);
		cr_assert_not(path_exists(xen));
	}
	rm_rf(dir, &e);
}

/* Xen would unpack the bzImage itself, in the emulated host: the host's
 * kernel file is the ELF inside it, unpacked here; a server's host is sent
 * the bzImage as it is; a bzImage that cannot be unpacked is an error that
 * leaves no file. */
Test(hostprep, boot_files_unpack_the_dom0_kernel, .timeout = 60)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	static const char elf[] = "\177ELF\2\1\1 the dom0 kernel's sections";
	_cleanup_free_ char *boot = NULL, *image = NULL, *xen = NULL, *kernel = NULL;
	_cleanup_free_ char *data = NULL, *vmlinuz = NULL, *bz = NULL;
	struct xerr e = { 0 };
	size_t len, bz_len;

	cr_assert_not_null(mkdtemp(dir));
	image = xasprintf("%s/image", dir);
	boot = xasprintf("%s/boot", image);
	cr_assert_eq(mkdir_p(boot, 0755, &e), 0);
	vmlinuz = xasprintf("%s/vmlinuz", boot);
	{
		_cleanup_free_ char *gz = xasprintf("%s/xen.gz", boot);
		struct buf z = { 0 };

		cr_assert_eq(file_write_atomic(gz, "\177ELF xen", 8, 0644, &e), 0);
		payload_compress(ARCHIVE_FILTER_GZIP, elf, sizeof(elf) - 1, &z);
		bzimage_write_at(vmlinuz, &z, (uint32_t)z.len);
		buf_free(&z);
	}
	xen = xasprintf("%s/xen", dir);
	kernel = xasprintf("%s/vmlinux", dir);
	cr_assert_eq(boot_files_make(xen, kernel, true, image, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(kernel, 0, &data, &len, &e), 0);
	cr_assert(len == sizeof(elf) - 1 && !memcmp(data, elf, len), "kernel: %.*s", (int)len,
		  data);

	free(data);
	data = NULL;
	cr_assert_eq(boot_files_make(xen, kernel, false, image, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(kernel, 0, &data, &len, &e), 0);
	cr_assert_eq(file_read_all(vmlinuz, 0, &bz, &bz_len, &e), 0);
	cr_assert(len == bz_len && !memcmp(data, bz, len), "a server's host gets the bzImage");

	/* The payload cut short: not a kernel anybody could boot. */
	unlink(kernel);
	cr_assert_eq(file_write_atomic(vmlinuz, bz, bz_len - 40, 0644, &e), 0);
	cr_assert_eq(boot_files_make(xen, kernel, true, image, &e), -1);
	cr_assert(strstr(e.msg, "unpacking the kernel"), "%s", e.msg);
	cr_assert_not(path_exists(kernel));
	rm_rf(dir, &e);
}
