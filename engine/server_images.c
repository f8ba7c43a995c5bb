/* `xlab image push IMAGE SERVER`: an image's files into a server's pool,
 * each read back and hashed there before the image's manifest says it is
 * whole (server_images.h has the layout). */
#include "server_images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "image.h"
#include "names.h"
#include "paths.h"
#include "servers.h"
#include "serverspec.h"
#include "sha256.h"
#include "util.h"
#include "virt.h"

/* A manifest larger than this on a server is not one xlab wrote. */
#define MANIFEST_MAX (1 << 20)

char *server_blob_volume(const char *sha256)
{
	return xasprintf("sha256-%s", sha256);
}

char *server_manifest_volume(const char *image)
{
	return xasprintf("image-%s.json", image);
}

/* What the server's pool holds, as one push needs it. */
struct remote {
	struct virt *v;
	struct virt_vol *vols;
	size_t n_vols;
	char **trusted;        /* sha256 of the files some manifest there lists */
	char *manifest_sha256; /* of this image's manifest there; NULL: none */
};

static void remote_free(struct remote *r)
{
	virt_vols_free(r->vols, r->n_vols);
	strv_free(r->trusted);
	free(r->manifest_sha256);
	virt_close(r->v);
}

static const struct virt_vol *remote_vol(const struct remote *r, const char *name)
{
	for (size_t i = 0; i < r->n_vols; i++)
		if (strcmp(r->vols[i].name, name) == 0)
			return &r->vols[i];
	return NULL;
}

/* Reads one manifest volume: its files join the trusted ones. A volume
 * that is no manifest (damaged, another tool's) is passed over: its files
 * are only sent again. */
static int remote_manifest_read(struct remote *r, const char *vol, bool mine, struct xerr *e)
{
	_cleanup_free_ char *text = NULL;
	struct image *m = NULL;
	struct xerr bad = { 0 };
	char sha[SHA256_HEX_LEN + 1];
	size_t len;

	if (virt_vol_tail(r->v, SERVER_POOL, vol, MANIFEST_MAX, &text, &len, e) < 0)
		return -1;
	if (image_manifest_parse(text, len, "", &m, &bad) < 0)
		return 0;
	for (size_t i = 0; i < m->n_files; i++)
		strv_add(&r->trusted, xstrdup(m->files[i].sha256));
	if (mine) {
		sha256_hex(text, len, sha);
		r->manifest_sha256 = xstrdup(sha);
	}
	image_free(m);
	return 0;
}

/* "image-NAME.json" of no more than MANIFEST_MAX bytes. */
static bool is_manifest_volume(const struct virt_vol *v)
{
	size_t n = strlen(v->name);

	return strncmp(v->name, "image-", 6) == 0 && n > 11 &&
	       strcmp(v->name + n - 5, ".json") == 0 && v->size <= MANIFEST_MAX;
}

static int remote_read(struct remote *r, const char *image, struct push_report *rep,
		       struct xerr *e)
{
	_cleanup_free_ char *mine = server_manifest_volume(image);

	if (virt_pool_ensure(r->v, SERVER_POOL, SERVER_POOL_DIR, &rep->pool_created, e) < 0 ||
	    virt_pool_volumes(r->v, SERVER_POOL, &r->vols, &r->n_vols, e) < 0)
		return -1;
	for (size_t i = 0; i < r->n_vols; i++)
		if (is_manifest_volume(&r->vols[i]) &&
		    remote_manifest_read(r, r->vols[i].name, strcmp(r->vols[i].name, mine) == 0,
					 e) < 0)
			return -1;
	return 0;
}

/* ---- progress on stderr: redrawn on a terminal, a line per file else ---- */

struct progress {
	const char *what;
	bool tty;
	int64_t last;
};

static void progress_draw(void *ctx, unsigned long long done, unsigned long long total)
{
	struct progress *p = ctx;
	int64_t t = now_ms();
	char have[32], all[32];

	if (!p->tty || (t - p->last < 200 && done != total))
		return;
	p->last = t;
	size_human((double)done, have, sizeof(have));
	size_human((double)total, all, sizeof(all));
	fprintf(stderr, "\r  %s: %s / %s (%d%%) ", p->what, have, all,
		total ? (int)(100 * done / total) : 100);
}

struct hashing {
	struct sha256_stream *s;
	unsigned long long n;
};

static int hash_sink(void *ctx, const char *data, size_t n, struct xerr *e)
{
	struct hashing *h = ctx;

	(void)e;
	sha256_stream_update(h->s, data, n);
	h->n += n;
	return 0;
}

/* What the server stored under vol is what was sent: read back and hashed.
 * A volume that is not is removed, so nothing trusts it. */
