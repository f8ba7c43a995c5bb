/* Images in and out of the store: import, export (tar.gz); fetch is in
 * image_fetch.c.
 * Whatever the source, an image enters the store the same way: unpacked
 * into a hidden work directory, checked against its manifest, then renamed
 * into place, so the store never holds half an image. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "fetch_int.h"
#include "image_archive.h"
#include "sha256.h"
#include "util.h"

int src_args_parse(int argc, char **argv, bool want_sha, struct src_opts *o,
		   const char *usage, struct xerr *e)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (want_sha && strcmp(a, "--sha256") == 0 && i + 1 < argc)
			o->sha = argv[++i];
		else if (strcmp(a, "--name") == 0 && i + 1 < argc)
			o->name = argv[++i];
		else if (strcmp(a, "--force") == 0)
			o->force = true;
		else if (a[0] != '-' && !o->src)
			o->src = a;
		else
			return xerr_set(e, XERR_USAGE, "unexpected argument '%s'\nusage: %s", a,
					usage);
	}
	if (!o->src)
		return xerr_set(e, XERR_USAGE, "missing source\nusage: %s", usage);
	if (want_sha && !sha256_hex_valid(o->sha))
		return xerr_set(e, XERR_USAGE,
				"--sha256 HEX (64 hex digits) is required: it is how the download is "
				"trusted\nusage: %s", usage);
	if (o->name && !image_name_valid(o->name))
		return xerr_set(e, XERR_USAGE,
				"'%s' is not a valid image name ([a-z0-9][a-z0-9.-]{0,62})", o->name);
	return 0;
}

/* --- installing a checked tree into the store --- */

static int manifest_rename(const char *root, const char *name, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/manifest.json", root);
	json_object *m = json_object_from_file(path);
	const char *s;
	int rc;

	if (!m || !json_object_is_type(m, json_type_object)) {
		json_object_put(m);
		return xerr_set(e, XERR_FAIL, "cannot read %s", path);
	}
	json_object_object_add(m, "name", json_object_new_string(name));
	s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = file_write_atomic(path, s, strlen(s), 0644, e);
	json_object_put(m);
	return rc;
}

static int replace_into_place(const char *store, const char *root, const char *name,
			      bool force, struct xerr *e)
{
	_cleanup_free_ char *final = xasprintf("%s/%s", store, name);
	_cleanup_free_ char *old = xasprintf("%s/.%s.old-%d", store, name, (int)getpid());
	bool had_old = path_exists(final);

	if (had_old && !force)
		return xerr_set(e, XERR_FAIL,
				"image '%s' is already in the store (%s); pass --force to replace it",
				name, final);
	if (had_old) {
		if (image_check_unused(name, e) < 0)
			return -1;
		if (rename(final, old) < 0)
			return xerr_errno(e, XERR_IO, "cannot move %s aside", final);
	}
	if (rename(root, final) < 0) {
		xerr_errno(e, XERR_IO, "cannot move the image into %s", final);
		if (had_old)
			rename(old, final);
		return -1;
	}
	if (had_old) {
		struct xerr ignored = { 0 };

		rm_rf(old, &ignored);
	}
	return 0;
}

static bool named_file(const struct image *img, const char *rel)
{
	if (strcmp(rel, "manifest.json") == 0)
		return true;
	for (size_t i = 0; i < img->n_files; i++)
		if (strcmp(img->files[i].path, rel) == 0)
			return true;
	return false;
}

/* A directory the manifest needs: one that holds a file it names. */
static bool named_dir(const struct image *img, const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i < img->n_files; i++)
		if (strncmp(img->files[i].path, rel, n) == 0 && img->files[i].path[n] == '/')
			return true;
	return false;
}

/* Everything below dirfd must be a file the manifest names or a directory on
 * the way to one: whatever else an archive carries (a .verified cache that
 * would vouch for unhashed files, a script, a link) never reaches the store. */
static int only_named(const struct image *img, int dirfd, const char *prefix, struct xerr *e)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dirfd);
		return xerr_errno(e, XERR_IO, "cannot read the unpacked image");
	}
	while (rc == 0 && (de = readdir(d))) {
		_cleanup_free_ char *rel = NULL;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rel = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			rc = xerr_errno(e, XERR_IO, "cannot read %s", rel);
		else if (S_ISREG(st.st_mode) && named_file(img, rel))
			continue;
		else if (S_ISDIR(st.st_mode) && named_dir(img, rel))
			rc = only_named(img, openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
						    O_NOFOLLOW | O_CLOEXEC), rel, e);
		else
			rc = xerr_set(e, XERR_FAIL,
				      "'%s' is not named in the image's manifest: an image holds "
				      "manifest.json and the files it lists, nothing else (make "
				      "archives with `xlab image export`)", rel);
	}
	closedir(d);
	return rc;
}

