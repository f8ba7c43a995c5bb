#include "kernelbuild.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "image.h"
#include "sha256.h"
#include "spawn.h"
#include "stop.h"
#include "ticker.h"
#include "util.h"
#include "xenbuild.h"

/* Bump when the steps below change in a way the key's inputs do not show. */
#define KERNELBUILD_VERSION "xlab-kernel-build 2"
#define CACHE_DIR ".kernel-builds"

const char *kernel_source(void)
{
	const char *env = getenv("XLAB_LINUX_SOURCE");

	return env && *env ? env : KERNEL_SOURCE_DEFAULT;
}

int kconfig_fragment(const char *text, const char *name, char ***settings, struct xerr *e)
{
	_cleanup_strv_ char **v = NULL;
	int lineno = 0;

	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		_cleanup_free_ char *line = xstrndup(l, len);
		char out[256];
		struct xerr bad = { 0 };

		lineno++;
		l = end ? end + 1 : l + len;
		/* Kconfig's own way to say n is a setting, not a comment. */
		if (!strncmp(line, "# CONFIG_", 9) && strstr(line, " is not set")) {
			char *sym = line + 2, *sp = strchr(sym, ' ');

			*sp = '\0';
			strv_add(&v, xasprintf("%s=n", sym));
			continue;
		}
		if (!*line || line[0] == '#')
			continue;
		if (strncmp(line, "CONFIG_", 7) != 0 || kconfig_line(line, out, sizeof(out), &bad) < 0)
			return xerr_set(e, XERR_USAGE,
					"%s:%d: expected CONFIG_KEY=VALUE or a # comment, not '%s'",
					name, lineno, line);
		strv_add(&v, steal_ptr(line));
	}
	if (!v)
		return xerr_set(e, XERR_USAGE, "%s sets nothing", name);
	*settings = steal_ptr(v);
	return 0;
}

struct kb {
	const char *source;
	const char *fragment, *name;
	char *cache;  /* store/.kernel-builds */
	char key[SHA256_HEX_LEN + 1];
	char *final;  /* cache/KEY */
	char *tmp;    /* cache/.KEY.tmp-PID */
	char *root;   /* the unpacked source tree, inside tmp */
	char *log;    /* cache/KEY.log while it builds */
	int log_fd;
	int64_t t0;
};

static void say(const struct kb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct kb *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6.1fs] kernel: ", (double)(now_ms() - b->t0) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The first line of `ld --version`: binutils makes the bytes as gcc does. */
static char *ld_version(void)
{
	char *argv[] = { "ld", "--version", NULL };
	struct spawn_opts o = { .capture_stdout = true };
	struct spawn_result r;
	struct xerr ignore = { 0 };
	char *line;

	if (spawn_check(argv, &o, &r, &ignore) < 0)
		return xstrdup("no ld");
	line = xstrndup(r.out, strcspn(r.out, "\n"));
	spawn_result_free(&r);
	return line;
}

int kernelbuild_key(const char *source, const char *fragment, const char *name,
		    char key[SHA256_HEX_LEN + 1], struct xerr *e)
{
	char digest[SHA256_HEX_LEN + 1];
	_cleanup_strv_ char **settings = NULL;
	_cleanup_free_ char *cc = NULL, *ld = NULL;
	struct buf in = { 0 };

	if (!path_exists(source))
		return xerr_set(e, XERR_FAIL,
				"the lean kernel is built from Debian's Linux source, %s, which is "
				"not here: apt-get install %s (scripts/install-deps.sh does), or "
				"build an image with Debian's kernel (xen-4.17-debian, "
				"xen-4.20-debian)",
				source, KERNEL_SOURCE_PACKAGE);
	/* A bad line is found now, not after a minute of unpacking. */
	if (kconfig_fragment(fragment, name, &settings, e) < 0 ||
	    sha256_file_hex(source, digest, e) < 0)
		return -1;
	cc = gcc_version(NULL);
	ld = ld_version();
	buf_printf(&in, "%s\n%s\n%s\n%s\n%s", KERNELBUILD_VERSION, digest, cc, ld, fragment);
	sha256_hex(in.data, in.len, key);
	buf_free(&in);
	return 0;
}

/* The same bytes from the same inputs: no build time, user or host inside,
 * and none of Kbuild's knobs a caller's environment may hold (another
 * compiler, flags, a version suffix, an output tree) that the key does not
 * show. */
static char *const build_env[] = {
	"KBUILD_BUILD_USER=xlab", "KBUILD_BUILD_HOST=xlab", "KBUILD_BUILD_TIMESTAMP=1970-01-01",
	"ARCH=x86_64", "CROSS_COMPILE=", "LLVM=", "KCFLAGS=", "KCPPFLAGS=", "KAFLAGS=",
	"LOCALVERSION=", "KBUILD_OUTPUT=", "MAKEFLAGS=", "LC_ALL=C", NULL,
};

