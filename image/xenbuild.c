#include "xenbuild.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hvinfo.h"
#include "image.h"
#include "sha256.h"
#include "spawn.h"
#include "stop.h"
#include "ticker.h"
#include "util.h"

/* Bump when the steps below change in a way the key's inputs do not show. */
#define XENBUILD_VERSION "xlab-xen-build 1"
#define CACHE_DIR ".xen-builds"

/* ---- Kconfig settings ---- */

static bool symbol_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

int kconfig_line(const char *setting, char *out, size_t n, struct xerr *e)
{
	const char *eq = strchr(setting, '='), *key = setting, *val;
	size_t klen;

	if (!strncmp(key, "CONFIG_", 7))
		key += 7;
	if (!eq || eq < key || !symbol_ok(key, (size_t)(eq - key)))
		return xerr_set(e, XERR_USAGE,
				"--kconfig takes KEY=VALUE (e.g. SHADOW_PAGING=y), not '%s'", setting);
	klen = (size_t)(eq - key);
	val = eq + 1;
	if (!*val || strpbrk(val, "\n\r"))
		return xerr_set(e, XERR_USAGE, "--kconfig %s: the value must be one line, not empty",
				setting);
	if (!strcmp(val, "n"))
		snprintf(out, n, "# CONFIG_%.*s is not set", (int)klen, key);
	else
		snprintf(out, n, "CONFIG_%.*s=%s", (int)klen, key, val);
	return 0;
}

/* "CONFIG_KEY" of a setting's line ("# CONFIG_KEY is not set" too). */
static size_t line_symbol(const char *line, const char **sym)
{
	const char *p = line;
	size_t n = 0;

	if (!strncmp(p, "# ", 2))
		p += 2;
	if (strncmp(p, "CONFIG_", 7) != 0)
		return 0;
	while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_'))
		n++;
	*sym = p;
	return n;
}

static bool line_is_symbol(const char *line, const char *want, size_t wlen)
{
	const char *sym;
	size_t n = line_symbol(line, &sym);

	return n == wlen && !strncmp(sym, want, n);
}

char *kconfig_apply(const char *config, const char *const *settings)
{
	struct buf out = { 0 };
	char lines[64][256];
	size_t ns = 0;

	for (; settings && settings[ns] && ns < 64; ns++) {
		struct xerr ignore = { 0 };

		if (kconfig_line(settings[ns], lines[ns], sizeof(lines[ns]), &ignore) < 0)
			lines[ns][0] = '\0';
	}
	for (const char *l = config; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		bool drop = false;

		for (size_t i = 0; i < ns && !drop; i++) {
			const char *sym;
			size_t n = line_symbol(lines[i], &sym);

			drop = n && line_is_symbol(l, sym, n);
		}
		if (!drop) {
			buf_append(&out, l, len);
			buf_puts(&out, "\n");
		}
		l = end ? end + 1 : l + len;
	}
	for (size_t i = 0; i < ns; i++)
		if (lines[i][0])
			buf_printf(&out, "%s\n", lines[i]);
	return out.data ? buf_steal(&out) : xstrdup("");
}

static bool config_has_line(const char *config, const char *line)
{
	size_t n = strlen(line);

	for (const char *l = config; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, line, n) && (l[n] == '\n' || l[n] == '\0'))
			return true;
	return false;
}

const char *kconfig_unmet(const char *config, const char *const *settings)
{
	for (size_t i = 0; settings && settings[i]; i++) {
		char line[256];
		struct xerr ignore = { 0 };
		const char *sym;
		size_t n;
		bool off, seen = false;

		if (kconfig_line(settings[i], line, sizeof(line), &ignore) < 0)
			return settings[i];
		if (config_has_line(config, line))
			continue;
		/* An `n` may also be no line at all: the symbol is not offered. */
		off = line[0] == '#';
		n = line_symbol(line, &sym);
		for (const char *l = config; off && l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			seen = seen || line_is_symbol(l, sym, n);
		if (!off || seen)
			return settings[i];
	}
	return NULL;
}

int xen_makefile_version(const char *text, char *out, size_t n, struct xerr *e)
{
	long major = -1, minor = -1;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		long v;

		if (sscanf(l, "export XEN_VERSION = %ld", &v) == 1)
			major = v;
		else if (sscanf(l, "export XEN_SUBVERSION = %ld", &v) == 1)
			minor = v;
	}
	if (major < 0 || minor < 0)
		return xerr_set(e, XERR_USAGE, "xen/Makefile says no XEN_VERSION and XEN_SUBVERSION");
	snprintf(out, n, "%ld.%ld", major, minor);
	return 0;
}

