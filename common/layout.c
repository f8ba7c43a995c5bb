#include "layout.h"

#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"
#include "version.h"

static char *self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup("");
	buf[n] = '\0';
	return xstrdup(buf);
}

/* PREFIX when `dir` is PREFIX/BINDIR (BINDIR relative, as meson gives it),
 * or the configured prefix when BINDIR is absolute and `dir` is it. */
static char *prefix_of(const char *dir)
{
	const char *bindir = XLAB_BINDIR;
	size_t dl = strlen(dir), bl = strlen(bindir);

	if (bindir[0] == '/')
		return strcmp(dir, bindir) == 0 ? xstrdup(XLAB_PREFIX) : NULL;
	if (dl <= bl || strcmp(dir + dl - bl, bindir) != 0 || dir[dl - bl - 1] != '/')
		return NULL;
	return xstrndup(dir, dl - bl - 1);
}

/* PREFIX/SUB unless SUB is absolute (meson allows both). */
static char *under(const char *prefix, const char *sub, const char *leaf)
{
	if (sub[0] == '/')
		return xasprintf("%s/%s", sub, leaf);
	return xasprintf("%s/%s/%s", prefix[0] ? prefix : "", sub, leaf);
}

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void layout_fill(struct layout *l)
{
	_cleanup_free_ char *dir = NULL;
	const char *agent = env_or_null("XLAB_AGENT");
	const char *images = env_or_null("XLAB_IMAGES_SRC");

	l->exe = self_exe();
	dir = xstrdup(l->exe);
	l->prefix = prefix_of(dirname(dir));
	if (l->prefix) {
		l->agent = under(l->prefix, XLAB_LIBEXECDIR, "xlab/xlab-agent");
		l->images = under(l->prefix, XLAB_DATADIR, "xlab/images");
		l->examples = under(l->prefix, XLAB_DATADIR, "xlab/examples");
	} else {
		l->agent = xstrdup(XLAB_BUILD_DIR "/agents/xlab-agent");
		l->images = xstrdup(XLAB_SOURCE_DIR "/images");
		l->examples = xstrdup(XLAB_SOURCE_DIR "/examples");
	}
	if (agent) {
		free(l->agent);
		l->agent = xstrdup(agent);
	}
	if (images) {
		free(l->images);
		l->images = xstrdup(images);
	}
}

static struct layout the_layout;

static void layout_fill_once(void)
{
	layout_fill(&the_layout);
}

/* Once, whichever thread asks first: `xlab list` asks from a thread per
 * host, and two filling it at once freed each other's strings. */
const struct layout *layout_get(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, layout_fill_once);
	return &the_layout;
}

static void print_path(FILE *f, const char *what, const char *path, const char *note)
{
	fprintf(f, "%-10s %s%s%s\n", what, path, path_exists(path) ? "" : " (missing)",
		note ? note : "");
}

void layout_print(FILE *f)
{
	const struct layout *l = layout_get();
	struct xerr e = { 0 };
	_cleanup_free_ char *home = NULL;
	_cleanup_free_ char *how = l->prefix ? xasprintf(" (installed under %s)", l->prefix) :
					       xstrdup(" (build tree)");

	fprintf(f, "xlab %s\n", XLAB_VERSION);
	print_path(f, "program", l->exe, how);
	print_path(f, "agent", l->agent, env_or_null("XLAB_AGENT") ? " ($XLAB_AGENT)" : NULL);
	print_path(f, "images", l->images, env_or_null("XLAB_IMAGES_SRC") ? " ($XLAB_IMAGES_SRC)" : NULL);
	print_path(f, "examples", l->examples, NULL);
	if (xlab_home(&home, &e) == 0)
		print_path(f, "store", home, env_or_null("XLAB_HOME") ? " ($XLAB_HOME)" : NULL);
	else
		fprintf(f, "%-10s (%s)\n", "store", e.msg);
}