/* root: the unpacked image (work, or its one subdirectory). */
static int install_tree(const char *store, const char *root, const char *want,
			bool force, struct xerr *e)
{
	_cleanup_free_ char *cache = xasprintf("%s/.verified", root);
	_cleanup_free_ char *name = NULL;
	struct image *img = NULL;

	if (image_open_dir(root, &img, e) < 0)
		return xerr_prefix(e, "not an xlab image");
	if (want && strcmp(want, img->name) != 0) {
		image_free(img);
		img = NULL;
		if (manifest_rename(root, want, e) < 0 || image_open_dir(root, &img, e) < 0)
			return -1;
	}
	/* A cache shipped inside an archive would vouch for files nobody hashed;
	 * a directory import copies named files only, so none comes that way. */
	unlink(cache);
	if (only_named(img, open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "", e) < 0 ||
	    image_verify_full(img, e) < 0) {
		image_free(img);
		return -1;
	}
	name = xstrdup(img->name);
	image_free(img);
	/* Staged 0700 so nothing half-checked is reachable; verified, it must be
	 * traversable: QEMU (libvirt-qemu) opens root.qcow2 in it as a backing
	 * file, and libvirt relabels files, not the directories above them. */
	if (chmod(root, 0755) < 0)
		return xerr_errno(e, XERR_IO, "cannot open up %s", root);
	if (replace_into_place(store, root, name, force, e) < 0)
		return -1;
	printf("image '%s' is in the store: %s/%s\n", name, store, name);
	return 0;
}

/* Archives may hold the image at the top or inside one directory. */
static char *find_root(const char *work)
{
	_cleanup_free_ char *top = xasprintf("%s/manifest.json", work);
	char *only = NULL;
	struct dirent *de;
	DIR *d;

	if (path_exists(top))
		return xstrdup(work);
	d = opendir(work);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (only) {
			free(only);
			only = NULL;
			break;
		}
		only = xasprintf("%s/%s", work, de->d_name);
	}
	closedir(d);
	if (only) {
		_cleanup_free_ char *m = xasprintf("%s/manifest.json", only);

		if (path_exists(m))
			return only;
		free(only);
	}
	return xstrdup(work);
}

/* --- copying a local directory --- */