/* ---- the build ---- */

struct xb {
	const struct xenbuild_opts *o;
	char *source; /* o->source, resolved: a link to a tree walks the tree */
	char *cache;  /* store/.xen-builds */
	char key[SHA256_HEX_LEN + 1];
	char *final;  /* cache/KEY */
	char *tmp;    /* cache/.KEY.tmp-PID */
	char *root;   /* the source tree being built, inside tmp */
	char *log;    /* cache/KEY.log while it builds */
	int log_fd;
	bool copied; /* the source was a directory */
	int64_t t0;
};

static void say(const struct xb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct xb *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6.1fs] xen: ", (double)(now_ms() - b->t0) / 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A tree's digest from what each file is (path, size, mtime): cheap enough
 * for every run, and any edit changes it. */
static struct buf *walk_acc;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	char target[4096];
	ssize_t n;

	(void)f;
	if (flag == FTW_F)
		buf_printf(walk_acc, "%s %o %lld %lld.%09ld\n", path, (unsigned)st->st_mode,
			   (long long)st->st_size, (long long)st->st_mtim.tv_sec,
			   st->st_mtim.tv_nsec);
	else if (flag == FTW_SL && (n = readlink(path, target, sizeof(target) - 1)) >= 0)
		buf_printf(walk_acc, "%s -> %.*s\n", path, (int)n, target);
	return 0;
}

int xen_source_digest(const char *src, char out[SHA256_HEX_LEN + 1], struct xerr *e)
{
	struct stat st;
	struct buf acc = { 0 };
	_cleanup_free_ char *mk = xasprintf("%s/xen/Makefile", src);

	/* Given through a link, the walk must still see the tree's files. */
	if (stat(src, &st) < 0)
		return xerr_errno(e, XERR_USAGE, "--xen-source %s", src);
	if (S_ISREG(st.st_mode))
		return sha256_file_hex(src, out, e);
	if (!S_ISDIR(st.st_mode) || !path_exists(mk))
		return xerr_set(e, XERR_USAGE,
				"--xen-source %s is neither a xen.git tree (no xen/Makefile) nor a "
				"tarball of one", src);
	walk_acc = &acc;
	nftw(src, walk_one, 32, FTW_PHYS);
	walk_acc = NULL;
	sha256_hex(acc.data ? acc.data : "", acc.len, out);
	buf_free(&acc);
	return 0;
}


static int sort_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int key_make(struct xb *b, struct xerr *e)
{
	char digest[SHA256_HEX_LEN + 1];
	_cleanup_free_ char *cc = gcc_version(NULL);
	size_t n = strv_len((char **)b->o->kconfig);
	_cleanup_free_ const char **sorted = xcalloc(n + 1, sizeof(char *));
	struct buf in = { 0 };

	if (xen_source_digest(b->source, digest, e) < 0)
		return -1;
	memcpy(sorted, b->o->kconfig, n * sizeof(char *));
	qsort(sorted, n, sizeof(char *), sort_cmp);
	buf_printf(&in, "%s\n%s\n%s\n", XENBUILD_VERSION, digest, cc);
	for (size_t i = 0; i < n; i++)
		buf_printf(&in, "%s\n", sorted[i]);
	sha256_hex(in.data, in.len, b->key);
	buf_free(&in);
	return 0;
}

static int run(struct xb *b, char *const argv[], struct xerr *e)
{
	static char *const env[] = { "PYTHON=python3", NULL };

	if (spawn_logged(argv, env, b->log_fd, e) == 0)
		return 0;
	if (e->kind != XERR_INTERRUPTED) {
		_cleanup_free_ char *how = xstrdup(e->msg);

		xerr_set(e, e->kind, "%s; the log says why: %s", how, b->log);
	}
	return -1;
}

/* The tree to build: the source itself copied, or the tarball unpacked;
 * the user's tree is never written to. */