static int volume_check(struct remote *r, const char *server, const char *vol,
			const char *want, struct xerr *e)
{
	struct hashing h = { .s = sha256_stream_new() };
	char got[SHA256_HEX_LEN + 1];
	struct xerr ignore = { 0 };

	if (virt_vol_download(r->v, SERVER_POOL, vol, hash_sink, &h, e) < 0) {
		sha256_stream_free(h.s);
		return -1;
	}
	sha256_stream_finish(h.s, got);
	if (strcmp(got, want) == 0)
		return 0;
	virt_vol_delete(r->v, SERVER_POOL, vol, &ignore);
	return xerr_set(e, XERR_FAIL,
			"server '%s' did not store what was sent into volume '%s' (read back "
			"%llu bytes, sha256 %s; sent sha256 %s): the volume was removed; push again, "
			"and check the server's disk if it happens twice",
			server, vol, h.n, got, want);
}

static int file_send(struct remote *r, const char *server, const char *path,
		     const char *vol, const char *label, unsigned long long size,
		     const char *sha, struct xerr *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct progress p = { .what = label, .tty = isatty(STDERR_FILENO) };
	char sz[32];
	int rc;

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	size_human((double)size, sz, sizeof(sz));
	if (!p.tty)
		fprintf(stderr, "  %s: sending %s\n", label, sz);
	rc = virt_vol_upload(r->v, SERVER_POOL, vol, fd, size, progress_draw, &p, e);
	if (p.tty)
		fputc('\n', stderr);
	if (rc < 0)
		return xerr_prefix(e, "pushing %s to server '%s'", label, server);
	if (volume_check(r, server, vol, sha, e) < 0)
		return -1;
	fprintf(stderr, "  %s: %s sent, read back, sha256 matches\n", label, sz);
	return 0;
}

static int file_size(const char *path, unsigned long long *size, struct xerr *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot read %s", path);
	*size = (unsigned long long)st.st_size;
	return 0;
}

/* Each file of the image that the server does not hold yet, trusted. */
static int files_push(struct remote *r, const char *server, const struct image *img,
		      struct push_report *rep, struct xerr *e)
{
	for (size_t i = 0; i < img->n_files; i++) {
		const struct image_file *f = &img->files[i];
		_cleanup_free_ char *path = image_path(img, f->path);
		_cleanup_free_ char *vol = server_blob_volume(f->sha256);
		const struct virt_vol *have = remote_vol(r, vol);
		unsigned long long size = 0;

		if (file_size(path, &size, e) < 0)
			return -1;
		if (have && have->size == size && strv_has((const char *const *)r->trusted, f->sha256))
			continue;
		if (file_send(r, server, path, vol, f->path, size, f->sha256, e) < 0)
			return -1;
		rep->files_sent++;
		rep->bytes += size;
	}
	return 0;
}

/* The image's manifest, last: once it is there, every file it names is. */
static int manifest_push(struct remote *r, const char *server, const struct image *img,
			 struct push_report *rep, struct xerr *e)
{
	_cleanup_free_ char *path = image_path(img, "manifest.json");
	_cleanup_free_ char *vol = server_manifest_volume(img->name);
	unsigned long long size = 0;
	char sha[SHA256_HEX_LEN + 1];

	if (rep->files_sent == 0 && r->manifest_sha256 &&
	    strcmp(r->manifest_sha256, img->manifest_sha256) == 0)
		return 0;
	/* The manifest read when the image was opened is what goes, or none. */
	if (file_size(path, &size, e) < 0 || sha256_file_hex(path, sha, e) < 0)
		return -1;
	if (strcmp(sha, img->manifest_sha256) != 0)
		return xerr_set(e, XERR_CONFLICT, "image '%s' changed while it was pushed; "
				"push it again", img->name);
	if (file_send(r, server, path, vol, "manifest.json", size, sha, e) < 0)
		return -1;
	rep->manifest_sent = true;
	rep->bytes += size;
	return 0;
}

/* One push to a server at a time from this store: two would send the same
 * untrusted file, and one's failed check would remove it under the other.
 * A second waits (an `up` of another lab on that server, say). */
static int push_lock(const char *home, const char *server, struct xerr *e)
{
	_cleanup_free_ char *dir = names_server_dir(home, server);
	_cleanup_free_ char *path = xasprintf("%s/push.lock", dir);
	int fd;

	if (mkdir_p(dir, 0700, e) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return xerr_errno(e, XERR_IO, "cannot lock %s", path);
		}
	}
	return fd;
}

