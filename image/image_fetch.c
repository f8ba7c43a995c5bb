/* Images in and out of the store: fetch (libcurl), import, export (tar.gz).
 * Whatever the source, an image enters the store the same way: unpacked
 * into a hidden work directory, checked against its manifest, then renamed
 * into place, so the store never holds half an image. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_archive.h"
#include "paths.h"
#include "sha256.h"
#include "util.h"

#define LOW_SPEED_LIMIT 1024L /* bytes per second */
#define LOW_SPEED_TIME 30L    /* seconds */
#define CHUNK (1 << 20)

struct src_opts {
	const char *src;  /* URL, directory or archive */
	const char *sha;  /* fetch only */
	const char *name; /* --name */
	bool force;
};

static int parse_args(int argc, char **argv, bool want_sha, struct src_opts *o,
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
static int install_from(const char *src, bool is_dir, const char *want, bool force,
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

	if (parse_args(argc, argv, false, &o,
		       "xlab image import DIR|ARCHIVE [--name NAME] [--force]", e) < 0)
		return -1;
	if (stat(o.src, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot import %s", o.src);
	return install_from(o.src, S_ISDIR(st.st_mode), o.name, o.force, e);
}

/* --- download --- */

struct dl {
	int fd;
	EVP_MD_CTX *md;
	curl_off_t have;    /* bytes in the .part before this transfer */
	curl_off_t got;     /* bytes written by this transfer */
	int write_errno;
	bool tty;
	bool drew_full;
	int64_t last_draw;
};

static size_t dl_write(char *p, size_t size, size_t n, void *ud)
{
	struct dl *d = ud;
	size_t len = size * n, done = 0;

	while (done < len) {
		ssize_t w = write(d->fd, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->write_errno = errno;
			return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
		}
		EVP_DigestUpdate(d->md, p + done, (size_t)w);
		done += (size_t)w;
		d->got += w;
	}
	return len;
}

static void human(double bytes, char *out, size_t n)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", bytes, unit[i]);
}

static int dl_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	struct dl *d = ud;
	int64_t t = now_ms();
	char have[32], all[32];
	double done = (double)(d->have + now), full = (double)(d->have + total);
	bool full_now = total > 0 && now == total;

	(void)ut;
	(void)un;
	if (d->drew_full || (t - d->last_draw < 200 && !full_now))
		return 0;
	d->drew_full = full_now;
	d->last_draw = t;
	human(done, have, sizeof(have));
	if (total > 0) {
		int width = 30, fill = (int)(width * done / full);

		human(full, all, sizeof(all));
		fprintf(stderr, "\r[%-*.*s] %3d%%  %s / %s ", width, fill,
			"##############################", (int)(100 * done / full), have, all);
	} else {
		fprintf(stderr, "\r%s ", have);
	}
	return 0;
}

static long low_speed_time(void)
{
	const char *s = getenv("XLAB_FETCH_LOW_SPEED_TIME");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? v : LOW_SPEED_TIME;
}

/* Hashes what an earlier, interrupted transfer left, so the digest covers
 * the whole file once the rest arrives. */
static int hash_existing(struct dl *d, const char *part, struct xerr *e)
{
	_cleanup_free_ char *buf = xmalloc(CHUNK);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(d->fd, buf, CHUNK, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return xerr_errno(e, XERR_IO, "cannot read %s", part);
		EVP_DigestUpdate(d->md, buf, (size_t)n);
		off += n;
	}
	d->have = off;
	return 0;
}

static void digest_hex(EVP_MD_CTX *md, char out[SHA256_HEX_LEN + 1])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned char bin[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_MD_CTX_copy_ex(copy, md);
	EVP_DigestFinal_ex(copy, bin, &n);
	EVP_MD_CTX_free(copy);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", bin[i]);
	out[2 * n] = '\0';
}

enum dl_outcome { DL_DONE, DL_FAILED, DL_RESTART };

static enum dl_outcome dl_result(CURL *c, CURLcode res, const struct dl *d, const char *url,
				 const char *part, const char *errbuf, struct xerr *e)
{
	curl_off_t total = d->have + d->got;
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	switch (res) {
	case CURLE_OK:
		return DL_DONE;
	case CURLE_RANGE_ERROR:
		return DL_RESTART; /* the server ignores Range: start over */
	case CURLE_HTTP_RETURNED_ERROR:
		if (code == 416 && d->have > 0)
			return DL_RESTART; /* the .part is not a prefix of this file */
		xerr_set(e, XERR_FAIL, "HTTP %ld for %s", code, url);
		return DL_FAILED;
	case CURLE_PARTIAL_FILE:
		xerr_set(e, XERR_FAIL,
			 "download of %s was cut short after %" CURL_FORMAT_CURL_OFF_T
			 " bytes; the partial file %s is kept: run the same command again to resume",
			 url, total, part);
		return DL_FAILED;
	case CURLE_OPERATION_TIMEDOUT:
		xerr_set(e, XERR_FAIL,
			 "download of %s timed out (%s) after %" CURL_FORMAT_CURL_OFF_T
			 " bytes; the partial file %s is kept: run the same command again to resume",
			 url, errbuf[0] ? errbuf : "too slow", total, part);
		return DL_FAILED;
	case CURLE_WRITE_ERROR:
		if (d->write_errno == ENOSPC || d->write_errno == EDQUOT) {
			unlink(part);
			xerr_set(e, XERR_FAIL,
				 "disk full while downloading %s into %s; the partial file was "
				 "deleted: free some space and run the command again", url, part);
			return DL_FAILED;
		}
		errno = d->write_errno;
		xerr_errno(e, XERR_IO, "cannot write %s", part);
		return DL_FAILED;
	default:
		xerr_set(e, XERR_FAIL, "cannot download %s: %s", url,
			 errbuf[0] ? errbuf : curl_easy_strerror(res));
		return DL_FAILED;
	}
}

static void dl_setup(CURL *c, const char *url, struct dl *d, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_speed_time());
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "xlab-image-fetch");
	if (d->have > 0)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, d->have);
	if (d->tty) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, dl_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, d);
	}
}

