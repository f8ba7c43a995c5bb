#include "xentools.h"

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buildroot.h"
#include "build_int.h"
#include "image.h"
#include "spawn.h"
#include "ticker.h"
#include "util.h"
#include "wholeplan.h"
#include "xenbuild.h"

/* Bump when the steps below change in a way the key's inputs do not show. */
#define XENTOOLS_VERSION "xlab-xen-tools 1"

struct tb {
	const char *source;
	char *real;       /* source, resolved */
	struct xentools *t;
	struct buildroot br;
	char *cache;      /* store/.xen-builds */
	char *work;       /* inside the build root: build/tools-KEY-PID */
	char *work_in;    /* the same as the build root sees it */
	char *top_in;     /* the source's top inside the root */
	char *log;
	int log_fd;
	int64_t t0;
};

static void say(const struct tb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct tb *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6.1fs] xen tools: ", (double)(now_ms() - b->t0) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *joined(char *const *v)
{
	struct buf b = { 0 };

	for (size_t i = 0; v && v[i]; i++)
		buf_printf(&b, "%s%s", i ? " " : "", v[i]);
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* The source, the configuration and the root it is built in: not the gcc
 * in it, which is only known once the root exists, so a lookup needs none. */
static int key_make(struct tb *b, const char *mm, struct xerr *e)
{
	char digest[SHA256_HEX_LEN + 1];
	_cleanup_free_ char *args = joined(b->t->configure);
	struct buf in = { 0 };
	char root_id[SHA256_HEX_LEN + 1];

	if (xen_source_digest(b->real, digest, e) < 0)
		return -1;
	buildroot_id(b->t->suite, root_id);
	buf_printf(&in, "%s\n%s\nmm=%s\n%s\nroot=%s\n", XENTOOLS_VERSION, digest, mm, args,
		   root_id);
	sha256_hex(in.data, in.len, b->t->key);
	buf_free(&in);
	return 0;
}

/* ---- a build of minutes says it is alive ---- */

struct alive_ctx {
	const struct tb *b;
	const char *what;
};

static void alive(void *arg)
{
	const struct alive_ctx *a = arg;

	say(a->b, "%s... (log: %s)", a->what, a->b->log);
}

static int run_ticking(struct tb *b, const char *what, char *const argv[], struct xerr *e)
{
	struct alive_ctx a = { .b = b, .what = what };
	struct ticker t;
	int64_t t0 = now_ms();
	int rc;

	ticker_start(&t, 60, alive, &a);
	rc = buildroot_run(&b->br, b->top_in, argv, NULL, b->log_fd, e);
	ticker_stop(&t);
	if (rc == 0)
		say(b, "%s: done in %.0f s", what, (double)(now_ms() - t0) / 1000.0);
	return rc < 0 ? xerr_prefix(e, "%s; the log says why: %s", what, b->log) : 0;
}

/* ---- the steps ---- */

/* The source into the build root: a tarball unpacked, a tree copied (the
 * user's tree is never written to, and a build of theirs is cleaned). */
static int source_place(struct tb *b, bool *copied, struct xerr *e)
{
	_cleanup_free_ char *src = xasprintf("%s/src", b->work);
	DIR *d;
	struct dirent *de;
	_cleanup_free_ char *top = NULL;
	int entries = 0;

	struct stat st;

	if (mkdir_p(src, 0755, e) < 0)
		return -1;
	if (stat(b->real, &st) < 0)
		return xerr_errno(e, XERR_USAGE, "--xen-source %s", b->source);
	*copied = S_ISDIR(st.st_mode);
	{
		_cleanup_free_ char *from = xasprintf("%s/.", b->real);
		char *cp[] = { "cp", "-a", "--reflink=auto", from, src, NULL };
		char *tar[] = { "tar", "-xf", b->real, "-C", src, "--no-same-owner", NULL };

		if (spawn_logged(*copied ? cp : tar, NULL, b->log_fd, e) < 0)
			return xerr_prefix(e, "placing the source %s in the build root", b->source);
	}
	{
		_cleanup_free_ char *mk = xasprintf("%s/xen/Makefile", src);

		if (path_exists(mk)) {
			b->top_in = xasprintf("%s/src", b->work_in);
			return 0;
		}
	}
	d = opendir(src);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && entries++ == 0)
			top = xstrdup(de->d_name);
	if (d)
		closedir(d);
	if (entries != 1)
		return xerr_set(e, XERR_USAGE, "%s holds no xen.git tree (no xen/Makefile at its top)",
				b->source);
	b->top_in = xasprintf("%s/src/%s", b->work_in, top);
	return 0;
}

static int configure(struct tb *b, bool copied, struct xerr *e)
{
	char *distclean[] = { "make", "distclean", NULL };
	_cleanup_free_ char *args = joined(b->t->configure + 1);

	/* A tree copied from a user's checkout may hold their last build; one
	 * never configured has nothing to clean, and its distclean may fail. */
	if (copied && buildroot_run(&b->br, b->top_in, distclean, NULL, b->log_fd, e) < 0) {
		if (e->kind == XERR_INTERRUPTED)
			return -1;
		xerr_clear(e);
	}
	say(b, "configuring: %s", args);
	return run_ticking(b, "configure", b->t->configure, e);
}

static int compile(struct tb *b, struct xerr *e)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	_cleanup_free_ char *jobs = xasprintf("-j%ld", cpus > 0 ? cpus : 1);
	/* tools/tests (the x86 emulator's, built for every SIMD flavour) cost
	 * minutes and a dom0 runs none of them. */
	char *make[] = { "make", jobs, "dist-tools", "CONFIG_TESTS=n", NULL };

	say(b, "compiling and installing the tools with %ld job(s) (make dist-tools)",
	    cpus > 0 ? cpus : 1);
	return run_ticking(b, "make dist-tools", make, e);
}

