/* `xlab image build NAME`: a dom0 image made from Debian with mmdebstrap,
 * customised (xlab-init, small initrds, the guest kit) and packed as an ext4
 * qcow2 without loop mounts. Everything happens in images/.NAME.tmp-PID,
 * renamed into place at the end, so the store never holds half an image. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layout.h"
#include "paths.h"
#include "sha256.h"
#include "spawn.h"
#include "stop.h"
#include "util.h"
#include "version.h"

/* Bump when the build steps change in a way the inputs below do not show. */
#define RECIPE_VERSION "xlab-image-recipe 2"
#define ROOT_FS_SIZE "4G"

/* No systemd: /sbin/xlab-init is PID 1. qemu-system-xen is the device
 * model libxl starts for a guest's framebuffer (`vnc: true`). */
static const char *const dom0_packages[] = {
	"xen-system-amd64", "linux-image-amd64", "lvm2", "openssh-server", "iproute2",
	"busybox-static", "e2fsprogs", "kmod", "tar", "procps", "iputils-ping",
	"qemu-system-xen",
};

/* `rootfs: debian` guests: what a lab needs (an address, an SSH server) and
 * no init system; guest-init.sh is their /sbin/init. The dom0's kernel and
 * the guest initrd boot them, so they carry no kernel either. */
static const char *const guest_debian_packages[] = { "openssh-server", "iproute2" };

/* Dependencies (virtio_ring, failover, jbd2, ...) come from modules.dep;
 * ext4 finds crc32c through the crypto API, hence the explicit entry. */
static const char *const dom0_initrd_modules[] = {
	"virtio_pci", "virtio_blk", "virtio_net", "crc32c_generic", "ext4",
};
static const char *const guest_initrd_modules[] = {
	"xen-blkfront", "xen-netfront", "crc32c_generic", "ext4",
};

/* images/ in the source tree: these go into every image and its recipe hash. */
static const char *const scripts[] = {
	"dom0-init.sh", "dom0-initrd-init.sh", "guest-initrd-init.sh", "guest-init.sh",
};

struct build {
	const struct image_recipe *r;
	bool force;
	char *store;      /* xlab_home()/images */
	char *final_dir;  /* store/NAME */
	char *tmp_dir;    /* store/.NAME.tmp-PID */
	char *tree;       /* tmp_dir/tree: the root filesystem being made */
	char *log_path;   /* store/NAME.build.log */
	int log_fd;
	char *scripts_dir;
	char *script_text[ARRAY_SIZE(scripts)];
	char recipe_hash[SHA256_HEX_LEN + 1];
	char *kver;
	char *busybox;    /* path of busybox-static inside the tree */
	char **applets;   /* NULL-terminated */
	int64_t t0, phase_t0;
	const char *phase;
};


static void progress(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct build *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%6.1fs] %s: ", (double)(now_ms() - b->t0) / 1000.0, b->r->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void phase_begin(struct build *b, const char *phase, const char *what)
{
	b->phase = phase;
	b->phase_t0 = now_ms();
	progress(b, "%s: %s", phase, what);
	if (b->log_fd > 0)
		dprintf(b->log_fd, "=== %s: %s\n", phase, what);
}

static int phase_end(struct build *b, struct xerr *e)
{
	if (stop_requested())
		return xerr_set(e, XERR_INTERRUPTED, "interrupted (signal %d)", stop_signal());
	progress(b, "%s done in %.1f s", b->phase, (double)(now_ms() - b->phase_t0) / 1000.0);
	return 0;
}

/* Output goes to the build log as it comes, so a long mmdebstrap can be
 * followed with tail -f. */
static int run_logged(struct build *b, char *const argv[], char *const env[], struct xerr *e)
{
	struct spawn_opts o = { .log_fd = b->log_fd, .env_add = env };
	struct spawn_result r;
	int status;

	if (spawn_run(argv, &o, &r, e) < 0)
		return -1;
	status = r.status;
	spawn_result_free(&r);
	if (status == 0)
		return 0;
	if (stop_requested())
		return xerr_set(e, XERR_INTERRUPTED, "interrupted (signal %d)", stop_signal());
	if (status > 128)
		return xerr_set(e, XERR_FAIL, "%s killed by signal %d", argv[0], status - 128);
	return xerr_set(e, XERR_FAIL, "%s exited with status %d", argv[0], status);
}

/* ---- mounts: never rm -rf through a mount mmdebstrap left behind ---- */

static char *mountinfo_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static int detach_mounts_under(const char *dir, struct xerr *e)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_strv_ char **found = NULL;
	size_t cap = 0, n = 0, lcap = 0;
	size_t dlen = strlen(dir);

	if (!f)
		return xerr_errno(e, XERR_IO, "cannot read /proc/self/mountinfo");
	while (getline(&line, &lcap, f) > 0) {
		char mnt[4096];
		char *p;

		/* id parent major:minor root MOUNTPOINT ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		p = mountinfo_unescape(mnt);
		if (strncmp(p, dir, dlen) == 0 && p[dlen] == '/') {
			xgrow((void **)&found, &cap, n + 1, sizeof(char *));
			found[n++] = p;
			found[n] = NULL;
		} else {
			free(p);
		}
	}
	/* Deepest first: later lines in mountinfo are mounted on top. */
	for (size_t i = n; i-- > 0;)
		if (umount2(found[i], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			return xerr_errno(e, XERR_IO, "cannot unmount %s", found[i]);
	return 0;
}

static int remove_tree(const char *dir, struct xerr *e)
{
	if (detach_mounts_under(dir, e) < 0)
		return xerr_prefix(e, "refusing to remove %s", dir);
	return rm_rf(dir, e);
}

/* Temporary directories of builds that were killed outright (SIGKILL, power
 * loss) would stay forever: remove those whose process is gone. */
static void remove_stale_tmp(struct build *b)
{
	_cleanup_free_ char *pattern = xasprintf("%s/.%s.tmp-*", b->store, b->r->name);
	glob_t g = { 0 };

	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *dash = strrchr(g.gl_pathv[i], '-');
		long pid = dash ? strtol(dash + 1, NULL, 10) : 0;
		struct xerr ignore = { 0 };

		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		progress(b, "removing %s left by an interrupted build", g.gl_pathv[i]);
		remove_tree(g.gl_pathv[i], &ignore);
	}
	globfree(&g);
}

/* ---- inputs: scripts, mirror, recipe hash ---- */

static int scripts_load(struct build *b, struct xerr *e)
{
	b->scripts_dir = xstrdup(layout_get()->images);
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", b->scripts_dir, scripts[i]);
		size_t len;

		if (file_read_all(p, 1 << 20, &b->script_text[i], &len, e) < 0)
			return xerr_prefix(e, "image scripts (`xlab version --paths` shows where "
					      "xlab looks; $XLAB_IMAGES_SRC overrides)");
	}
	return 0;
}

