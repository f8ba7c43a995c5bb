#include "buildroot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "build_int.h"
#include "sha256.h"
#include "spawn.h"
#include "ticker.h"
#include "stop.h"
#include "util.h"

/* Bump when the root is made differently in a way the list does not show. */
#define BUILDROOT_VERSION "xlab-buildroot 1"
#define READY ".xlab-ready"

/* Xen's tools' build dependencies, for the configuration of wholeplan.c:
 * no QEMU, OCaml, Go or docs to build. Only libraries a dom0 image already
 * has at run time (yajl, not json-c; no lzo, no libnl), so the tools need
 * nothing installed beside them. */
const char *const buildroot_packages[] = {
	"gcc", "make", "libc6-dev", "pkgconf", "perl", "python3", "python3-dev",
	"python3-setuptools", "bison", "flex", "acpica-tools", "uuid-dev", "libyajl-dev",
	"zlib1g-dev", "libbz2-dev", "liblzma-dev", "libzstd-dev", "liblz4-dev",
	"libncurses-dev", NULL,
};

void buildroot_id(const char *suite, char out[SHA256_HEX_LEN + 1])
{
	struct buf in = { 0 };

	buf_printf(&in, "%s\nsuite=%s\n", BUILDROOT_VERSION, suite);
	for (const char *const *p = buildroot_packages; *p; p++)
		buf_printf(&in, "package=%s\n", *p);
	sha256_hex(in.data, in.len, out);
	buf_free(&in);
}

static int lock_open(const char *path, int *fd, struct xerr *e)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	return 0;
}

static int lock_wait(int fd, int how, const char *path, struct xerr *e)
{
	if (flock(fd, how | LOCK_NB) == 0)
		return 0;
	fprintf(stderr, "waiting for another build using the build root (%s)\n", path);
	if (flock(fd, how) < 0)
		return xerr_errno(e, errno == EINTR ? XERR_INTERRUPTED : XERR_IO,
				  "waiting for %s", path);
	return 0;
}

static int bootstrap(const struct buildroot *br, const char *tmp, int log_fd, struct xerr *e)
{
	_cleanup_free_ char *mirror = debian_mirror();
	struct buf inc = { 0 };
	_cleanup_free_ char *include = NULL;
	char *env[] = { "INITRD=No", NULL };

	buf_puts(&inc, "--include=");
	for (const char *const *p = buildroot_packages; *p; p++)
		buf_printf(&inc, "%s%s", p == buildroot_packages ? "" : ",", *p);
	include = buf_steal(&inc);
	char *argv[] = {
		"mmdebstrap", "--verbose", "--variant=minbase", "--mode=root", include,
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--aptopt=Acquire::Retries \"3\"",
		br->suite, (char *)tmp, mirror, NULL,
	};

	fprintf(stderr, "build root: mmdebstrap %s with the tools' build dependencies from %s "
			"(once; kept in %s)\n", br->suite, mirror, br->dir);
	if (spawn_logged(argv, env, log_fd, e) < 0) {
		_cleanup_free_ char *names = xstrdup(include + strlen("--include="));

		return xerr_prefix(e, "making the build root of Debian %s from %s with the tools' "
				      "build dependencies (%s): the mirror must serve them all",
				   br->suite, mirror, names);
	}
	return 0;
}

static char *compiler_in(const struct buildroot *br)
{
	char *prefix[] = { "unshare", "--root", br->dir, "--", NULL };

	return gcc_version(prefix);
}

/* Made once under an exclusive lock; used under a shared one. */
static int make_once(struct buildroot *br, const char *lock_path, int log_fd, struct xerr *e)
{
	_cleanup_free_ char *ready = xasprintf("%s/" READY, br->dir);
	_cleanup_free_ char *tmp = NULL, *tmp_ready = NULL;
	struct xerr ignore = { 0 };

	if (lock_wait(br->lock_fd, LOCK_EX, lock_path, e) < 0)
		return -1;
	if (path_exists(ready))
		return 0;
	tmp = xasprintf("%s.tmp-%d", br->dir, (int)getpid());
	tmp_ready = xasprintf("%s/" READY, tmp);
	/* A root without its mark is one a killed bootstrap left. */
	if (remove_tree(br->dir, e) < 0)
		return -1;
	if (bootstrap(br, tmp, log_fd, e) < 0 ||
	    file_write_atomic(tmp_ready, "", 0, 0644, e) < 0) {
		remove_tree(tmp, &ignore);
		return -1;
	}
	if (rename(tmp, br->dir) < 0) {
		xerr_errno(e, XERR_IO, "cannot put the build root in place at %s", br->dir);
		remove_tree(tmp, &ignore);
		return -1;
	}
	return 0;
}

