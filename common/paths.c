#include "paths.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
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
		return xerr_errno(e, XLAB_EXIT_FAIL, "cannot read %s", dir);
	if (st.st_uid == geteuid() && (st.st_mode & 0066) && chmod(dir, 0711) < 0)
		return xerr_errno(e, XLAB_EXIT_FAIL, "cannot make %s private", dir);
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
		return xerr_set(e, XLAB_EXIT_FAIL, "cannot tell where to keep state: set XLAB_HOME");
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