static void recipe_hash(struct build *b)
{
	struct buf in = { 0 };

	buf_printf(&in, "%s\nname=%s\nsuite=%s\nsize=%s\n", RECIPE_VERSION, b->r->name,
		   b->r->suite, ROOT_FS_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(dom0_packages); i++)
		buf_printf(&in, "package=%s\n", dom0_packages[i]);
	for (size_t i = 0; i < ARRAY_SIZE(dom0_initrd_modules); i++)
		buf_printf(&in, "dom0-module=%s\n", dom0_initrd_modules[i]);
	for (size_t i = 0; i < ARRAY_SIZE(guest_initrd_modules); i++)
		buf_printf(&in, "guest-module=%s\n", guest_initrd_modules[i]);
	for (size_t i = 0; i < ARRAY_SIZE(guest_debian_packages); i++)
		buf_printf(&in, "guest-package=%s\n", guest_debian_packages[i]);
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		buf_printf(&in, "script=%s %zu\n%s", scripts[i], strlen(b->script_text[i]),
			   b->script_text[i]);
	sha256_hex(in.data, in.len, b->recipe_hash);
	buf_free(&in);
}

/* First URI of a non-security stanza (deb822) or `deb` line: other sources on
 * the machine may be unreachable and would make mmdebstrap fail. */
static char *mirror_from(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL, *uri = NULL;
	size_t cap = 0;
	bool security = false, deb = false;

	if (!f)
		return NULL;
	for (;;) {
		ssize_t n = getline(&line, &cap, f);
		char *s = line;

		if (n < 0 || (n > 0 && strspn(line, " \t\r\n") == (size_t)n)) {
			if (uri && deb && !security)
				return steal_ptr(uri);
			free(steal_ptr(uri));
			security = deb = false;
			if (n < 0)
				return NULL;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(s, "URIs:", 5) == 0) {
			s += 5 + strspn(s + 5, " \t");
			free(uri);
			uri = xstrndup(s, strcspn(s, " \t"));
		} else if (strncmp(s, "Types:", 6) == 0) {
			deb = false;
			for (char *save = NULL, *t = strtok_r(s + 6, " \t", &save); t;
			     t = strtok_r(NULL, " \t", &save))
				deb = deb || strcmp(t, "deb") == 0;
		} else if (strncmp(s, "Suites:", 7) == 0) {
			security = strstr(s, "-security") != NULL;
		} else if (strncmp(s, "deb ", 4) == 0 && !strstr(s, "security")) {
			s += 4 + strspn(s + 4, " \t");
			if (*s == '[')
				s = strchr(s, ']') ? strchr(s, ']') + 1 : s;
			s += strspn(s, " \t");
			return xstrndup(s, strcspn(s, " \t"));
		}
	}
}

static char *debian_mirror(void)
{
	const char *env = getenv("XLAB_DEBIAN_MIRROR");
	char *m;

	if (env && *env)
		return xstrdup(env);
	m = mirror_from("/etc/apt/sources.list.d/debian.sources");
	if (!m)
		m = mirror_from("/etc/apt/sources.list");
	return m ? m : xstrdup("http://deb.debian.org/debian");
}

/* ---- phase 1: mmdebstrap ---- */