static int source_place(struct xb *b, struct xerr *e)
{
	_cleanup_free_ char *src = xasprintf("%s/src", b->tmp);
	_cleanup_free_ char *mk = xasprintf("%s/xen/Makefile", src);
	struct stat st;

	if (mkdir_p(src, 0755, e) < 0)
		return -1;
	if (stat(b->source, &st) < 0)
		return xerr_errno(e, XERR_USAGE, "--xen-source %s", b->o->source);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *from = xasprintf("%s/.", b->source);
		char *cp[] = { "cp", "-a", "--reflink=auto", from, src, NULL };

		if (run(b, cp, e) < 0)
			return -1;
		b->copied = true;
	} else {
		char *tar[] = { "tar", "-xf", b->source, "-C", src, "--no-same-owner",
				"--no-same-permissions", NULL };

		if (run(b, tar, e) < 0)
			return xerr_prefix(e, "unpacking %s", b->o->source);
	}
	if (path_exists(mk)) {
		b->root = steal_ptr(src);
		return 0;
	}
	{
		/* A git archive or release tarball has one top directory. */
		DIR *d = opendir(src);
		struct dirent *de;
		char *top = NULL;
		int entries = 0;

		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && entries++ == 0)
				top = xasprintf("%s/%s", src, de->d_name);
		if (d)
			closedir(d);
		if (entries == 1) {
			_cleanup_free_ char *m2 = xasprintf("%s/xen/Makefile", top);

			if (path_exists(m2)) {
				b->root = top;
				return 0;
			}
		}
		free(top);
	}
	return xerr_set(e, XERR_USAGE, "%s holds no xen.git tree (no xen/Makefile at its top)",
			b->o->source);
}

static int version_check(struct xb *b, struct xerr *e)
{
	_cleanup_free_ char *mk = xasprintf("%s/xen/Makefile", b->root), *text = NULL;
	char v[32];
	size_t len;

	if (file_read_all(mk, 1 << 20, &text, &len, e) < 0 ||
	    xen_makefile_version(text, v, sizeof(v), e) < 0)
		return -1;
	say(b, "source of Xen %s", v);
	if (!b->o->tools_version || hv_version_fits(b->o->tools_version, v) || b->o->force)
		return 0;
	return xerr_set(e, XERR_USAGE,
			"%s is Xen %s, but the base's dom0 tools are Xen %s: tools and hypervisor "
			"must share major.minor; --force builds it anyway",
			b->o->source, v, b->o->tools_version);
}

static int configure(struct xb *b, struct xerr *e)
{
	_cleanup_free_ char *xen = xasprintf("%s/xen", b->root);
	_cleanup_free_ char *cfg = xasprintf("%s/.config", xen);
	_cleanup_free_ char *text = NULL, *changed = NULL;
	char *distclean[] = { "make", "-C", xen, "distclean", NULL };
	char *defconfig[] = { "make", "-C", xen, "defconfig", NULL };
	char *olddef[] = { "make", "-C", xen, "olddefconfig", NULL };
	const char *unmet;
	size_t len;

	say(b, "configuring (defconfig%s)", b->o->kconfig && *b->o->kconfig ? " + --kconfig" : "");
	/* A tree copied from a user's checkout may hold their last build. */
	if ((b->copied && run(b, distclean, e) < 0) || run(b, defconfig, e) < 0 ||
	    file_read_all(cfg, 4 << 20, &text, &len, e) < 0)
		return -1;
	changed = kconfig_apply(text, b->o->kconfig);
	if (file_write_atomic(cfg, changed, strlen(changed), 0644, e) < 0 || run(b, olddef, e) < 0)
		return -1;
	free(text);
	text = NULL;
	if (file_read_all(cfg, 4 << 20, &text, &len, e) < 0)
		return -1;
	unmet = kconfig_unmet(text, b->o->kconfig);
	if (unmet)
		return xerr_set(e, XERR_USAGE,
				"--kconfig %s did not hold: Kconfig dropped it (a symbol it depends "
				"on is off, or it does not exist in this Xen); see %s/.config",
				unmet, xen);
	return 0;
}

/* A build of minutes says it is alive. */
static void alive(void *arg)
{
	const struct xb *b = arg;

	say(b, "compiling... (log: %s)", b->log);
}

