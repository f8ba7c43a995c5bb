/* File transfer over SFTP: put with a mode, get streamed into a local file
 * with no set-id bits. */
#include "sshc.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshc_int.h"

/* OpenSSH's sftp-server takes packets up to 256 KiB; stay well below. */
#define SFTP_CHUNK (64 * 1024)

/* ---------------------------------------------------------------- SFTP */

static void sftp_sessionp(sftp_session *p)
{
	if (*p)
		sftp_free(*p);
}
#define _cleanup_sftp_ _cleanup_(sftp_sessionp)

static int sftp_start(struct sshc *c, sftp_session *out, struct xerr *e)
{
	sftp_session sf = sftp_new(c->s);

	if (!sf)
		return xerr_set(e, XERR_FAIL, "sftp %s: %s", c->addr, ssh_get_error(c->s));
	if (sftp_init(sf) != SSH_OK) {
		xerr_set(e, XERR_FAIL, "sftp %s: cannot start (error %d): %s", c->addr,
			 sftp_get_error(sf), ssh_get_error(c->s));
		sftp_free(sf);
		return -1;
	}
	*out = sf;
	return 0;
}

static int sftp_fail(struct sshc *c, sftp_session sf, const char *what, const char *path,
		     struct xerr *e)
{
	return xerr_set(e, XERR_FAIL, "sftp %s: cannot %s %s (sftp error %d): %s", c->addr,
			what, path, sftp_get_error(sf), ssh_get_error(c->s));
}

static bool sftp_is_dir(sftp_session sf, const char *path)
{
	sftp_attributes a = sftp_stat(sf, path);
	bool dir = a && a->type == SSH_FILEXFER_TYPE_DIRECTORY;

	sftp_attributes_free(a);
	return dir;
}

/* mkdir -p of the parent of `path`. */
static int sftp_mkdir_parent(struct sshc *c, sftp_session sf, const char *path, struct xerr *e)
{
	_cleanup_free_ char *p = xstrdup(path);
	char *slash = strrchr(p, '/');

	if (!slash || slash == p)
		return 0;
	*slash = '\0';
	for (char *s = p + 1;; s++) {
		bool last = *s == '\0';

		if (*s != '/' && !last)
			continue;
		*s = '\0';
		/* sftp-server reports an existing directory as a plain failure. */
		if (!sftp_is_dir(sf, p) && sftp_mkdir(sf, p, 0755) < 0 && !sftp_is_dir(sf, p))
			return sftp_fail(c, sf, "mkdir", p, e);
		if (last)
			break;
		*s = '/';
	}
	return 0;
}

static int sftp_write_file(struct sshc *c, sftp_session sf, int fd, const char *remote,
			   struct xerr *e)
{
	sftp_file f = sftp_open(sf, remote, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *chunk;
	int rc = 0;

	if (!f)
		return sftp_fail(c, sf, "create", remote, e);
	chunk = xmalloc(SFTP_CHUNK);
	for (;;) {
		ssize_t n = read(fd, chunk, SFTP_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = xerr_errno(e, XERR_IO, "cannot read the file for %s", remote);
			break;
		}
		if (n == 0)
			break;
		if (sftp_write(f, chunk, (size_t)n) != n) {
			rc = sftp_fail(c, sf, "write", remote, e);
			break;
		}
	}
	free(chunk);
	if (sftp_close(f) != SSH_NO_ERROR && rc == 0)
		rc = sftp_fail(c, sf, "close", remote, e);
	return rc;
}

int sshc_put(struct sshc *c, const char *local, const char *remote, int mode, struct xerr *e)
{
	_cleanup_sftp_ sftp_session sf = NULL;
	_cleanup_close_ int fd = open(local, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", remote);

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", local);
	if (sftp_start(c, &sf, e) < 0 || sftp_mkdir_parent(c, sf, remote, e) < 0)
		return -1;
	if (sftp_write_file(c, sf, fd, tmp, e) < 0)
		goto fail;
	if (sftp_chmod(sf, tmp, (mode_t)mode) < 0) {
		sftp_fail(c, sf, "chmod", tmp, e);
		goto fail;
	}
	/* SFTP v3 rename refuses an existing target. */
	if (sftp_rename(sf, tmp, remote) < 0 &&
	    (sftp_unlink(sf, remote) < 0 || sftp_rename(sf, tmp, remote) < 0)) {
		sftp_fail(c, sf, "rename onto", remote, e);
		goto fail;
	}
	return 0;
fail:
	sftp_unlink(sf, tmp);
	return -1;
}

/* What a copy from a dom0 may be: 0666 or 0777 less the umask, as cp(1)
 * gives a new file. Never the remote's own bits: a set-id or sticky bit set
 * by root in a dom0 (a student) must not reach the controller. */
static mode_t local_mode(uint32_t remote_perms)
{
	mode_t mask = umask(0);

	umask(mask);
	return (remote_perms & 0111 ? 0777 : 0666) & ~mask;
}

static int sftp_read_to(struct sshc *c, sftp_session sf, sftp_file f, int fd,
			const char *remote, const char *tmp, struct xerr *e)
{
	_cleanup_free_ char *chunk = xmalloc(SFTP_CHUNK);

	for (;;) {
		ssize_t n = sftp_read(f, chunk, SFTP_CHUNK);

		if (n < 0)
			return sftp_fail(c, sf, "read", remote, e);
		if (n == 0)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, chunk + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return xerr_errno(e, XERR_IO, "cannot write %s", tmp);
			done += w;
		}
	}
}

/* Streams the file into a fresh temporary next to `local` (O_EXCL: no planted
 * link is followed), then renames it into place. */
int sshc_get(struct sshc *c, const char *remote, const char *local, struct xerr *e)
{
	_cleanup_sftp_ sftp_session sf = NULL;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", local);
	_cleanup_close_ int fd = -1;
	sftp_attributes a;
	sftp_file f;
	mode_t mode;
	int rc;

	if (sftp_start(c, &sf, e) < 0)
		return -1;
	/* By name first: opening a FIFO would block the remote sftp-server. */
	a = sftp_stat(sf, remote);
	if (!a)
		return sftp_fail(c, sf, "stat", remote, e);
	rc = a->type == SSH_FILEXFER_TYPE_REGULAR ? 0 :
		xerr_set(e, XERR_FAIL, "%s: %s is not a regular file; only regular files "
			 "are copied", c->addr, remote);
	sftp_attributes_free(a);
	if (rc < 0)
		return -1;
	f = sftp_open(sf, remote, O_RDONLY, 0);
	if (!f)
		return sftp_fail(c, sf, "open", remote, e);
	/* What was opened, not what the name was a moment before: a dom0's root
	 * could swap the path for a link to /dev/zero between a stat and an open. */
	a = sftp_fstat(f);
	if (!a) {
		sftp_close(f);
		return sftp_fail(c, sf, "stat", remote, e);
	}
	mode = local_mode(a->permissions);
	rc = a->type == SSH_FILEXFER_TYPE_REGULAR ? 0 :
		xerr_set(e, XERR_FAIL, "%s: %s is not a regular file; only regular files "
			 "are copied", c->addr, remote);
	sftp_attributes_free(a);
	if (rc < 0) {
		sftp_close(f);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		sftp_close(f);
		return xerr_errno(e, XERR_IO, "cannot create %s", tmp);
	}
	rc = sftp_read_to(c, sf, f, fd, remote, tmp, e);
	sftp_close(f);
	if (rc == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		rc = xerr_errno(e, XERR_IO, "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, local) < 0)
		rc = xerr_errno(e, XERR_IO, "cannot write %s", local);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