/* A minbase Debian of the recipe's suite with packages, into dir. */
static int mmdebstrap_run(struct build *b, const char *const *packages, size_t n,
			  const char *dir, const char *mirror, struct xerr *e)
{
	struct buf inc = { 0 };
	_cleanup_free_ char *include = NULL;
	/* The kernel's postinst would build Debian's 40 MB initramfs: xlab
	 * makes its own small one. */
	char *env[] = { "INITRD=No", NULL };

	buf_puts(&inc, "--include=");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(&inc, ",");
		buf_puts(&inc, packages[i]);
	}
	include = buf_steal(&inc);
	char *argv[] = {
		"mmdebstrap", "--verbose", "--variant=minbase", "--mode=root", include,
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-include=/usr/share/doc/*/copyright",
		"--aptopt=Acquire::Retries \"3\"",
		(char *)b->r->suite, (char *)dir, (char *)mirror, NULL,
	};

	if (run_logged(b, argv, env, e) < 0)
		return xerr_prefix(e, "bootstrapping Debian %s (see %s)", b->r->suite, b->log_path);
	return 0;
}

static int bootstrap(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *mirror = debian_mirror();
	_cleanup_free_ char *what = NULL;

	what = xasprintf("mmdebstrap %s from %s (log: %s)", b->r->suite, mirror, b->log_path);
	phase_begin(b, "bootstrap", what);
	if (mmdebstrap_run(b, dom0_packages, ARRAY_SIZE(dom0_packages), b->tree, mirror, e) < 0)
		return -1;
	return phase_end(b, e);
}

/* ---- helpers on the tree ---- */

static char *tree_path(const struct build *b, const char *rel)
{
	return xasprintf("%s/%s", b->tree, rel);
}

static int copy_file(const char *from, const char *to, int mode, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (file_read_all(from, 0, &data, &len, e) < 0)
		return -1;
	return file_write_atomic(to, data, len, mode, e);
}

static int root_write(const char *root, const char *rel, const char *data, int mode,
		      struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	_cleanup_free_ char *dir = xstrdup(p);

	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	return file_write_atomic(p, data, strlen(data), mode, e);
}

static int tree_write(const struct build *b, const char *rel, const char *data, int mode,
		      struct xerr *e)
{
	return root_write(b->tree, rel, data, mode, e);
}

/* One match of a glob inside the tree (e.g. boot/xen-*-amd64.gz). */
static int tree_glob_one(const struct build *b, const char *pattern, char **out, struct xerr *e)
{
	_cleanup_free_ char *pat = tree_path(b, pattern);
	glob_t g = { 0 };
	int rc;

	rc = glob(pat, 0, NULL, &g);
	if (rc != 0 || g.gl_pathc != 1) {
		xerr_set(e, XERR_FAIL, "expected one %s in the image tree, found %zu", pattern,
			 rc == 0 ? g.gl_pathc : 0);
		globfree(&g);
		return -1;
	}
	*out = xstrdup(g.gl_pathv[0]);
	globfree(&g);
	return 0;
}

static int find_kernel(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *vmlinuz = NULL;
	const char *base;

	if (tree_glob_one(b, "boot/vmlinuz-*", &vmlinuz, e) < 0)
		return -1;
	base = strrchr(vmlinuz, '/') + 1;
	b->kver = xstrdup(base + strlen("vmlinuz-"));
	return 0;
}

static int find_busybox(struct build *b, struct xerr *e)
{
	static const char *const where[] = { "usr/bin/busybox", "bin/busybox" };
	struct spawn_result r;

	for (size_t i = 0; i < ARRAY_SIZE(where) && !b->busybox; i++) {
		_cleanup_free_ char *p = tree_path(b, where[i]);
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			b->busybox = steal_ptr(p);
	}
	if (!b->busybox)
		return xerr_set(e, XERR_FAIL, "busybox-static is missing from the image tree");
	/* Static, amd64 like this machine: it can list its own applets. */
	{
		char *argv[] = { b->busybox, "--list", NULL };
		struct spawn_opts o = { .capture_stdout = true };
		size_t n = 0, cap = 0;

		if (spawn_check(argv, &o, &r, e) < 0)
			return xerr_prefix(e, "listing busybox applets");
		for (char *save = NULL, *t = strtok_r(r.out, "\n", &save); t;
		     t = strtok_r(NULL, "\n", &save)) {
			if (!*t || strchr(t, '/') || strcmp(t, "busybox") == 0)
				continue;
			xgrow((void **)&b->applets, &cap, n + 1, sizeof(char *));
			b->applets[n++] = xstrdup(t);
			b->applets[n] = NULL;
		}
		spawn_result_free(&r);
	}
	if (!b->applets)
		return xerr_set(e, XERR_FAIL, "busybox lists no applets");
	return 0;
}

/* ---- kernel modules: the set with its dependencies, in load order ---- */

struct modset {
	char **rel;  /* paths relative to lib/modules/KVER, load order */
	size_t n, cap;
};

static bool modname_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

/* "kernel/fs/ext4/ext4.ko.xz" -> does it name module `name`? */
static bool modpath_is(const char *rel, size_t len, const char *name)
{
	const char *slash = memrchr(rel, '/', len);
	const char *base = slash ? slash + 1 : rel;
	const char *ko = strstr(base, ".ko");
	_cleanup_free_ char *stem = NULL;

	if (!ko || ko > rel + len)
		return false;
	stem = xstrndup(base, (size_t)(ko - base));
	return modname_eq(stem, name);
}

/* The modules.dep line of a module, or NULL. */
static const char *moddep_line(const char *dep, const char *name, size_t *relen)
{
	for (const char *l = dep; l && *l;) {
		const char *colon = strchr(l, ':');
		const char *nl = strchr(l, '\n');

		if (colon && (!nl || colon < nl) && modpath_is(l, (size_t)(colon - l), name)) {
			*relen = (size_t)(colon - l);
			return l;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool modset_has(const struct modset *m, const char *rel, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->rel[i]) == len && strncmp(m->rel[i], rel, len) == 0)
			return true;
	return false;
}

static int modset_add(struct modset *m, const char *dep, const char *builtin, const char *name,
		      int depth, struct xerr *e)
{
	size_t relen;
	const char *line = moddep_line(dep, name, &relen);
	const char *p, *nl;

	if (depth > 32)
		return xerr_set(e, XERR_FAIL, "module dependencies of %s loop", name);
	if (!line) {
		/* Built into the kernel: nothing to load. */
		for (const char *l = builtin; l && *l;) {
			const char *end = strchr(l, '\n');
			size_t len = end ? (size_t)(end - l) : strlen(l);

			if (modpath_is(l, len, name))
				return 0;
			l = end ? end + 1 : NULL;
		}
		return xerr_set(e, XERR_FAIL, "kernel module %s not found in modules.dep", name);
	}
	if (modset_has(m, line, relen))
		return 0;
	/* Dependencies first, nearest last: modules.dep lists them so that
	 * loading from the end backwards works. */
	p = line + relen + 1;
	nl = strchr(p, '\n');
	{
		_cleanup_free_ char *deps = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		_cleanup_strv_ char **list = NULL;
		size_t n = 0, cap = 0;

		for (char *save = NULL, *t = strtok_r(deps, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save)) {
			xgrow((void **)&list, &cap, n + 1, sizeof(char *));
			list[n++] = xstrdup(t);
			list[n] = NULL;
		}
		for (size_t i = n; i-- > 0;) {
			const char *slash = strrchr(list[i], '/');
			const char *base = slash ? slash + 1 : list[i];
			_cleanup_free_ char *stem = xstrndup(base, strcspn(base, "."));

			if (modset_add(m, dep, builtin, stem, depth + 1, e) < 0)
				return -1;
		}
	}
	xgrow((void **)&m->rel, &m->cap, m->n + 1, sizeof(char *));
	m->rel[m->n++] = xstrndup(line, relen);
	return 0;
}

static void modset_free(struct modset *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->rel[i]);
	free(m->rel);
}

static int modset_resolve(const struct build *b, const char *const *names, size_t n,
			  struct modset *m, struct xerr *e)
{
	_cleanup_free_ char *dep_path = xasprintf("%s/lib/modules/%s/modules.dep", b->tree, b->kver);
	_cleanup_free_ char *bi_path =
		xasprintf("%s/lib/modules/%s/modules.builtin", b->tree, b->kver);
	_cleanup_free_ char *dep = NULL, *builtin = NULL;
	size_t len;
	struct xerr ignore = { 0 };

	if (file_read_all(dep_path, 0, &dep, &len, e) < 0)
		return -1;
	if (file_read_all(bi_path, 0, &builtin, &len, &ignore) < 0)
		builtin = xstrdup("");
	for (size_t i = 0; i < n; i++)
		if (modset_add(m, dep, builtin, names[i], 0, e) < 0)
			return -1;
	return 0;
}

/* A module's bytes, decompressed: busybox insmod takes plain .ko files. */
static int module_read(const struct build *b, const char *rel, char **data, size_t *len,
		       struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/lib/modules/%s/%s", b->tree, b->kver, rel);
	const char *tool = NULL;
	struct spawn_result r;

	if (strstr(rel, ".ko.xz"))
		tool = "xz";
	else if (strstr(rel, ".ko.zst"))
		tool = "zstd";
	else if (strstr(rel, ".ko.gz"))
		tool = "gzip";
	if (!tool)
		return file_read_all(p, 0, data, len, e);
	{
		char *argv[] = { (char *)tool, "-dc", p, NULL };
		struct spawn_opts o = { .capture_stdout = true };

		if (spawn_check(argv, &o, &r, e) < 0)
			return xerr_prefix(e, "decompressing %s", rel);
	}
	*data = steal_ptr(r.out);
	*len = r.out_len;
	spawn_result_free(&r);
	return 0;
}

static char *module_stem(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;

	return xstrndup(base, (size_t)(strstr(base, ".ko") - base));
}

/* ---- archives (cpio initrds, the guest tar) through libarchive ---- */

static int arc_fail(struct archive *a, const char *what, struct xerr *e)
{
	return xerr_set(e, XERR_FAIL, "%s: %s", what, archive_error_string(a));
}

static int arc_entry(struct archive *a, const char *name, int type, int perm, const char *link,
		     dev_t rdev, const void *data, size_t len, struct xerr *e)
{
	struct archive_entry *ent = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(ent, name);
	archive_entry_set_filetype(ent, (unsigned)type);
	archive_entry_set_perm(ent, (mode_t)perm);
	archive_entry_set_uid(ent, 0);
	archive_entry_set_gid(ent, 0);
	archive_entry_set_mtime(ent, 0, 0); /* same inputs, same bytes */
	archive_entry_set_size(ent, (la_int64_t)len);
	if (link)
		archive_entry_set_symlink(ent, link);
	if (rdev)
		archive_entry_set_rdev(ent, rdev);
	if (archive_write_header(a, ent) != ARCHIVE_OK ||
	    (len && archive_write_data(a, data, len) != (la_ssize_t)len))
		rc = arc_fail(a, name, e);
	archive_entry_free(ent);
	return rc;
}

static int arc_dir(struct archive *a, const char *name, struct xerr *e)
{
	return arc_entry(a, name, AE_IFDIR, 0755, NULL, 0, NULL, 0, e);
}

static int arc_file(struct archive *a, const char *name, const void *data, size_t len, int perm,
		    struct xerr *e)
{
	return arc_entry(a, name, AE_IFREG, perm, NULL, 0, data, len, e);
}

static int arc_file_from(struct archive *a, const char *name, const char *path, int perm,
			 struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (file_read_all(path, 0, &data, &len, e) < 0)
		return -1;
	return arc_file(a, name, data, len, perm, e);
}

static int arc_symlink(struct archive *a, const char *name, const char *target, struct xerr *e)
{
	return arc_entry(a, name, AE_IFLNK, 0777, target, 0, NULL, 0, e);
}

/* The skeleton every busybox tree here shares: directories, /dev/console
 * (the kernel opens it for init before anything mounts devtmpfs), busybox
 * and one symlink per applet. */
static int arc_busybox_base(const struct build *b, struct archive *a, struct xerr *e)
{
	static const char *const dirs[] = {
		"bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp",
		"etc", "root", "var", "lib", "lib/modules", "newroot", "mnt",
	};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (arc_dir(a, dirs[i], e) < 0)
			return -1;
	if (arc_entry(a, "dev/console", AE_IFCHR, 0600, NULL, makedev(5, 1), NULL, 0, e) < 0 ||
	    arc_file_from(a, "bin/busybox", b->busybox, 0755, e) < 0)
		return -1;
	for (char **ap = b->applets; *ap; ap++) {
		_cleanup_free_ char *name = xasprintf("bin/%s", *ap);

		if (strcmp(*ap, "init") == 0)
			continue;
		if (arc_symlink(a, name, "busybox", e) < 0)
			return -1;
	}
	return arc_file(a, "etc/hostname", "xlab\n", 5, 0644, e);
}

static int arc_modules(const struct build *b, struct archive *a, const char *const *names,
		       size_t n, struct xerr *e)
{
	struct modset m = { 0 };
	struct buf order = { 0 };
	int rc = -1;

	if (modset_resolve(b, names, n, &m, e) < 0)
		goto out;
	for (size_t i = 0; i < m.n; i++) {
		_cleanup_free_ char *data = NULL, *stem = module_stem(m.rel[i]), *name = NULL;
		size_t len;

		if (module_read(b, m.rel[i], &data, &len, e) < 0)
			goto out;
		name = xasprintf("lib/modules/%s.ko", stem);
		if (arc_file(a, name, data, len, 0644, e) < 0)
			goto out;
		buf_printf(&order, "%s\n", stem);
	}
	rc = arc_file(a, "lib/modules/order", order.data ? order.data : "", order.len, 0644, e);
out:
	buf_free(&order);
	modset_free(&m);
	return rc;
}

enum arc_kind { ARC_CPIO_GZ, ARC_TAR };

static struct archive *arc_open(const char *path, enum arc_kind kind, struct xerr *e)
{
	struct archive *a = archive_write_new();

	if (kind == ARC_CPIO_GZ) {
		archive_write_set_format_cpio_newc(a);
		archive_write_add_filter_gzip(a);
	} else {
		archive_write_set_format_pax_restricted(a);
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		arc_fail(a, path, e);
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static int arc_close(struct archive *a, const char *path, struct xerr *e)
{
	int rc = 0;

	if (archive_write_close(a) != ARCHIVE_OK)
		rc = arc_fail(a, path, e);
	archive_write_free(a);
	return rc;
}

static int script_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		if (strcmp(scripts[i], name) == 0)
			return (int)i;
	abort();
}

static const char *script(const struct build *b, const char *name)
{
	return b->script_text[script_index(name)];
}

/* dom0's initrd: virtio + ext4, busybox, an /init that mounts the root disk. */
static int dom0_initrd_make(const struct build *b, const char *out, struct xerr *e)
{
	struct archive *a = arc_open(out, ARC_CPIO_GZ, e);
	const char *init = script(b, "dom0-initrd-init.sh");

	if (!a)
		return -1;
	if (arc_busybox_base(b, a, e) < 0 ||
	    arc_modules(b, a, dom0_initrd_modules, ARRAY_SIZE(dom0_initrd_modules), e) < 0 ||
	    arc_file(a, "init", init, strlen(init), 0755, e) < 0) {
		archive_write_free(a);
		return xerr_prefix(e, "making dom0 initrd");
	}
	return arc_close(a, out, e);
}

/* A guest's initrd: Xen front drivers and ext4; boots /dev/xvda when it has
 * a root filesystem, else runs the built-in guest init from the initrd. */
static int guest_initrd_make(const struct build *b, const char *out, struct xerr *e)
{
	struct archive *a = arc_open(out, ARC_CPIO_GZ, e);
	const char *init = script(b, "guest-initrd-init.sh");
	const char *ginit = script(b, "guest-init.sh");

	if (!a)
		return -1;
	if (arc_busybox_base(b, a, e) < 0 ||
	    arc_modules(b, a, guest_initrd_modules, ARRAY_SIZE(guest_initrd_modules), e) < 0 ||
	    arc_file(a, "init", init, strlen(init), 0755, e) < 0 ||
	    arc_file(a, "sbin/init", ginit, strlen(ginit), 0755, e) < 0) {
		archive_write_free(a);
		return xerr_prefix(e, "making guest initrd");
	}
	return arc_close(a, out, e);
}

/* The built-in guest root filesystem (the agent unpacks it onto an LV). */
static int guest_tar_make(const struct build *b, const char *out, struct xerr *e)
{
	struct archive *a = arc_open(out, ARC_TAR, e);
	const char *ginit = script(b, "guest-init.sh");

	if (!a)
		return -1;
	if (arc_busybox_base(b, a, e) < 0 ||
	    arc_file(a, "sbin/init", ginit, strlen(ginit), 0755, e) < 0) {
		archive_write_free(a);
		return xerr_prefix(e, "making busybox.tar");
	}
	return arc_close(a, out, e);
}

/* ---- phase 2: customise the tree ---- */

/* Sets KEY = VALUE in lvm.conf where Debian ships it commented out (or set):
 * udev is not running in an xlab dom0, so LVM must not wait for it. */
static int lvm_conf_set(const struct build *b, const char *const keys[], size_t n,
			const char *value, struct xerr *e)
{
	_cleanup_free_ char *p = tree_path(b, "etc/lvm/lvm.conf");
	_cleanup_free_ char *text = NULL;
	struct buf out = { 0 };
	size_t len;
	unsigned found = 0;

	if (file_read_all(p, 0, &text, &len, e) < 0)
		return -1;
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		size_t ind = strspn(l, " \t");
		const char *s = l + ind;
		bool done = false;

		if (*s == '#')
			s += 1 + strspn(s + 1, " \t");
		for (size_t k = 0; k < n && !done; k++) {
			size_t kl = strlen(keys[k]);

			if (strncmp(s, keys[k], kl) == 0 && strspn(s + kl, " \t") < ll &&
			    s[kl + strspn(s + kl, " \t")] == '=') {
				buf_printf(&out, "%.*s%s = %s\n", (int)ind, l, keys[k], value);
				found |= 1u << k;
				done = true;
			}
		}
		if (!done) {
			buf_append(&out, l, ll);
			buf_puts(&out, "\n");
		}
		l = nl ? nl + 1 : NULL;
	}
	for (size_t k = 0; k < n; k++)
		if (!(found & (1u << k))) {
			buf_free(&out);
			return xerr_set(e, XERR_FAIL, "lvm.conf in the image has no %s setting",
					keys[k]);
		}
	len = out.len;
	{
		int rc = file_write_atomic(p, out.data, len, 0644, e);

		buf_free(&out);
		return rc;
	}
}

/* openssh-server's postinst made keys: no image may carry a secret. */
static int host_keys_drop(const char *root, struct xerr *e)
{
	_cleanup_free_ char *pattern = xasprintf("%s/etc/ssh/ssh_host_*", root);
	glob_t g = { 0 };
	int rc = 0;

	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
			if (unlink(g.gl_pathv[i]) < 0)
				rc = xerr_errno(e, XERR_IO, "cannot remove %s",
						g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

/* dom0s and Debian guests alike: one ed25519 host key, made per machine
 * (a dom0's comes on its config disk, a guest's from the agent) and pinned
 * by xlab; root by key only. */
static const char sshd_conf[] =
	"# xlab: one host key, made for this machine and pinned by xlab.\n"
	"HostKey /etc/ssh/ssh_host_ed25519_key\n"
	"PermitRootLogin prohibit-password\n"
	"PasswordAuthentication no\n"
	"KbdInteractiveAuthentication no\n"
	"UseDNS no\n";

/* Its own keys out, xlab's drop-in in. */
static int ssh_configure(const char *root, struct xerr *e)
{
	if (host_keys_drop(root, e) < 0)
		return -1;
	return root_write(root, "etc/ssh/sshd_config.d/xlab.conf", sshd_conf, 0644, e);
}

static int customize(struct build *b, struct xerr *e)
{
	static const char *const lvm_keys[] = { "udev_sync", "udev_rules",
						"obtain_device_list_from_udev" };
	_cleanup_free_ char *guest = tree_path(b, "var/lib/xlab/guest");
	_cleanup_free_ char *vmlinuz = NULL, *g_vmlinuz = NULL, *g_initrd = NULL, *g_tar = NULL;

	phase_begin(b, "customize", "xlab-init, sshd, lvm.conf, guest kit");
	if (find_kernel(b, e) < 0 || find_busybox(b, e) < 0)
		return -1;
	if (tree_write(b, "sbin/xlab-init", script(b, "dom0-init.sh"), 0755, e) < 0 ||
	    tree_write(b, "etc/hostname", "xlab\n", 0644, e) < 0 ||
	    ssh_configure(b->tree, e) < 0 ||
	    lvm_conf_set(b, lvm_keys, ARRAY_SIZE(lvm_keys), "0", e) < 0)
		return -1;
	if (mkdir_p(guest, 0755, e) < 0)
		return -1;
	vmlinuz = xasprintf("%s/boot/vmlinuz-%s", b->tree, b->kver);
	g_vmlinuz = xasprintf("%s/vmlinuz", guest);
	g_initrd = xasprintf("%s/initrd.img", guest);
	g_tar = xasprintf("%s/busybox.tar", guest);
	if (copy_file(vmlinuz, g_vmlinuz, 0644, e) < 0 || guest_initrd_make(b, g_initrd, e) < 0 ||
	    guest_tar_make(b, g_tar, e) < 0)
		return -1;
	return phase_end(b, e);
}

/* ---- phase 2b: the Debian guest root filesystem ---- */

/* var/lib/xlab/guest/debian-SUITE.tar in the dom0 tree, and debian.tar
 * naming it: built with the image so a guest costs no download. */
static int guest_debian(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *mirror = debian_mirror();
	_cleanup_free_ char *dir = xasprintf("%s/guest-debian", b->tmp_dir);
	_cleanup_free_ char *file = xasprintf("debian-%s.tar", b->r->suite);
	_cleanup_free_ char *tar = xasprintf("%s/var/lib/xlab/guest/%s", b->tree, file);
	_cleanup_free_ char *link = tree_path(b, "var/lib/xlab/guest/debian.tar");
	_cleanup_free_ char *what = xasprintf("mmdebstrap %s minbase + openssh-server, iproute2",
					      b->r->suite);
	char *pack[] = { "tar", "--numeric-owner", "-C", dir, "-cf", tar, ".", NULL };

	phase_begin(b, "guest-debian", what);
	if (mmdebstrap_run(b, guest_debian_packages, ARRAY_SIZE(guest_debian_packages), dir,
			   mirror, e) < 0)
		return -1;
	if (root_write(dir, "sbin/init", script(b, "guest-init.sh"), 0755, e) < 0 ||
	    ssh_configure(dir, e) < 0 ||
	    run_logged(b, pack, NULL, e) < 0)
		return xerr_prefix(e, "making %s", file);
	if (symlink(file, link) < 0)
		return xerr_errno(e, XERR_IO, "cannot link %s", link);
	if (remove_tree(dir, e) < 0)
		return -1;
	return phase_end(b, e);
}

/* ---- phase 3: boot files ---- */

static int boot_files(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *boot = xasprintf("%s/boot", b->tmp_dir);
	_cleanup_free_ char *xen = NULL, *vmlinuz = NULL, *to = NULL;

	phase_begin(b, "boot", "xen.gz, vmlinuz, initrd.img (virtio + ext4)");
	if (mkdir_p(boot, 0755, e) < 0 || tree_glob_one(b, "boot/xen-*-amd64.gz", &xen, e) < 0)
		return -1;
	vmlinuz = xasprintf("%s/boot/vmlinuz-%s", b->tree, b->kver);
	to = xasprintf("%s/xen.gz", boot);
	if (copy_file(xen, to, 0644, e) < 0)
		return -1;
	free(to);
	to = xasprintf("%s/vmlinuz", boot);
	if (copy_file(vmlinuz, to, 0644, e) < 0)
		return -1;
	free(to);
	to = xasprintf("%s/initrd.img", boot);
	if (dom0_initrd_make(b, to, e) < 0)
		return -1;
	return phase_end(b, e);
}

/* ---- phase 4: the manifest's facts, read from the tree before it goes ---- */

struct facts {
	char *xen_version;
	char **packages; /* "name=version", sorted by dpkg's order (by name) */
	size_t n_packages;
};

static void facts_free(struct facts *f)
{
	free(f->xen_version);
	for (size_t i = 0; i < f->n_packages; i++)
		free(f->packages[i]);
	free(f->packages);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "4.17.5+72-g01140da4e8-1" -> "4.17.5": the upstream release. */
static char *xen_upstream(const char *v)
{
	const char *colon = strchr(v, ':');
	char *s = xstrdup(colon ? colon + 1 : v);
	char *dash = strrchr(s, '-');

	if (dash)
		*dash = '\0';
	s[strcspn(s, "+~")] = '\0';
	return s;
}

static void dpkg_stanza_done(struct facts *f, size_t *cap, char **pkg, char **ver, bool installed)
{
	if (*pkg && *ver && installed) {
		xgrow((void **)&f->packages, cap, f->n_packages, sizeof(char *));
		f->packages[f->n_packages++] = xasprintf("%s=%s", *pkg, *ver);
		if (!f->xen_version && strncmp(*pkg, "xen-hypervisor-4", 16) == 0)
			f->xen_version = xen_upstream(*ver);
	}
	free(steal_ptr(*pkg));
	free(steal_ptr(*ver));
}

static int facts_read(const struct build *b, struct facts *f, struct xerr *e)
{
	_cleanup_free_ char *p = tree_path(b, "var/lib/dpkg/status");
	_cleanup_fclose_ FILE *in = fopen(p, "re");
	_cleanup_free_ char *line = NULL, *pkg = NULL, *ver = NULL;
	size_t cap = 0, lcap = 0;
	bool installed = false;
	ssize_t n;

	if (!in)
		return xerr_errno(e, XERR_IO, "cannot read %s", p);
	while ((n = getline(&line, &lcap, in)) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line) {
			dpkg_stanza_done(f, &cap, &pkg, &ver, installed);
			installed = false;
		} else if (strncmp(line, "Package: ", 9) == 0) {
			free(pkg);
			pkg = xstrdup(line + 9);
		} else if (strncmp(line, "Version: ", 9) == 0) {
			free(ver);
			ver = xstrdup(line + 9);
		} else if (strncmp(line, "Status: ", 8) == 0) {
			installed = strstr(line, " installed") != NULL &&
				    strstr(line, "not-installed") == NULL;
		}
	}
	dpkg_stanza_done(f, &cap, &pkg, &ver, installed);
	if (!f->n_packages)
		return xerr_set(e, XERR_FAIL, "no installed package in %s", p);
	if (!f->xen_version)
		return xerr_set(e, XERR_FAIL, "no xen-hypervisor package in the image");
	qsort(f->packages, f->n_packages, sizeof(char *), cmp_str);
	return 0;
}

/* ---- phase 5: ext4 root disk without a loop mount ---- */

static int root_disk(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *raw = xasprintf("%s/root.raw", b->tmp_dir);
	_cleanup_free_ char *qcow = xasprintf("%s/root.qcow2", b->tmp_dir);
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", "xlab-root", "-m", "1", "-d", b->tree,
			 raw, ROOT_FS_SIZE, NULL };
	char *conv[] = { "qemu-img", "convert", "-q", "-O", "qcow2", raw, qcow, NULL };

	phase_begin(b, "rootfs", "mkfs.ext4 -d, qemu-img convert");
	if (run_logged(b, mkfs, NULL, e) < 0 || run_logged(b, conv, NULL, e) < 0)
		return -1;
	if (unlink(raw) < 0)
		return xerr_errno(e, XERR_IO, "cannot remove %s", raw);
	if (remove_tree(b->tree, e) < 0)
		return -1;
	return phase_end(b, e);
}

static int manifest_write(struct build *b, const struct facts *f, struct xerr *e)
{
	static const char *const files[] = { "root.qcow2", "boot/xen.gz", "boot/vmlinuz",
					     "boot/initrd.img" };
	json_object *root = json_object_new_object();
	json_object *pk = json_object_new_array();
	json_object *fl = json_object_new_object();
	_cleanup_free_ char *path = xasprintf("%s/manifest.json", b->tmp_dir);
	char built[32];
	const char *text;
	int rc = -1;

	phase_begin(b, "manifest", "sha256 of every file");
	now_iso8601(built);
	json_object_object_add(root, "name", json_object_new_string(b->r->name));
	json_object_object_add(root, "xen_version", json_object_new_string(f->xen_version));
	json_object_object_add(root, "kernel_version", json_object_new_string(b->kver));
	json_object_object_add(root, "suite", json_object_new_string(b->r->suite));
	for (size_t i = 0; i < f->n_packages; i++)
		json_object_array_add(pk, json_object_new_string(f->packages[i]));
	json_object_object_add(root, "packages", pk);
	json_object_object_add(root, "built", json_object_new_string(built));
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", b->tmp_dir, files[i]);
		char hex[SHA256_HEX_LEN + 1];

		if (sha256_file_hex(p, hex, e) < 0)
			goto out;
		json_object_object_add(fl, files[i], json_object_new_string(hex));
	}
	json_object_object_add(root, "files", fl);
	fl = NULL;
	json_object_object_add(root, "recipe", json_object_new_string(b->recipe_hash));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (file_write_atomic(path, text, strlen(text), 0644, e) < 0)
		goto out;
	rc = phase_end(b, e);
out:
	json_object_put(fl);
	json_object_put(root);
	return rc;
}

/* ---- the build ---- */

static bool up_to_date(const struct build *b)
{
	_cleanup_free_ char *p = xasprintf("%s/manifest.json", b->final_dir);
	json_object *root = json_object_from_file(p), *v;
	bool same = false;

	if (root && json_object_object_get_ex(root, "recipe", &v) &&
	    json_object_is_type(v, json_type_string))
		same = strcmp(json_object_get_string(v), b->recipe_hash) == 0;
	json_object_put(root);
	return same;
}

static int install(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *old = xasprintf("%s/.%s.old-%d", b->store, b->r->name, (int)getpid());
	bool had_old = path_exists(b->final_dir);

	if (had_old) {
		if (image_check_unused(b->r->name, e) < 0)
			return -1;
		if (rename(b->final_dir, old) < 0)
			return xerr_errno(e, XERR_IO, "cannot move old %s aside", b->final_dir);
	}
	if (rename(b->tmp_dir, b->final_dir) < 0) {
		xerr_errno(e, XERR_IO, "cannot put the image in place at %s", b->final_dir);
		if (had_old && rename(old, b->final_dir) < 0)
			xerr_prefix(e, "old image left at %s", old);
		return -1;
	}
	if (had_old) {
		struct xerr ignore = { 0 };

		rm_rf(old, &ignore);
	}
	return 0;
}

static int build_run(struct build *b, struct xerr *e)
{
	struct facts f = { 0 };
	int rc = -1;

	if (mkdir_p(b->tmp_dir, 0755, e) < 0)
		return -1;
	if (bootstrap(b, e) < 0 || customize(b, e) < 0 || guest_debian(b, e) < 0 ||
	    boot_files(b, e) < 0)
		goto out;
	if (facts_read(b, &f, e) < 0 || root_disk(b, e) < 0 || manifest_write(b, &f, e) < 0)
		goto out;
	if (stop_requested()) {
		xerr_set(e, XERR_INTERRUPTED, "interrupted (signal %d)", stop_signal());
		goto out;
	}
	rc = install(b, e);
out:
	facts_free(&f);
	return rc;
}

static void build_free(struct build *b)
{
	free(b->store);
	free(b->final_dir);
	free(b->tmp_dir);
	free(b->tree);
	free(b->log_path);
	free(b->scripts_dir);
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		free(b->script_text[i]);
	free(b->kver);
	free(b->busybox);
	strv_free(b->applets);
	if (b->log_fd > 0)
		close(b->log_fd);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xlab image build NAME [--force]\n\n"
		   "Builds a dom0 image from Debian with mmdebstrap into the image store.\n"
		   "NAME is one of:");
	for (size_t i = 0; i < image_n_recipes; i++)
		fprintf(f, " %s (Debian %s)%s", image_recipes[i].name, image_recipes[i].suite,
			i + 1 < image_n_recipes ? "," : "\n");
	fprintf(f, "  --force   rebuild even when the stored image is up to date\n");
}