static int run(struct kb *b, char *const argv[], struct xerr *e)
{
	if (spawn_logged(argv, build_env, b->log_fd, e) == 0)
		return 0;
	if (e->kind != XERR_INTERRUPTED) {
		_cleanup_free_ char *how = xstrdup(e->msg);

		xerr_set(e, e->kind, "%s; the log says why: %s", how, b->log);
	}
	return -1;
}

/* Debian's tarball has one top directory, linux-source-VERSION. */
static int source_unpack(struct kb *b, struct xerr *e)
{
	_cleanup_free_ char *src = xasprintf("%s/src", b->tmp);
	char *tar[] = { "tar", "-xf", (char *)b->source, "-C", src, "--no-same-owner",
			"--no-same-permissions", NULL };
	DIR *d;
	struct dirent *de;
	int entries = 0;

	say(b, "unpacking %s", b->source);
	if (mkdir_p(src, 0755, e) < 0 || run(b, tar, e) < 0)
		return xerr_prefix(e, "unpacking %s", b->source);
	d = opendir(src);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && entries++ == 0)
			b->root = xasprintf("%s/%s", src, de->d_name);
	if (d)
		closedir(d);
	if (entries == 1) {
		_cleanup_free_ char *kconfig = xasprintf("%s/Kconfig", b->root);

		if (path_exists(kconfig))
			return 0;
	}
	return xerr_set(e, XERR_USAGE, "%s holds no Linux source tree (one top directory with "
				       "a Kconfig)", b->source);
}

/* allnoconfig with the fragment: everything not asked for is off. A setting
 * Kconfig dropped (its dependency is off) is an error, not a kernel that
 * lacks what the fragment promised. */
static int configure(struct kb *b, struct xerr *e)
{
	_cleanup_free_ char *frag = xasprintf("%s/xlab.config", b->tmp);
	_cleanup_free_ char *cfg = xasprintf("%s/.config", b->root);
	_cleanup_free_ char *allconfig = xasprintf("KCONFIG_ALLCONFIG=%s", frag);
	_cleanup_free_ char *text = NULL;
	_cleanup_strv_ char **settings = NULL;
	char *argv[] = { "make", "-C", b->root, "allnoconfig", allconfig, NULL };
	const char *unmet;
	size_t len;

	say(b, "configuring (allnoconfig + %s)", b->name);
	if (kconfig_fragment(b->fragment, b->name, &settings, e) < 0 ||
	    file_write_atomic(frag, b->fragment, strlen(b->fragment), 0644, e) < 0 ||
	    run(b, argv, e) < 0 || file_read_all(cfg, 4 << 20, &text, &len, e) < 0)
		return -1;
	unmet = kconfig_unmet(text, (const char *const *)settings);
	if (unmet) {
		/* The tree goes with the failed build; its answer stays to read. */
		_cleanup_free_ char *kept = xasprintf("%s/%s.config", b->cache, b->key);
		struct xerr ignore = { 0 };

		file_write_atomic(kept, text, len, 0644, &ignore);
		return xerr_set(e, XERR_USAGE,
				"%s: %s did not hold: Kconfig dropped it (a symbol it depends on "
				"is off, or this Linux has no such symbol); the configuration it "
				"made: %s",
				b->name, unmet, kept);
	}
	return 0;
}

static void alive(void *arg)
{
	const struct kb *b = arg;

	say(b, "compiling... (log: %s)", b->log);
}

static int compile(struct kb *b, struct xerr *e)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	_cleanup_free_ char *jobs = xasprintf("-j%ld", cpus > 0 ? cpus + 1 : 1);
	char *make[] = { "make", "-C", b->root, jobs, "bzImage", NULL };
	struct ticker t;
	int64_t t0 = now_ms();
	int rc;

	say(b, "compiling with %ld job(s): minutes, once for every image built from this "
	       "source and configuration", cpus > 0 ? cpus + 1 : 1);
	ticker_start(&t, 30, alive, b);
	rc = run(b, make, e);
	ticker_stop(&t);
	if (rc == 0)
		say(b, "compiled in %.0f s", (double)(now_ms() - t0) / 1000.0);
	return rc;
}

static int release_read(struct kb *b, char **release, struct xerr *e)
{
	char *argv[] = { "make", "-s", "-C", b->root, "kernelrelease", NULL };
	struct spawn_opts o = { .capture_stdout = true, .env_add = build_env };
	struct spawn_result r;
	char *nl;

	if (spawn_check(argv, &o, &r, e) < 0)
		return xerr_prefix(e, "asking the tree its kernel release");
	nl = strchr(r.out, '\n');
	if (nl)
		*nl = '\0';
	*release = xstrdup(r.out);
	spawn_result_free(&r);
	if (!**release || strchr(*release, '/'))
		return xerr_set(e, XERR_FAIL, "the kernel tree gave no usable release");
	return 0;
}

