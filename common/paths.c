#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Nobody else may list or read the state: 0711, not 0700, because QEMU runs
 * as its own user and must reach lab disks below it (each file is 0600 and
 * given to QEMU by libvirt); an older xlab's 0755 home is tightened. */
static int home_private(const char *dir, struct xerr *e)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot read %s", dir);
	if (st.st_uid == geteuid() && (st.st_mode & 0066) && chmod(dir, 0711) < 0)
		return xerr_errno(e, XERR_IO, "cannot make %s private", dir);
	return 0;
}

int xlab_home(char **out, struct xerr *e)
{
	const char *env = getenv("XLAB_HOME");
	bool chosen = env && *env;
	_cleanup_free_ char *dir = NULL;

	if (chosen)
		dir = xstrdup(env);
	else if (geteuid() == 0)
		dir = xstrdup("/var/lib/xlab");
	else if ((env = getenv("XDG_STATE_HOME")) && *env)
		dir = xasprintf("%s/xlab", env);
	else if ((env = getenv("HOME")) && *env)
		dir = xasprintf("%s/.local/state/xlab", env);
	else
		return xerr_set(e, XERR_FAIL, "cannot tell where to keep state: set XLAB_HOME");
	/* XLAB_HOME may name a directory that is not xlab's alone (a test's,
	 * even /tmp): only the default home is tightened. */
	if (mkdir_p(dir, 0711, e) < 0 || (!chosen && home_private(dir, e) < 0))
		return -1;
	*out = steal_ptr(dir);
	return 0;
}

int xlab_dir(char **out, struct xerr *e, ...)
{
	struct buf b = { 0 };
	_cleanup_free_ char *home = NULL;
	const char *part;
	va_list ap;

	if (xlab_home(&home, e) < 0)
		return -1;
	buf_puts(&b, home);
	va_start(ap, e);
	while ((part = va_arg(ap, const char *))) {
		buf_puts(&b, "/");
		buf_puts(&b, part);
	}
	va_end(ap);
	if (mkdir_p(b.data, 0755, e) < 0) {
		buf_free(&b);
		return -1;
	}
	*out = buf_steal(&b);
	return 0;
}

bool xlab_store_id_valid(const char *s)
{
	if (strlen(s) != XLAB_STORE_ID_LEN)
		return false;
	for (size_t i = 0; i < XLAB_STORE_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* A version 4 UUID from the kernel's random source. */
static int store_id_generate(char out[XLAB_STORE_ID_LEN + 1], struct xerr *e)
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return xerr_errno(e, XERR_IO, "cannot make a store id (getrandom)");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, XLAB_STORE_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
		 r[15]);
	return 0;
}

static int store_id_read(const char *path, char out[XLAB_STORE_ID_LEN + 1], struct xerr *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (file_read_all(path, 4096, &text, &len, e) < 0)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	if (!xlab_store_id_valid(text))
		return xerr_set(e, XERR_FAIL,
				"%s does not hold a store id (a UUID); it names this store's "
				"libvirt objects, so restore it rather than remove it",
				path);
	memcpy(out, text, XLAB_STORE_ID_LEN + 1);
	return 0;
}

int xlab_store_id(char out[XLAB_STORE_ID_LEN + 1], struct xerr *e)
{
	_cleanup_free_ char *home = NULL, *path = NULL, *tmp = NULL, *line = NULL;
	char id[XLAB_STORE_ID_LEN + 1];
	int fd, rc;

	if (xlab_home(&home, e) < 0)
		return -1;
	path = xasprintf("%s/store-id", home);
	if (path_exists(path))
		return store_id_read(path, out, e);
	/* Written aside, then linked into place: link() never replaces, so two
	 * processes making a fresh store agree on the first one's id. */
	if (store_id_generate(id, e) < 0)
		return -1;
	tmp = xasprintf("%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", tmp);
	line = xasprintf("%s\n", id);
	rc = write(fd, line, strlen(line)) == (ssize_t)strlen(line) && fchmod(fd, 0644) == 0 &&
			     fsync(fd) == 0 ?
		     0 :
		     -1;
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST)
		rc = -1;
	if (rc < 0)
		xerr_errno(e, XERR_IO, "cannot write %s", path);
	unlink(tmp);
	return rc < 0 ? -1 : store_id_read(path, out, e);
}

int xlab_images_dir(char **out, struct xerr *e)
{
	const char *env = getenv("XLAB_IMAGES");

	if (env && *env) {
		*out = xstrdup(env);
		return 0;
	}
	return xlab_dir(out, e, "images", NULL);
}