static int parse_args(int argc, char **argv, struct build *b, bool *help, struct xerr *e)
{
	const char *name = NULL;
	_cleanup_free_ char *names = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			*help = true;
			return 0;
		} else if (strcmp(argv[i], "--force") == 0) {
			b->force = true;
		} else if (argv[i][0] == '-') {
			return xerr_set(e, XERR_USAGE,
					"unknown option %s\nusage: xlab image build NAME [--force]",
					argv[i]);
		} else if (name) {
			return xerr_set(e, XERR_USAGE,
					"one image at a time\nusage: xlab image build NAME [--force]");
		} else {
			name = argv[i];
		}
	}
	for (size_t i = 0; i < image_n_recipes; i++)
		if (name && strcmp(name, image_recipes[i].name) == 0)
			b->r = &image_recipes[i];
	if (b->r)
		return 0;
	names = image_recipe_names();
	xerr_set(e, XERR_USAGE, "%s%s%s; known images: %s\nusage: xlab image build NAME [--force]",
		 name ? "unknown image '" : "which image?", name ? name : "", name ? "'" : "",
		 names);
	return -1;
}

static int lock_name(const struct build *b, int *fd, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/.%s.lock", b->store, b->r->name);

	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", p);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	/* The other build makes the same image: wait, then find it up to date. */
	fprintf(stderr, "waiting for another build of %s to finish (%s)...\n", b->r->name, p);
	if (flock(*fd, LOCK_EX) < 0)
		return xerr_errno(e, XERR_IO, "cannot lock %s", p);
	return 0;
}