static enum dl_outcome download_once(const char *url, const char *part, const char *want,
				     char actual[SHA256_HEX_LEN + 1], struct xerr *e)
{
	struct dl d = { .tty = isatty(2) };
	char errbuf[CURL_ERROR_SIZE] = "";
	enum dl_outcome out = DL_FAILED;
	CURL *c = NULL;
	CURLcode res;

	d.fd = open(part, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (d.fd < 0) {
		xerr_errno(e, XERR_IO, "cannot create %s", part);
		return DL_FAILED;
	}
	/* Two fetches of one archive would append to the same .part. */
	if (flock(d.fd, LOCK_EX | LOCK_NB) < 0) {
		xerr_set(e, XERR_CONFLICT, "another `xlab image fetch` of %s is running", url);
		close(d.fd);
		return DL_FAILED;
	}
	d.md = EVP_MD_CTX_new();
	if (!d.md || !EVP_DigestInit_ex(d.md, EVP_sha256(), NULL)) {
		xerr_set(e, XERR_FAIL, "sha256 unavailable");
		goto out;
	}
	if (hash_existing(&d, part, e) < 0)
		goto out;
	digest_hex(d.md, actual);
	/* A previous run may have got every byte and failed later. */
	if (d.have > 0 && strcmp(actual, want) == 0) {
		out = DL_DONE;
		goto out;
	}
	if (d.have > 0)
		fprintf(stderr, "resuming %s from byte %lld\n", url, (long long)d.have);
	c = curl_easy_init();
	if (!c) {
		xerr_set(e, XERR_FAIL, "cannot start libcurl");
		goto out;
	}
	dl_setup(c, url, &d, errbuf);
	res = curl_easy_perform(c);
	if (d.tty)
		fputc('\n', stderr);
	out = dl_result(c, res, &d, url, part, errbuf, e);
	if (out == DL_DONE && fsync(d.fd) < 0) {
		xerr_errno(e, XERR_IO, "cannot write %s", part);
		out = DL_FAILED;
	}
	digest_hex(d.md, actual);
out:
	if (d.have + d.got == 0 && out != DL_DONE)
		unlink(part); /* nothing worth resuming */
	curl_easy_cleanup(c);
	EVP_MD_CTX_free(d.md);
	close(d.fd);
	return out;
}

static int download(const char *url, const char *part, const char *want, struct xerr *e)
{
	char actual[SHA256_HEX_LEN + 1] = "";
	enum dl_outcome out = DL_RESTART;

	for (int attempt = 0; attempt < 2 && out == DL_RESTART; attempt++) {
		out = download_once(url, part, want, actual, e);
		if (out == DL_RESTART)
			unlink(part);
	}
	if (out == DL_RESTART)
		return xerr_set(e, XERR_FAIL, "cannot download %s: the server keeps "
				"refusing the byte range", url);
	if (out != DL_DONE)
		return -1;
	if (strcmp(actual, want) != 0) {
		unlink(part);
		return xerr_set(e, XERR_FAIL,
				"checksum mismatch for %s: expected sha256 %s, got %s; the download "
				"was deleted and the store is unchanged", url, want, actual);
	}
	return 0;
}

int image_cmd_fetch(int argc, char **argv, struct xerr *e)
{
	static const char usage[] = "xlab image fetch URL --sha256 HEX [--name NAME] [--force]";
	_cleanup_free_ char *dldir = NULL, *part = NULL;
	struct src_opts o = { 0 };
	char want[SHA256_HEX_LEN + 1];
	int rc;

	if (parse_args(argc, argv, true, &o, usage, e) < 0)
		return -1;
	if (strncmp(o.src, "http://", 7) != 0 && strncmp(o.src, "https://", 8) != 0)
		return xerr_set(e, XERR_USAGE, "'%s' is not an http:// or https:// URL "
				"(use `xlab image import` for local files)", o.src);
	for (int i = 0; i <= SHA256_HEX_LEN; i++)
		want[i] = (char)(o.sha[i] >= 'A' && o.sha[i] <= 'F' ? o.sha[i] + 32 : o.sha[i]);
	if (xlab_dir(&dldir, e, "images", ".download", NULL) < 0)
		return -1;
	if (o.name && !o.force) {
		_cleanup_free_ char *final = xasprintf("%s/../%s", dldir, o.name);

		if (path_exists(final))
			return xerr_set(e, XERR_CONFLICT, "image '%s' is already in the store; "
					"pass --force to replace it", o.name);
	}
	part = xasprintf("%s/%s.part", dldir, want);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return xerr_set(e, XERR_FAIL, "cannot initialise libcurl");
	rc = download(o.src, part, want, e);
	curl_global_cleanup();
	if (rc == 0) {
		rc = install_from(part, false, o.name, o.force, e);
		/* The archive is what was asked for; once installed, or once
		 * found unusable, it is of no more use. */
		unlink(part);
	}
	rmdir(dldir); /* only when no partial download is kept in it */
	return rc;
}

/* --- export --- */

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
	human((double)st.st_size, size, sizeof(size));
	printf("wrote %s (image '%s', %s)\nsha256 %s\n", argv[2], argv[1], size, sha);
	printf("serve it over HTTP(S), then on another machine:\n"
	       "  xlab image fetch URL --sha256 %s\n", sha);
	return 0;
}