static int compile(struct xb *b, struct xerr *e)
{
	_cleanup_free_ char *xen = xasprintf("%s/xen", b->root);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	_cleanup_free_ char *jobs = xasprintf("-j%ld", cpus > 0 ? cpus : 1);
	char *make[] = { "make", "-C", xen, jobs, NULL };
	struct ticker t;
	int64_t t0 = now_ms();
	int rc;

	say(b, "compiling the hypervisor with %ld job(s)", cpus > 0 ? cpus : 1);
	ticker_start(&t, 30, alive, b);
	rc = run(b, make, e);
	ticker_stop(&t);
	if (rc == 0)
		say(b, "compiled in %.0f s", (double)(now_ms() - t0) / 1000.0);
	return rc;
}

/* What a derived image needs, laid out as a build tree's xen/ is. */
static int results_keep(struct xb *b, struct xerr *e)
{
	_cleanup_free_ char *out = xasprintf("%s/out", b->tmp);
	_cleanup_free_ char *inc = xasprintf("%s/include/xen", out);
	static const char *const files[][2] = {
		{ "xen/xen.gz", "xen.gz" },
		{ "xen/.config", ".config" },
		{ "xen/include/xen/compile.h", "include/xen/compile.h" },
	};

	if (mkdir_p(inc, 0755, e) < 0)
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
	{
		_cleanup_free_ char *log_to = xasprintf("%s/build.log", out);

		if (rename(b->log, log_to) < 0)
			return xerr_errno(e, XERR_IO, "keeping the build log");
		free(b->log);
		b->log = steal_ptr(log_to);
	}
	if (rename(out, b->final) < 0)
		return xerr_errno(e, XERR_IO, "putting the build in place at %s", b->final);
	return 0;
}

static int lock_take(const struct xb *b, int *fd, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/.%s.lock", b->cache, b->key);

	return build_lock_take(p, "the same hypervisor", fd, e);
}

int xenbuild(const struct xenbuild_opts *o, char **xen_gz, struct xerr *e)
{
	struct xb b = { .o = o, .log_fd = -1, .t0 = now_ms() };
	_cleanup_free_ char *store = NULL, *done = NULL;
	_cleanup_close_ int lock_fd = -1;
	int rc = -1;

	for (size_t i = 0; o->kconfig && o->kconfig[i]; i++) {
		char line[256];

		if (kconfig_line(o->kconfig[i], line, sizeof(line), e) < 0)
			return -1;
	}
	if (strv_len((char **)o->kconfig) > 64)
		return xerr_set(e, XERR_USAGE, "at most 64 --kconfig settings");
	b.source = realpath(o->source, NULL);
	if (!b.source)
		return xerr_errno(e, XERR_USAGE, "--xen-source %s", o->source);
	if (image_store_dir(&store, e) < 0 || key_make(&b, e) < 0)
		goto out;
	b.cache = xasprintf("%s/%s", store, CACHE_DIR);
	b.final = xasprintf("%s/%s", b.cache, b.key);
	done = xasprintf("%s/xen.gz", b.final);
	if (mkdir_p(b.cache, 0755, e) < 0 || lock_take(&b, &lock_fd, e) < 0)
		goto out;
	if (path_exists(done)) {
		say(&b, "built before from %s (cache %.12s)", o->source, b.key);
		*xen_gz = steal_ptr(done);
		rc = 0;
		goto out;
	}
	b.tmp = xasprintf("%s/.%s.tmp-%d", b.cache, b.key, (int)getpid());
	b.log = xasprintf("%s/%s.log", b.cache, b.key);
	b.log_fd = open(b.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (b.log_fd < 0) {
		xerr_errno(e, XERR_IO, "cannot create %s", b.log);
		goto out;
	}
	say(&b, "building from %s (log: %s)", o->source, b.log);
	if (geteuid() == 0)
		say(&b, "its Makefiles run as root, as any build here: build only sources you "
			"trust");
	if (source_place(&b, e) < 0 || version_check(&b, e) < 0 || configure(&b, e) < 0 ||
	    compile(&b, e) < 0 || results_keep(&b, e) < 0) {
		xerr_prefix(e, "building Xen from %s", o->source);
		goto out;
	}
	say(&b, "built in %.0f s: %s", (double)(now_ms() - b.t0) / 1000.0, b.final);
	*xen_gz = steal_ptr(done);
	rc = 0;
out:
	if (b.tmp) {
		struct xerr ignore = { 0 };

		rm_rf(b.tmp, &ignore);
	}
	if (b.log_fd >= 0)
		close(b.log_fd);
	free(b.source);
	free(b.cache);
	free(b.final);
	free(b.tmp);
	free(b.root);
	free(b.log);
	return rc;
}