int image_cmd_build(int argc, char **argv, struct xerr *e)
{
	struct build b = { .log_fd = -1 };
	_cleanup_close_ int lock_fd = -1;
	bool help = false;
	int rc = -1;

	if (parse_args(argc, argv, &b, &help, e) < 0)
		return -1;
	if (help) {
		usage(stdout);
		return 0;
	}
	b.t0 = now_ms();
	if (geteuid() != 0) {
		xerr_set(e, XERR_FAIL, "building an image needs root (mmdebstrap --mode=root "
					    "and file ownership in the root filesystem)");
		goto out;
	}
	if (scripts_load(&b, e) < 0 || image_store_dir(&b.store, e) < 0 ||
	    lock_name(&b, &lock_fd, e) < 0)
		goto out;
	recipe_hash(&b);
	b.final_dir = xasprintf("%s/%s", b.store, b.r->name);
	if (!b.force && up_to_date(&b)) {
		fprintf(stderr, "image %s is up to date (%s)\n", b.r->name, b.final_dir);
		rc = 0;
		goto out;
	}
	/* Checked again at the swap; failing here saves a useless build. */
	if (path_exists(b.final_dir) && image_check_unused(b.r->name, e) < 0)
		goto out;
	remove_stale_tmp(&b);
	b.tmp_dir = xasprintf("%s/.%s.tmp-%d", b.store, b.r->name, (int)getpid());
	b.tree = xasprintf("%s/tree", b.tmp_dir);
	b.log_path = xasprintf("%s/%s.build.log", b.store, b.r->name);
	b.log_fd = open(b.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (b.log_fd < 0) {
		xerr_errno(e, XERR_IO, "cannot create %s", b.log_path);
		goto out;
	}
	rc = build_run(&b, e);
	if (rc < 0) {
		struct xerr ignore = { 0 };

		if (remove_tree(b.tmp_dir, &ignore) < 0)
			xerr_prefix(e, "%s (and %s could not be removed: %s)", b.r->name, b.tmp_dir,
				    ignore.msg);
		else
			xerr_prefix(e, "building image %s (nothing was kept; log: %s)", b.r->name,
				    b.log_path);
	} else {
		progress(&b, "built in %.1f s: %s", (double)(now_ms() - b.t0) / 1000.0,
			 b.final_dir);
	}
out:
	build_free(&b);
	return rc;
}
