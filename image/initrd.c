/* Busybox trees as archives: the dom0 and guest initrds (cpio.gz) and the
 * built-in guest root filesystem (tar), written with libarchive from files
 * of the image tree being built. Same inputs, same bytes. */
#include "initrd.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "spawn.h"
#include "treeparse.h"
#include "util.h"

static int modset_resolve(const struct initrd_src *b, const char *const *names, size_t n,
			  struct modset *m, struct xerr *e)
{
	_cleanup_free_ char *dep_path = xasprintf("%s/lib/modules/%s/modules.dep", b->tree, b->kver);
	_cleanup_free_ char *bi_path =
		xasprintf("%s/lib/modules/%s/modules.builtin", b->tree, b->kver);
	_cleanup_free_ char *dep = NULL, *builtin = NULL;
	size_t len;
	struct xerr ignore = { 0 };

	if (file_read_all(dep_path, 0, &dep, &len, e) < 0)
		return -1;
	if (file_read_all(bi_path, 0, &builtin, &len, &ignore) < 0)
		builtin = xstrdup("");
	for (size_t i = 0; i < n; i++)
		if (modset_add(m, dep, builtin, names[i], e) < 0)
			return -1;
	return 0;
}

/* A module's bytes, decompressed: busybox insmod takes plain .ko files. */
static int module_read(const struct initrd_src *b, const char *rel, char **data, size_t *len,
		       struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/lib/modules/%s/%s", b->tree, b->kver, rel);
	const char *tool = NULL;
	struct spawn_result r;

	if (strstr(rel, ".ko.xz"))
		tool = "xz";
	else if (strstr(rel, ".ko.zst"))
		tool = "zstd";
	else if (strstr(rel, ".ko.gz"))
		tool = "gzip";
	if (!tool)
		return file_read_all(p, 0, data, len, e);
	{
		char *argv[] = { (char *)tool, "-dc", p, NULL };
		struct spawn_opts o = { .capture_stdout = true };

		if (spawn_check(argv, &o, &r, e) < 0)
			return xerr_prefix(e, "decompressing %s", rel);
	}
	*data = steal_ptr(r.out);
	*len = r.out_len;
	spawn_result_free(&r);
	return 0;
}

static int arc_fail(struct archive *a, const char *what, struct xerr *e)
{
	return xerr_set(e, XERR_FAIL, "%s: %s", what, archive_error_string(a));
}

static int arc_entry(struct archive *a, const char *name, int type, int perm, const char *link,
		     dev_t rdev, const void *data, size_t len, struct xerr *e)
{
	struct archive_entry *ent = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(ent, name);
	archive_entry_set_filetype(ent, (unsigned)type);
	archive_entry_set_perm(ent, (mode_t)perm);
	archive_entry_set_uid(ent, 0);
	archive_entry_set_gid(ent, 0);
	archive_entry_set_mtime(ent, 0, 0); /* same inputs, same bytes */
	archive_entry_set_size(ent, (la_int64_t)len);
	if (link)
		archive_entry_set_symlink(ent, link);
	if (rdev)
		archive_entry_set_rdev(ent, rdev);
	if (archive_write_header(a, ent) != ARCHIVE_OK ||
	    (len && archive_write_data(a, data, len) != (la_ssize_t)len))
		rc = arc_fail(a, name, e);
	archive_entry_free(ent);
	return rc;
}

static int arc_dir(struct archive *a, const char *name, struct xerr *e)
{
	return arc_entry(a, name, AE_IFDIR, 0755, NULL, 0, NULL, 0, e);
}

static int arc_file(struct archive *a, const char *name, const void *data, size_t len, int perm,
		    struct xerr *e)
{
	return arc_entry(a, name, AE_IFREG, perm, NULL, 0, data, len, e);
}

static int arc_file_from(struct archive *a, const char *name, const char *path, int perm,
			 struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (file_read_all(path, 0, &data, &len, e) < 0)
		return -1;
	return arc_file(a, name, data, len, perm, e);
}

static int arc_symlink(struct archive *a, const char *name, const char *target, struct xerr *e)
{
	return arc_entry(a, name, AE_IFLNK, 0777, target, 0, NULL, 0, e);
}

/* The skeleton every busybox tree here shares: directories, /dev/console
 * (the kernel opens it for init before anything mounts devtmpfs), busybox
 * and one symlink per applet. */
static int arc_busybox_base(const struct initrd_src *b, struct archive *a, struct xerr *e)
{
	static const char *const dirs[] = {
		"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp",
		"etc", "root", "var", "lib", "lib/modules", "newroot", "mnt",
	};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (arc_dir(a, dirs[i], e) < 0)
			return -1;
	if (arc_entry(a, "dev/console", AE_IFCHR, 0600, NULL, makedev(5, 1), NULL, 0, e) < 0 ||
	    arc_file_from(a, "bin/busybox", b->busybox, 0755, e) < 0)
		return -1;
	for (char *const *ap = b->applets; *ap; ap++) {
		_cleanup_free_ char *name = xasprintf("bin/%s", *ap);

		if (strcmp(*ap, "init") == 0)
			continue;
		if (arc_symlink(a, name, "busybox", e) < 0)
			return -1;
	}
	return arc_file(a, "etc/hostname", "xlab\n", 5, 0644, e);
}

static int arc_modules(const struct initrd_src *b, struct archive *a, const char *const *names,
		       size_t n, struct xerr *e)
{
	struct modset m = { 0 };
	struct buf order = { 0 };
	int rc = -1;

	if (modset_resolve(b, names, n, &m, e) < 0)
		goto out;
	for (size_t i = 0; i < m.n; i++) {
		_cleanup_free_ char *data = NULL, *stem = module_stem(m.rel[i]), *name = NULL;
		size_t len;

		if (module_read(b, m.rel[i], &data, &len, e) < 0)
			goto out;
		name = xasprintf("lib/modules/%s.ko", stem);
		if (arc_file(a, name, data, len, 0644, e) < 0)
			goto out;
		buf_printf(&order, "%s\n", stem);
	}
	rc = arc_file(a, "lib/modules/order", order.data ? order.data : "", order.len, 0644, e);
out:
	buf_free(&order);
	modset_free(&m);
	return rc;
}

static struct archive *arc_open(const char *path, enum initrd_kind kind, struct xerr *e)
{
	struct archive *a = archive_write_new();

	if (kind == INITRD_CPIO_GZ) {
		archive_write_set_format_cpio_newc(a);
		archive_write_add_filter_gzip(a);
	} else {
		archive_write_set_format_pax_restricted(a);
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		arc_fail(a, path, e);
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static int arc_close(struct archive *a, const char *path, struct xerr *e)
{
	int rc = 0;

	if (archive_write_close(a) != ARCHIVE_OK)
		rc = arc_fail(a, path, e);
	archive_write_free(a);
	return rc;
}

int initrd_write(const struct initrd_src *s, const char *out, enum initrd_kind kind,
		 const char *const *modules, size_t n_modules, const struct initrd_file *files,
		 size_t n_files, struct xerr *e)
{
	struct archive *a = arc_open(out, kind, e);

	if (!a)
		return -1;
	if (arc_busybox_base(s, a, e) < 0 ||
	    (n_modules && arc_modules(s, a, modules, n_modules, e) < 0))
		goto fail;
	for (size_t i = 0; i < n_files; i++)
		if (arc_file(a, files[i].name, files[i].text, strlen(files[i].text), 0755, e) < 0)
			goto fail;
	return arc_close(a, out, e);
fail:
	archive_write_free(a);
	return -1;
}