int server_image_push(const char *server, const char *image, struct push_report *rep,
		      struct xerr *e)
{
	_cleanup_free_ char *home = NULL;
	_cleanup_close_ int lock = -1;
	struct remote r = { 0 };
	struct image *img = NULL;
	int64_t t0 = now_ms();
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (strcmp(server, SERVER_LOCAL) == 0)
		return xerr_set(e, XERR_USAGE, "the server 'local' runs labs from the image store "
				"itself: nothing to push");
	if (server_name_check(server, e) < 0 || xlab_home(&home, e) < 0)
		return -1;
	if (image_open(image, &img, e) < 0)
		return -1;
	/* Only what the manifest says goes out: a damaged store stops here. */
	if (image_verify(img, e) < 0 || server_open_named(server, &r.v, e) < 0)
		goto out;
	lock = push_lock(home, server, e);
	if (lock < 0)
		goto out;
	rep->files = img->n_files;
	if (remote_read(&r, image, rep, e) < 0 || files_push(&r, server, img, rep, e) < 0 ||
	    manifest_push(&r, server, img, rep, e) < 0)
		goto out;
	rep->up_to_date = rep->files_sent == 0 && !rep->manifest_sent;
	rc = 0;
out:
	rep->seconds = (double)(now_ms() - t0) / 1000;
	remote_free(&r);
	image_free(img);
	return rc;
}

/* A lab that is not down with a host on server that boots image. */
static int image_in_use(const char *server, const char *image, struct xerr *e)
{
	_cleanup_strv_ char **labs = NULL;
	struct db *db = NULL;
	int rc = 0;

	if (db_open_default(&db, e) < 0 || server_users(db, server, &labs, e) < 0) {
		db_close(db);
		return -1;
	}
	for (char **l = labs; *l && rc == 0; l++) {
		struct db_host *hosts = NULL;
		struct lab_dirs d;
		size_t n = 0;

		if (lab_dirs_get(*l, &d, e) < 0 || db_hosts_list(db, *l, &hosts, &n, e) < 0) {
			rc = -1;
		} else {
			for (size_t i = 0; i < n && rc == 0; i++) {
				const char *on = lab_host_server(&d, hosts[i].name);

				if (hosts[i].image && !strcmp(hosts[i].image, image) && on &&
				    !strcmp(on, server))
					rc = xerr_set(e, XERR_CONFLICT,
						      "host '%s' of lab '%s' boots image %s on server "
						      "'%s': take the lab down first (`xlab down %s`)",
						      hosts[i].name, *l, image, server, *l);
			}
		}
		db_hosts_free(hosts, n);
		lab_dirs_free(&d);
	}
	db_close(db);
	return rc;
}

int server_image_rm(const char *server, const char *image, unsigned long long *freed,
		    struct xerr *e)
{
	_cleanup_free_ char *home = NULL, *mine = server_manifest_volume(image);
	_cleanup_close_ int lock = -1;
	struct remote r = { 0 };
	int rc = -1;

	*freed = 0;
	if (strcmp(server, SERVER_LOCAL) == 0)
		return xerr_set(e, XERR_USAGE, "the server 'local' runs labs from the image store: "
				"`xlab image rm %s` removes it there", image);
	if (server_name_check(server, e) < 0 || xlab_home(&home, e) < 0 ||
	    image_in_use(server, image, e) < 0 || server_open_named(server, &r.v, e) < 0)
		goto out;
	lock = push_lock(home, server, e);
	/* Listed, not ensured: removing makes no pool where there is none. */
	if (lock < 0 || virt_pool_volumes(r.v, SERVER_POOL, &r.vols, &r.n_vols, e) < 0)
		goto out;
	if (!remote_vol(&r, mine)) {
		xerr_set(e, XERR_NOTFOUND, "server '%s' has no image %s (`xlab server list` shows "
			 "its pool; `xlab image push` puts one there)", server, image);
		goto out;
	}
	/* Every other manifest's files: what stays. */
	for (size_t i = 0; i < r.n_vols; i++)
		if (is_manifest_volume(&r.vols[i]) && strcmp(r.vols[i].name, mine) != 0 &&
		    remote_manifest_read(&r, r.vols[i].name, false, e) < 0)
			goto out;
	/* The manifest first: files no manifest lists are never trusted. */
	if (virt_vol_delete(r.v, SERVER_POOL, mine, e) < 0)
		goto out;
	*freed += remote_vol(&r, mine)->size;
	/* Its files, and any file no manifest lists (an older push of an image
	 * since rebuilt, one cut short): the pool holds what images list. */
	for (size_t i = 0; i < r.n_vols; i++) {
		const char *name = r.vols[i].name;

		if (strncmp(name, "sha256-", 7) != 0 ||
		    strv_has((const char *const *)r.trusted, name + 7))
			continue;
		if (virt_vol_delete(r.v, SERVER_POOL, name, e) < 0)
			goto out;
		*freed += r.vols[i].size;
	}
	rc = 0;
out:
	remote_free(&r);
	return rc;
}