/* What an image takes (bzImage, release) and what tells how it was made
 * (.config, build.log), renamed into place at once: a cache entry is whole
 * or absent. */
static int results_keep(struct kb *b, struct xerr *e)
{
	_cleanup_free_ char *out = xasprintf("%s/out", b->tmp);
	_cleanup_free_ char *release = NULL, *rel_path = NULL, *log_to = NULL;
	static const char *const files[][2] = {
		{ "arch/x86/boot/bzImage", "bzImage" },
		{ ".config", ".config" },
	};

	if (mkdir_p(out, 0755, e) < 0 || release_read(b, &release, e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *from = xasprintf("%s/%s", b->root, files[i][0]);
		_cleanup_free_ char *to = xasprintf("%s/%s", out, files[i][1]);
		_cleanup_free_ char *data = NULL;
		size_t len;

		if (file_read_all(from, 256u << 20, &data, &len, e) < 0 ||
		    file_write_atomic(to, data, len, 0644, e) < 0)
			return -1;
	}
	rel_path = xasprintf("%s/release", out);
	if (file_write_atomic(rel_path, release, strlen(release), 0644, e) < 0)
		return -1;
	log_to = xasprintf("%s/build.log", out);
	if (rename(b->log, log_to) < 0)
		return xerr_errno(e, XERR_IO, "keeping the build log");
	free(b->log);
	b->log = steal_ptr(log_to);
	if (rename(out, b->final) < 0)
		return xerr_errno(e, XERR_IO, "putting the build in place at %s", b->final);
	return 0;
}

static int lock_take(const struct kb *b, int *fd, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/.%s.lock", b->cache, b->key);

	return build_lock_take(p, "the same kernel", fd, e);
}

/* With the key's lock held no other build of it runs: any tree of one is
 * what a killed build (SIGKILL, power loss) left, gigabytes of it. */
static void remove_stale_trees(const struct kb *b)
{
	_cleanup_free_ char *pattern = xasprintf("%s/.%s.tmp-*", b->cache, b->key);
	glob_t g = { 0 };

	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct xerr ignore = { 0 };

		say(b, "removing %s, left by a build that was cut short", g.gl_pathv[i]);
		rm_rf(g.gl_pathv[i], &ignore);
	}
	globfree(&g);
}

static int found(const struct kb *b, char **bzimage, char **release, struct xerr *e)
{
	_cleanup_free_ char *rel_path = xasprintf("%s/release", b->final);
	size_t len;

	if (file_read_all(rel_path, 4096, release, &len, e) < 0)
		return -1;
	*bzimage = xasprintf("%s/bzImage", b->final);
	return 0;
}

int kernelbuild(const char *source, const char *fragment, const char *name, char **bzimage,
		char **release, struct xerr *e)
{
	struct kb b = { .source = source, .fragment = fragment, .name = name, .log_fd = -1,
			.t0 = now_ms() };
	_cleanup_free_ char *store = NULL, *done = NULL;
	_cleanup_close_ int lock_fd = -1;
	int rc = -1;

	if (kernelbuild_key(source, fragment, name, b.key, e) < 0 || image_store_dir(&store, e) < 0)
		goto out;
	b.cache = xasprintf("%s/%s", store, CACHE_DIR);
	b.final = xasprintf("%s/%s", b.cache, b.key);
	done = xasprintf("%s/bzImage", b.final);
	if (mkdir_p(b.cache, 0755, e) < 0 || lock_take(&b, &lock_fd, e) < 0)
		goto out;
	remove_stale_trees(&b);
	if (path_exists(done)) {
		rc = found(&b, bzimage, release, e);
		if (rc == 0)
			say(&b, "%s, built before (cache %.12s)", *release, b.key);
		goto out;
	}
	b.tmp = xasprintf("%s/.%s.tmp-%d", b.cache, b.key, (int)getpid());
	b.log = xasprintf("%s/%s.log", b.cache, b.key);
	b.log_fd = open(b.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (b.log_fd < 0) {
		xerr_errno(e, XERR_IO, "cannot create %s", b.log);
		goto out;
	}
	say(&b, "building from %s (log: %s)", source, b.log);
	if (source_unpack(&b, e) < 0 || configure(&b, e) < 0 || compile(&b, e) < 0 ||
	    results_keep(&b, e) < 0 || found(&b, bzimage, release, e) < 0) {
		xerr_prefix(e, "building the lean kernel");
		goto out;
	}
	say(&b, "%s built in %.0f s: %s", *release, (double)(now_ms() - b.t0) / 1000.0, b.final);
	rc = 0;
out:
	if (b.tmp) {
		struct xerr ignore = { 0 };

		rm_rf(b.tmp, &ignore);
	}
	if (b.log_fd >= 0)
		close(b.log_fd);
	free(b.cache);
	free(b.final);
	free(b.tmp);
	free(b.root);
	free(b.log);
	return rc;
}