int buildroot_get(const char *cache, const char *suite, int log_fd, struct buildroot *br,
		  struct xerr *e)
{
	_cleanup_free_ char *lock_path = NULL;

	br->lock_fd = -1;
	br->suite = xstrdup(suite);
	buildroot_id(suite, br->hash);
	br->dir = xasprintf("%s/root-%s-%.16s", cache, suite, br->hash);
	lock_path = xasprintf("%s/.root-%s-%.16s.lock", cache, suite, br->hash);
	if (mkdir_p(cache, 0755, e) < 0 || lock_open(lock_path, &br->lock_fd, e) < 0 ||
	    make_once(br, lock_path, log_fd, e) < 0)
		return -1;
	/* Down to shared: other builds may use it beside this one. */
	if (flock(br->lock_fd, LOCK_SH) < 0)
		return xerr_errno(e, XERR_IO, "cannot lock %s", lock_path);
	br->compiler = compiler_in(br);
	return 0;
}

/* unshare(1) around argv: the root's own mount and pid namespaces and
 * /proc, a clean environment (the controller's PATH, locale or MAKEFLAGS
 * are not the root's). Allocated array; its strings are borrowed but for
 * the two it frees with it (root_argv_free). */
static char **root_argv(const char *dir, const char *cwd, char *const argv[], char *const env[])
{
	static char *const base_env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
		"PYTHON=python3", "INITRD=No",
	};
	size_t n_env = strv_len(env), n_argv = strv_len(argv), k = 0;
	char **full = xcalloc(16 + ARRAY_SIZE(base_env) + n_env + n_argv, sizeof(char *));

	full[k++] = xasprintf("--root=%s", dir);
	full[k++] = xasprintf("--wd=%s", cwd);
	full[k++] = "unshare";
	full[k++] = "--mount";
	full[k++] = "--propagation=private";
	full[k++] = "--pid";
	full[k++] = "--fork";
	full[k++] = "--kill-child";
	full[k++] = "--mount-proc";
	full[k++] = full[0];
	full[k++] = full[1];
	full[k++] = "--";
	full[k++] = "/usr/bin/env";
	full[k++] = "-i";
	for (size_t i = 0; i < ARRAY_SIZE(base_env); i++)
		full[k++] = base_env[i];
	for (size_t i = 0; i < n_env; i++)
		full[k++] = env[i];
	for (size_t i = 0; i < n_argv; i++)
		full[k++] = argv[i];
	full[k] = NULL;
	return full;
}

static void root_argv_free(char **full)
{
	free(full[0]);
	free(full[1]);
	free(full);
}

int root_run(const char *dir, const char *cwd, char *const argv[], char *const env[],
	     int log_fd, struct xerr *e)
{
	char **full = root_argv(dir, cwd, argv, env);
	size_t n_argv = strv_len(argv);
	int rc;

	if (log_fd > 0) {
		dprintf(log_fd, "=== in %s:%s:", dir, cwd);
		for (size_t i = 0; i < n_argv; i++)
			dprintf(log_fd, " %s", argv[i]);
		dprintf(log_fd, "\n");
	}
	rc = spawn_logged(full + 2, NULL, log_fd, e);
	root_argv_free(full);
	if (rc == 0 || e->kind == XERR_INTERRUPTED)
		return rc;
	/* The cause stays in e: prefixed, never formatted into itself. */
	return xerr_prefix(e, "`%s%s%s` failed in %s", argv[0], n_argv > 1 ? " " : "",
			   n_argv > 1 ? argv[1] : "", dir);
}

int root_capture(const char *dir, char *const argv[], char **out, struct xerr *e)
{
	char **full = root_argv(dir, "/", argv, NULL);
	struct spawn_opts so = { .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r = { 0 };
	int rc = spawn_run(full + 2, &so, &r, e);

	root_argv_free(full);
	if (rc < 0)
		return -1;
	*out = xasprintf("%s%s", r.out ? r.out : "", r.err ? r.err : "");
	rc = r.status;
	spawn_result_free(&r);
	return rc;
}

int buildroot_run(const struct buildroot *br, const char *cwd, char *const argv[],
		  char *const env[], int log_fd, struct xerr *e)
{
	return root_run(br->dir, cwd, argv, env, log_fd, e);
}

void buildroot_release(struct buildroot *br)
{
	if (br->lock_fd >= 0)
		close(br->lock_fd);
	br->lock_fd = -1;
	free(br->dir);
	free(br->suite);
	free(br->compiler);
	br->dir = br->suite = br->compiler = NULL;
}