static int copy_file(const char *src, const char *dst, struct xerr *e)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	struct stat st;
	off_t left;

	if (in < 0 || fstat(in, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot read %s", src);
	if (!S_ISREG(st.st_mode))
		return xerr_set(e, XERR_FAIL, "%s is not a regular file", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", dst);
	for (left = st.st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOSPC)
			return xerr_set(e, XERR_FAIL,
					"disk full while copying %s: free some space and run the "
					"command again", src);
		if (n <= 0)
			return n < 0 ? xerr_errno(e, XERR_IO, "cannot copy %s to %s", src, dst)
				     : xerr_set(e, XERR_FAIL, "%s shrank while being copied", src);
		left -= n;
	}
	return 0;
}

/* Copies the manifest and the files it lists, nothing else (no build logs,
 * no cache). */
static int copy_image_dir(const char *src, const char *work, struct xerr *e)
{
	struct image *img = NULL;
	_cleanup_free_ char *m_src = xasprintf("%s/manifest.json", src);
	_cleanup_free_ char *m_dst = xasprintf("%s/manifest.json", work);
	int rc = 0;

	if (image_open_dir(src, &img, e) < 0)
		return xerr_prefix(e, "not an xlab image");
	if (copy_file(m_src, m_dst, e) < 0)
		rc = -1;
	for (size_t i = 0; i < img->n_files && rc == 0; i++) {
		_cleanup_free_ char *from = image_path(img, img->files[i].path);
		_cleanup_free_ char *to = xasprintf("%s/%s", work, img->files[i].path);
		_cleanup_free_ char *parent = xstrdup(to);

		*strrchr(parent, '/') = '\0';
		if (mkdir_p(parent, 0755, e) < 0 || copy_file(from, to, e) < 0)
			rc = -1;
	}
	image_free(img);
	return rc;
}

/* Unpacks (archive) or copies (directory) src, then installs it. */
int image_install_from(const char *src, bool is_dir, const char *want, bool force,
		       struct xerr *e)
{
	_cleanup_free_ char *store = NULL, *work = NULL, *root = NULL;
	struct xerr ignored = { 0 };
	int rc;

	if (image_store_dir(&store, e) < 0)
		return -1;
	work = xasprintf("%s/.%s.tmp-%d", store, want ? want : "import", (int)getpid());
	if (rm_rf(work, e) < 0 || mkdir_p(work, 0700, e) < 0)
		return -1;
	rc = is_dir ? copy_image_dir(src, work, e) : image_archive_unpack_file(src, work, e);
	if (rc == 0) {
		root = find_root(work);
		rc = root ? install_tree(store, root, want, force, e)
			  : xerr_errno(e, XERR_IO, "cannot read %s", work);
	}
	rm_rf(work, &ignored);
	return rc;
}

int image_cmd_import(int argc, char **argv, struct xerr *e)
{
	struct src_opts o = { 0 };
	struct stat st;

	if (src_args_parse(argc, argv, false, &o,
		       "xlab image import DIR|ARCHIVE [--name NAME] [--force]", e) < 0)
		return -1;
	if (stat(o.src, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot import %s", o.src);
	return image_install_from(o.src, S_ISDIR(st.st_mode), o.name, o.force, e);
}

/* --- download --- */

static int archive_fail(struct archive *a, const char *what, const char *path, struct xerr *e)
{
	if (archive_errno(a) == ENOSPC)
		return xerr_set(e, XERR_FAIL,
				"disk full while %s %s: free some space and run the command again",
				what, path);
	return xerr_set(e, XERR_FAIL, "%s %s: %s", what, path, archive_error_string(a));
}

static int add_file(struct archive *a, const char *path, const char *rel, const char *file,
		    struct xerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct archive_entry *ent;
	struct stat st;
	ssize_t n;
	int rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot read %s", path);
	ent = archive_entry_new();
	archive_entry_set_pathname(ent, rel);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, st.st_size);
	archive_entry_set_mtime(ent, st.st_mtim.tv_sec, 0);
	if (archive_write_header(a, ent) < ARCHIVE_OK)
		rc = archive_fail(a, "writing", file, e);
	archive_entry_free(ent);
	buf = xmalloc(CHUNK);
	while (rc == 0 && (n = read(fd, buf, CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = xerr_errno(e, XERR_IO, "cannot read %s", path);
		else if (archive_write_data(a, buf, (size_t)n) != n)
			rc = archive_fail(a, "writing", file, e);
	}
	return rc;
}

static int write_archive(const struct image *img, const char *tmp, const char *file,
			 struct xerr *e)
{
	struct archive *a = archive_write_new();
	_cleanup_free_ char *manifest = image_path(img, "manifest.json");
	int rc = 0;

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		rc = archive_fail(a, "creating", tmp, e);
		archive_write_free(a);
		return rc;
	}
	/* manifest.json first: a reader learns what the archive is from its
	 * first entry. */
	rc = add_file(a, manifest, "manifest.json", file, e);
	for (size_t i = 0; i < img->n_files && rc == 0; i++) {
		_cleanup_free_ char *p = image_path(img, img->files[i].path);

		rc = add_file(a, p, img->files[i].path, file, e);
	}
	if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
		rc = archive_fail(a, "writing", file, e);
	archive_write_free(a);
	return rc;
}

int image_cmd_export(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *tmp = NULL;
	struct image *img = NULL;
	char sha[SHA256_HEX_LEN + 1], size[32];
	struct stat st;
	int rc;

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return xerr_set(e, XERR_USAGE, "usage: xlab image export NAME FILE");
	if (image_open(argv[1], &img, e) < 0)
		return -1;
	/* Exporting a corrupted image would only spread it. */
	rc = image_verify(img, e);
	tmp = xasprintf("%s.tmp-%d", argv[2], (int)getpid());
	if (rc == 0)
		rc = write_archive(img, tmp, argv[2], e);
	image_free(img);
	if (rc == 0 && rename(tmp, argv[2]) < 0)
		rc = xerr_errno(e, XERR_IO, "cannot write %s", argv[2]);
	if (rc < 0) {
		unlink(tmp);
		return -1;
	}
	if (sha256_file_hex(argv[2], sha, e) < 0 || stat(argv[2], &st) < 0)
		return -1;
	size_human((double)st.st_size, size, sizeof(size));
	printf("wrote %s (image '%s', %s)\nsha256 %s\n", argv[2], argv[1], size, sha);
	printf("serve it over HTTP(S), then on another machine:\n"
	       "  xlab image fetch URL --sha256 %s\n", sha);
	return 0;
}
