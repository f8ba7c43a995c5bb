/* xlab image list, inspect, rm: the store as commands show and change it;
 * rm refuses an image a lab's host disk still uses. */
#include "image.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "paths.h"
#include "table.h"
#include "text.h"
#include "util.h"

/* Blocks actually used, so sparse qcow2 files count what they take. */
static uint64_t disk_usage(int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	uint64_t total = 0;

	if (!d) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		total = u64_add_sat(total, (uint64_t)st.st_blocks * 512);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (sub >= 0)
				total = u64_add_sat(total, disk_usage(sub));
		}
	}
	closedir(d);
	return total;
}

static uint64_t dir_usage(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? 0 : disk_usage(fd);
}

static json_object *image_summary_json(const struct image *img, uint64_t size)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(img->name));
	json_object_object_add(o, "xen_version", json_object_new_string(img->xen_version));
	json_object_object_add(o, "kernel_version", json_object_new_string(img->kernel_version));
	json_object_object_add(o, "suite", json_object_new_string(img->suite));
	json_object_object_add(o, "built", json_object_new_string(img->built));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(o, "dir", json_object_new_string(img->dir));
	return o;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
}

int image_cmd_list(int argc, char **argv, struct xerr *e)
{
	_cleanup_strv_ char **names = NULL;
	struct table *t;
	bool as_json = false;
	json_object *arr;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else
			return xerr_set(e, XERR_USAGE,
					"image list: unexpected argument '%s'\nusage: xlab image list [--json]",
					argv[i]);
	}
	if (image_store_names(&names, e) < 0)
		return -1;
	arr = json_object_new_array();
	t = as_json ? NULL :
		      TABLE_NEW("", "NAME", "XEN", "KERNEL", "SUITE", "BUILT", "SIZE", "FROM");
	for (char **n = names; *n; n++) {
		struct xerr ie = { 0 };
		struct image *img = NULL;
		char size[32];
		uint64_t bytes;

		if (image_open(*n, &img, &ie) < 0) {
			/* One broken entry must not hide the others. */
			fprintf(stderr, "xlab: warning: %s\n", tt(ie.msg));
			continue;
		}
		bytes = dir_usage(img->dir);
		if (as_json) {
			json_object_array_add(arr, image_summary_json(img, bytes));
		} else {
			size_format(bytes, size, sizeof(size));
			TABLE_ROW(t, img->name, tt(img->xen_version), tt(img->kernel_version),
				  tt(img->suite), tt(img->built), size,
				  img->base ? tt(img->base) : "-");
		}
		image_free(img);
	}
	if (as_json)
		print_json(arr);
	else
		table_print(t, stdout);
	table_free(t);
	json_object_put(arr);
	return 0;
}

/* --- inspect --- */

/* A manifest may come from anyone who exported an image: its strings are
 * printed through tt(), never as terminal escapes. */
static void inspect_text(const struct image *img, const struct xerr *verr)
{
	printf("name:           %s\n", img->name);
	printf("directory:      %s\n", tt(img->dir));
	printf("xen_version:    %s\n", tt(img->xen_version));
	printf("kernel_version: %s\n", tt(img->kernel_version));
	printf("suite:          %s\n", tt(img->suite));
	printf("built:          %s\n", tt(img->built));
	printf("manifest:       sha256 %s\n", img->manifest_sha256);
	if (img->base) {
		printf("derived from:   %s (manifest sha256 %s)\n", tt(img->base),
		       tt(img->base_manifest_sha256 ? img->base_manifest_sha256 : "?"));
		printf("hypervisor:     %s\n", tt(img->hv_source ? img->hv_source : "?"));
		printf("  changeset:    %s\n",
		       tt(img->hv_changeset && *img->hv_changeset ? img->hv_changeset : "-"));
		printf("  .config:      %s\n",
		       tt(img->hv_config_sha256 && *img->hv_config_sha256 ? img->hv_config_sha256 :
									      "-"));
		if (img->tools_version)
			printf("dom0 tools:     Xen %s, built from source with the hypervisor "
			       "(manifest \"tools\")\n", tt(img->tools_version));
	}
	printf("packages:       %zu\n", strv_len(img->packages));
	for (char **p = img->packages; p && *p; p++)
		printf("  %s\n", tt(*p));
	printf("files:\n");
	for (size_t i = 0; i < img->n_files; i++)
		printf("  %s  %s\n", img->files[i].sha256, tt(img->files[i].path));
	printf("verified:       %s\n", verr ? "FAILED" : "ok");
}

static int inspect_json(const struct image *img, const struct xerr *verr, struct xerr *e)
{
	_cleanup_free_ char *path = image_path(img, "manifest.json");
	json_object *manifest = json_object_from_file(path);
	json_object *o;

	if (!manifest)
		return xerr_set(e, XERR_FAIL, "cannot read %s", path);
	o = json_object_new_object();
	json_object_object_add(o, "manifest", manifest);
	json_object_object_add(o, "dir", json_object_new_string(img->dir));
	json_object_object_add(o, "manifest_sha256", json_object_new_string(img->manifest_sha256));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)dir_usage(img->dir)));
	json_object_object_add(o, "verified", json_object_new_boolean(verr == NULL));
	if (verr)
		json_object_object_add(o, "error", json_object_new_string(verr->msg));
	print_json(o);
	json_object_put(o);
	return 0;
}