static int info_write(const struct tb *b, const char *dir, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/info.json", dir);
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	const char *text;
	int rc;

	for (size_t i = 1; b->t->configure[i]; i++)
		json_object_array_add(a, json_object_new_string(b->t->configure[i]));
	json_object_object_add(o, "configure", a);
	json_object_object_add(o, "compiler", json_object_new_string(b->br.compiler));
	json_object_object_add(o, "suite", json_object_new_string(b->t->suite));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = file_write_atomic(p, text, strlen(text), 0644, e);
	json_object_put(o);
	return rc;
}

static int results_keep(struct tb *b, struct xerr *e)
{
	_cleanup_free_ char *out = xasprintf("%s/.tools-%s.tmp-%d", b->cache, b->t->key,
					     (int)getpid());
	_cleanup_free_ char *tar = xasprintf("%s/dist.tar", out);
	_cleanup_free_ char *dist = xasprintf("%s%s/dist/install", b->br.dir, b->top_in);
	_cleanup_free_ char *log_to = xasprintf("%s/build.log", out);
	char *pack[] = { "tar", "--numeric-owner", "--owner=0", "--group=0", "-C", dist, "-cf",
			 tar, ".", NULL };

	if (mkdir_p(out, 0755, e) < 0 || spawn_logged(pack, NULL, b->log_fd, e) < 0 ||
	    info_write(b, out, e) < 0)
		return xerr_prefix(e, "keeping the installed tools");
	if (rename(b->log, log_to) < 0)
		return xerr_errno(e, XERR_IO, "keeping the build log");
	free(b->log);
	b->log = steal_ptr(log_to);
	if (rename(out, b->t->dir) < 0)
		return xerr_errno(e, XERR_IO, "putting the tools in place at %s", b->t->dir);
	return 0;
}

static int info_read(struct xentools *t, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/info.json", t->dir);
	struct json_object *o = json_object_from_file(p), *v;

	if (!o || !json_object_object_get_ex(o, "compiler", &v)) {
		json_object_put(o);
		return xerr_set(e, XERR_FAIL, "%s is unreadable: remove %s to build again", p,
				t->dir);
	}
	t->compiler = xstrdup(json_object_get_string(v) ? json_object_get_string(v) : "unknown");
	json_object_put(o);
	return 0;
}

static int lock_take(const struct tb *b, int *fd, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/.tools-%s.lock", b->cache, b->t->key);

	return build_lock_take(p, "the same tools", fd, e);
}

static int build(struct tb *b, struct xerr *e)
{
	bool copied = false;

	b->log = xasprintf("%s/tools-%s.log", b->cache, b->t->key);
	b->log_fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (b->log_fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", b->log);
	say(b, "building from %s (log: %s)", b->source, b->log);
	if (geteuid() == 0)
		say(b, "its Makefiles run as root in the build root: build only sources you trust");
	if (buildroot_get(b->cache, b->t->suite, b->log_fd, &b->br, e) < 0)
		return -1;
	say(b, "build root %s (%s)", b->br.dir, b->br.compiler);
	b->work_in = xasprintf("/build/tools-%.16s-%d", b->t->key, (int)getpid());
	b->work = xasprintf("%s%s", b->br.dir, b->work_in);
	if (source_place(b, &copied, e) < 0 || configure(b, copied, e) < 0 ||
	    compile(b, e) < 0 || results_keep(b, e) < 0)
		return -1;
	say(b, "built in %.0f s: %s", (double)(now_ms() - b->t0) / 1000.0, b->t->dir);
	return 0;
}

int xentools_build(const char *source, const char *mm, const char *suite, struct xentools *t,
		   struct xerr *e)
{
	/* br.lock_fd -1: a cache hit never takes the build root, and its
	 * release must not close fd 0. */
	struct tb b = { .source = source, .t = t, .log_fd = -1, .t0 = now_ms(),
			.br = { .lock_fd = -1 } };
	_cleanup_free_ char *store = NULL;
	_cleanup_close_ int lock_fd = -1;
	int rc = -1;

	t->suite = xstrdup(suite);
	t->configure = tools_configure_argv(mm);
	b.real = realpath(source, NULL);
	if (!b.real)
		return xerr_errno(e, XERR_USAGE, "--xen-source %s", source);
	if (image_store_dir(&store, e) < 0 || key_make(&b, mm, e) < 0)
		goto out;
	b.cache = xasprintf("%s/.xen-builds", store);
	t->dir = xasprintf("%s/tools-%s", b.cache, t->key);
	t->tar = xasprintf("%s/dist.tar", t->dir);
	if (mkdir_p(b.cache, 0755, e) < 0 || lock_take(&b, &lock_fd, e) < 0)
		goto out;
	if (path_exists(t->tar)) {
		say(&b, "built before from %s (cache %.12s)", source, t->key);
		rc = info_read(t, e);
		goto out;
	}
	if (build(&b, e) < 0) {
		xerr_prefix(e, "building Xen's tools from %s", source);
		goto out;
	}
	t->compiler = xstrdup(b.br.compiler);
	rc = 0;
out:
	if (b.work) {
		struct xerr ignore = { 0 };

		remove_tree(b.work, &ignore);
	}
	if (b.log_fd >= 0)
		close(b.log_fd);
	buildroot_release(&b.br);
	free(b.real);
	free(b.cache);
	free(b.work);
	free(b.work_in);
	free(b.top_in);
	free(b.log);
	return rc;
}

void xentools_free(struct xentools *t)
{
	free(t->dir);
	free(t->tar);
	free(t->compiler);
	free(t->suite);
	strv_free(t->configure);
}
