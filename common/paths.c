#include "paths.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

int xlab_home(char **out, struct xerr *e)
{
	const char *env = getenv("XLAB_HOME");
	_cleanup_free_ char *dir = NULL;

	if (env && *env)
		dir = xstrdup(env);
	else if (geteuid() == 0)
		dir = xstrdup("/var/lib/xlab");
	else if ((env = getenv("XDG_STATE_HOME")) && *env)
		dir = xasprintf("%s/xlab", env);
	else if ((env = getenv("HOME")) && *env)
		dir = xasprintf("%s/.local/state/xlab", env);
	else
		return xerr_set(e, XLAB_EXIT_FAIL, "cannot tell where to keep state: set XLAB_HOME");
	if (mkdir_p(dir, 0755, e) < 0)
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