int image_cmd_inspect(int argc, char **argv, struct xerr *e)
{
	const char *name = NULL;
	bool as_json = false;
	struct image *img = NULL;
	struct xerr verr = { 0 };
	bool bad;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return xerr_set(e, XERR_USAGE, "image inspect: unexpected argument '%s'\n"
					"usage: xlab image inspect NAME [--json]", argv[i]);
	}
	if (!name)
		return xerr_set(e, XERR_USAGE, "image inspect: which image?\n"
				"usage: xlab image inspect NAME [--json]");
	if (image_open(name, &img, e) < 0)
		return -1;
	bad = image_verify(img, &verr) < 0;
	if (as_json)
		rc = inspect_json(img, bad ? &verr : NULL, e);
	else
		rc = (inspect_text(img, bad ? &verr : NULL), 0);
	image_free(img);
	if (rc == 0 && bad) {
		*e = verr;
		return -1;
	}
	return rc;
}

/* --- rm, and who uses an image --- */

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The backing file named in a qcow2 header, absolute; NULL when the file is
 * not qcow2 or has none. Reading the header ourselves avoids running
 * qemu-img on every disk of every lab. */
static char *qcow2_backing(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char hdr[20];
	char name[1024];
	uint64_t off;
	uint32_t len;
	_cleanup_free_ char *dir = NULL;

	if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return NULL;
	if (memcmp(hdr, "QFI\xfb", 4) != 0)
		return NULL;
	off = be64(hdr + 8);
	len = be32(hdr + 16);
	if (off == 0 || len == 0 || len >= sizeof(name))
		return NULL;
	if (pread(fd, name, len, (off_t)off) != (ssize_t)len)
		return NULL;
	name[len] = '\0';
	if (name[0] == '/')
		return xstrdup(name);
	/* Relative backing names are relative to the overlay's directory. */
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	return xasprintf("%s/%s", dir, name);
}

/* True when `disk`, or a file down its backing chain, lies inside `imgdir`
 * (a canonical path). */
static bool disk_uses(const char *disk, const char *imgdir)
{
	_cleanup_free_ char *cur = xstrdup(disk);
	size_t n = strlen(imgdir);

	for (int depth = 0; depth < 16; depth++) {
		char *next = qcow2_backing(cur);
		char *real;

		if (!next)
			return false;
		real = realpath(next, NULL);
		if (!real)
			real = xstrdup(next);
		free(next);
		free(cur);
		cur = real;
		if (strncmp(cur, imgdir, n) == 0 && cur[n] == '/')
			return true;
	}
	return false;
}

int image_check_unused(const char *name, struct xerr *e)
{
	_cleanup_free_ char *home = NULL, *store = NULL, *dir = NULL, *real = NULL,
			    *pattern = NULL;
	glob_t g = { 0 };
	int rc = 0;

	if (xlab_home(&home, e) < 0 || image_store_dir(&store, e) < 0)
		return -1;
	dir = xasprintf("%s/%s", store, name);
	real = realpath(dir, NULL);
	if (!real)
		return 0;
	pattern = names_root_disks_glob(home);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) {
		const char *disk = g.gl_pathv[i];
		_cleanup_free_ char *lab = names_root_disk_lab(home, disk);

		if (disk_uses(disk, real))
			rc = xerr_set(e, XERR_FAIL,
				      "image '%s' is in use by lab '%s' (%s); run `xlab down %s` first",
				      name, lab ? lab : "?", disk, lab ? lab : "LAB");
	}
	globfree(&g);
	return rc;
}

int image_cmd_rm(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *store = NULL, *dir = NULL, *tmp = NULL;
	const char *name = argc == 2 ? argv[1] : NULL;

	if (!name || name[0] == '-')
		return xerr_set(e, XERR_USAGE, "usage: xlab image rm NAME");
	if (!image_name_valid(name))
		return xerr_set(e, XERR_USAGE,
				"'%s' is not a valid image name ([a-z0-9][a-z0-9.-]{0,62})", name);
	if (image_store_dir(&store, e) < 0)
		return -1;
	dir = xasprintf("%s/%s", store, name);
	if (!path_exists(dir))
		return xerr_set(e, XERR_NOTFOUND, "image '%s' is not in the store (%s)", name, store);
	if (image_check_unused(name, e) < 0)
		return -1;
	/* Renaming first makes the removal atomic for readers: the image is
	 * either whole or gone, even if rm_rf stops half-way. */
	tmp = xasprintf("%s/.%s.rm-%d", store, name, (int)getpid());
	if (rename(dir, tmp) < 0)
		return xerr_errno(e, XERR_IO, "cannot remove %s", dir);
	if (rm_rf(tmp, e) < 0)
		return xerr_prefix(e, "image '%s' is gone from the store, but cleaning up", name);
	printf("removed image '%s'\n", name);
	return 0;
}
