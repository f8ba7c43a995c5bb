/* `xlab image build NAME`: a dom0 image made from Debian with mmdebstrap,
 * customised (xlab-init, small initrds, the guest kit) and packed as an ext4
 * qcow2 without loop mounts. Everything happens in images/.NAME.tmp-PID,
 * renamed into place at the end, so the store never holds half an image. */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <json-c/json.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_int.h"
#include "dom0paths.h"
#include "image_derive.h"
#include "initrd.h"
#include "kernelbuild.h"
#include "layout.h"
#include "spawn.h"
#include "stop.h"
#include "util.h"

/* Bump when the build steps change in a way the inputs below do not show. */
#define RECIPE_VERSION "xlab-image-recipe 5"

/* No systemd: /sbin/xlab-init is PID 1. qemu-system-xen is the device
 * model libxl starts for a guest's framebuffer (`vnc: true`). The kernel is
 * xlab's lean one unless the recipe wants Debian's (debian_kernel_package). */
static const char *const dom0_packages[] = {
	"xen-system-amd64", "lvm2", "openssh-server", "iproute2",
	"busybox-static", "e2fsprogs", "kmod", "tar", "procps", "iputils-ping",
	"qemu-system-xen",
};
static const char debian_kernel_package[] = "linux-image-amd64";

/* `rootfs: debian` guests: what a lab needs (an address, an SSH server) and
 * no init system; guest-init.sh is their /sbin/init. The dom0's kernel and
 * the guest initrd boot them, so they carry no kernel either. */
const char *const guest_debian_packages[2] = { "openssh-server", "iproute2" };

/* With Debian's kernel only (the lean one has them built in).
 * Dependencies (virtio_ring, failover, jbd2, ...) come from modules.dep;
 * ext4 finds crc32c through the crypto API, hence the explicit entry. */
static const char *const dom0_initrd_modules[] = {
	"virtio_pci", "virtio_blk", "virtio_net", "crc32c_generic", "ext4",
};
static const char *const guest_initrd_modules[] = {
	"xen-blkfront", "xen-netfront", "crc32c_generic", "ext4",
};

/* images/ in the source tree: the scripts go into every image and its
 * recipe hash; the lean kernel's configuration into the kernel's cache key,
 * which is in the hash of the images with that kernel. */
#define LEAN_KERNEL_CONFIG "lean-kernel.config"
static const char *const scripts[BUILD_N_SCRIPTS] = {
	"dom0-init.sh", "dom0-initrd-init.sh", "guest-initrd-init.sh", "guest-init.sh",
	LEAN_KERNEL_CONFIG,
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

void phase_begin(struct build *b, const char *phase, const char *what)
{
	b->phase = phase;
	b->phase_t0 = now_ms();
	progress(b, "%s: %s", phase, what);
	if (b->log_fd > 0)
		dprintf(b->log_fd, "=== %s: %s\n", phase, what);
}

int phase_end(struct build *b, struct xerr *e)
{
	if (stop_requested())
		return xerr_set(e, XERR_INTERRUPTED, "interrupted (signal %d)", stop_signal());
	progress(b, "%s done in %.1f s", b->phase, (double)(now_ms() - b->phase_t0) / 1000.0);
	return 0;
}

int run_logged(struct build *b, char *const argv[], char *const env[], struct xerr *e)
{
	return spawn_logged(argv, env, b->log_fd, e);
}

/* ---- mounts: never rm -rf through a mount mmdebstrap left behind ---- */

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

int remove_tree(const char *dir, struct xerr *e)
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
	if (b->r->debian_kernel) {
		buf_printf(&in, "package=%s\n", debian_kernel_package);
		for (size_t i = 0; i < ARRAY_SIZE(dom0_initrd_modules); i++)
			buf_printf(&in, "dom0-module=%s\n", dom0_initrd_modules[i]);
		for (size_t i = 0; i < ARRAY_SIZE(guest_initrd_modules); i++)
			buf_printf(&in, "guest-module=%s\n", guest_initrd_modules[i]);
	} else {
		buf_printf(&in, "lean-kernel=%s\n", b->lean_key);
	}
	for (size_t i = 0; i < ARRAY_SIZE(guest_debian_packages); i++)
		buf_printf(&in, "guest-package=%s\n", guest_debian_packages[i]);
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		if (strcmp(scripts[i], LEAN_KERNEL_CONFIG) != 0)
			buf_printf(&in, "script=%s %zu\n%s", scripts[i], strlen(b->script_text[i]),
				   b->script_text[i]);
	sha256_hex(in.data, in.len, b->recipe_hash);
	buf_free(&in);
}

/* First URI of a non-security stanza (deb822) or `deb` line: other sources on
 * the machine may be unreachable and would make mmdebstrap fail. */
static char *mirror_from(const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct xerr ignore = { 0 };
	size_t len;

	if (file_read_all(path, 0, &text, &len, &ignore) < 0)
		return NULL;
	return apt_mirror_parse(text);
}

char *debian_mirror(void)
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
int mmdebstrap_run(struct build *b, const char *const *packages, size_t n,
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

	const char *packages[ARRAY_SIZE(dom0_packages) + 1];
	size_t n = ARRAY_SIZE(dom0_packages);

	memcpy(packages, dom0_packages, sizeof(dom0_packages));
	if (b->r->debian_kernel)
		packages[n++] = debian_kernel_package;
	what = xasprintf("mmdebstrap %s from %s (log: %s)", b->r->suite, mirror, b->log_path);
	phase_begin(b, "bootstrap", what);
	if (mmdebstrap_run(b, packages, n, b->tree, mirror, e) < 0)
		return -1;
	return phase_end(b, e);
}

/* ---- busybox trees: the initrds and the built-in guest rootfs ---- */

static int script_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		if (strcmp(scripts[i], name) == 0)
			return (int)i;
	abort();
}

const char *script(const struct build *b, const char *name)
{
	return b->script_text[script_index(name)];
}

static struct initrd_src initrd_src(const struct build *b)
{
	return (struct initrd_src){ .tree = b->tree, .kver = b->kver, .busybox = b->busybox,
				    .applets = b->applets };
}

/* dom0's initrd: virtio + ext4, busybox, an /init that mounts the root disk. */
int dom0_initrd_make(const struct build *b, const char *out, struct xerr *e)
{
	const struct initrd_src s = initrd_src(b);
	const struct initrd_file files[] = { { "init", script(b, "dom0-initrd-init.sh") } };

	if (initrd_write(&s, out, INITRD_CPIO_GZ, dom0_initrd_modules,
			 b->r->debian_kernel ? ARRAY_SIZE(dom0_initrd_modules) : 0, files,
			 ARRAY_SIZE(files), e) < 0)
		return xerr_prefix(e, "making dom0 initrd");
	return 0;
}

/* A guest's initrd: Xen front drivers and ext4; boots /dev/xvda when it has
 * a root filesystem, else runs the built-in guest init from the initrd. */
int guest_initrd_make(const struct build *b, const char *out, struct xerr *e)
{
	const struct initrd_src s = initrd_src(b);
	const struct initrd_file files[] = {
		{ "init", script(b, "guest-initrd-init.sh") },
		{ "sbin/init", script(b, "guest-init.sh") },
	};

	if (initrd_write(&s, out, INITRD_CPIO_GZ, guest_initrd_modules,
			 b->r->debian_kernel ? ARRAY_SIZE(guest_initrd_modules) : 0, files,
			 ARRAY_SIZE(files), e) < 0)
		return xerr_prefix(e, "making guest initrd");
	return 0;
}

/* The built-in guest root filesystem (the agent unpacks it onto an LV). */
int guest_tar_make(const struct build *b, const char *out, struct xerr *e)
{
	const struct initrd_src s = initrd_src(b);
	const struct initrd_file files[] = { { "sbin/init", script(b, "guest-init.sh") } };

	if (initrd_write(&s, out, INITRD_TAR, NULL, 0, files, ARRAY_SIZE(files), e) < 0)
		return xerr_prefix(e, "making busybox.tar");
	return 0;
}

/* The busybox tree as a small ext4 (busybox.ext4 beside busybox.tar),
 * made here at native speed: the agent copies it onto a guest's LV and
 * grows it, where mkfs.ext4 -d cost most of a second in a dom0 under TCG.
 * Sized to the tree plus a 4 MiB journal and room; 4 KiB blocks and the
 * default inode ratio, so it grows like any other. */
int guest_ext4_make(struct build *b, const char *tar, const char *out, struct xerr *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/guest-ext4", b->tmp_dir);
	_cleanup_free_ char *fstab = xasprintf("%s/etc/fstab", dir);
	_cleanup_free_ char *etc = xasprintf("%s/etc", dir);
	char *unpack[] = { "tar", "--numeric-owner", "-xf", (char *)tar, "-C", dir, NULL };
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-b", "4096", "-T", "default", "-L", "xlab-busybox",
			 "-d", dir, (char *)out, NULL };
	struct stat st;
	off_t size;
	int fd;

	if (rm_rf(dir, e) < 0 || mkdir_p(dir, 0755, e) < 0 || run_logged(b, unpack, NULL, e) < 0 ||
	    mkdir_p(etc, 0755, e) < 0 ||
	    file_write_atomic(fstab, GUEST_FSTAB, strlen(GUEST_FSTAB), 0644, e) < 0)
		return xerr_prefix(e, "making busybox.ext4");
	if (stat(tar, &st) < 0)
		return xerr_errno(e, XERR_IO, "making busybox.ext4: cannot stat %s", tar);
	size = ((st.st_size + st.st_size / 4 + (6 << 20)) + (1 << 20) - 1) & ~(off_t)((1 << 20) - 1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, size) < 0) {
		if (fd >= 0)
			close(fd);
		return xerr_errno(e, XERR_IO, "making busybox.ext4: cannot make %s", out);
	}
	close(fd);
	if (run_logged(b, mkfs, NULL, e) < 0)
		return xerr_prefix(e, "making busybox.ext4");
	return rm_rf(dir, e);
}

/* ---- the build ---- */

/* The kernel's cache key is part of the recipe, so it is known before
 * the up-to-date check; a missing linux-source package fails here, in a
 * second. */
static int lean_kernel_key(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *name = xasprintf("%s/%s", b->scripts_dir, LEAN_KERNEL_CONFIG);

	if (b->r->debian_kernel)
		return 0;
	return kernelbuild_key(kernel_source(), script(b, LEAN_KERNEL_CONFIG), name, b->lean_key,
			       e);
}

/* Built (or found) first, before minutes of bootstrap: of the build's
 * steps the one most likely to fail. */
static int lean_kernel(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *name = xasprintf("%s/%s", b->scripts_dir, LEAN_KERNEL_CONFIG);

	if (b->r->debian_kernel)
		return 0;
	return kernelbuild(kernel_source(), script(b, LEAN_KERNEL_CONFIG), name, &b->lean_bzimage,
			   &b->lean_release, e);
}

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
	return image_swap_in(b->store, b->r->name, b->tmp_dir, e);
}

static int build_run(struct build *b, struct xerr *e)
{
	struct dpkg_facts f = { 0 };
	int rc = -1;

	if (lean_kernel(b, e) < 0 || mkdir_p(b->tmp_dir, 0755, e) < 0)
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
	dpkg_facts_free(&f);
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
	free(b->lean_bzimage);
	free(b->lean_release);
	free(b->busybox);
	strv_free(b->applets);
	if (b->log_fd > 0)
		close(b->log_fd);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xlab image build NAME [--force]\n"
		   "       xlab image build NAME --from BASE --hypervisor PATH/xen.gz [--force]\n"
		   "       xlab image build NAME --from BASE --xen-source DIR|TARBALL\n"
		   "                        [--kconfig K=V]... [--tools|--hypervisor-only] [--force]\n\n"
		   "Builds a dom0 image from Debian with mmdebstrap into the image store.\n"
		   "NAME is one of:");
	for (size_t i = 0; i < image_n_recipes; i++)
		fprintf(f, "\n  %-16s Debian %s, %s kernel", image_recipes[i].name,
			image_recipes[i].suite,
			image_recipes[i].debian_kernel ? "Debian's stock" : "xlab's lean");
	fprintf(f, "\n  --force          rebuild even when the stored image is up to date\n\n"
		   "The lean kernel (PV, PVH and HVM guest and dom0 in one, no modules)\n"
		   "is built from Debian's " KERNEL_SOURCE_PACKAGE " package (" KERNEL_SOURCE_DEFAULT
		   ",\n$XLAB_LINUX_SOURCE overrides) with images/" LEAN_KERNEL_CONFIG ": minutes\n"
		   "once, then cached in the store's .kernel-builds for every image (--force\n"
		   "rebuilds the image, not the kernel: remove its cache entry for that).\n\n"
		   "With --from, NAME is a new image: the stored image BASE with another Xen\n"
		   "hypervisor, nothing else rebuilt:\n"
		   "  --hypervisor PATH    what `make -C xen` left in xen/xen.gz; its version\n"
		   "                       is read from the build tree beside it\n"
		   "  --xen-source SRC     build it from a xen.git tree or tarball (defconfig,\n"
		   "                       then each --kconfig KEY=VALUE, e.g. SHADOW_PAGING=y);\n"
		   "                       cached by source, settings and compiler\n"
		   "The hypervisor must share major.minor with BASE's dom0 tools; --force\n"
		   "derives anyway, or replaces an existing NAME.\n\n"
		   "A whole Xen: a --xen-source of a version no Debian image carries (e.g.\n"
		   "4.22) builds the dom0 tools too, in a build root of BASE's Debian suite,\n"
		   "with Debian's QEMU and SeaBIOS (nothing downloaded), and installs them in\n"
		   "a new root disk in place of BASE's Debian Xen packages; cached like the\n"
		   "hypervisor. Name it xen-M.N and `xen: \"M.N\"` in a spec boots it:\n"
		   "  xlab image build xen-4.22 --from xen-4.20 --xen-source xen-4.22.0.tar.xz \\\n"
		   "      --kconfig SHADOW_PAGING=y   (4.22's defconfig leaves shadow paging out)\n"
		   "  --tools              build the tools even when BASE's would fit\n"
		   "  --hypervisor-only    never build them (a version BASE's tools do not\n"
		   "                       fit is then refused, unless --force)\n");
}

/* `--from BASE --hypervisor PATH | --xen-source SRC [--kconfig K=V]...`:
 * a derived image (image_derive.c). */
static int derive_args(int argc, char **argv, struct derive_opts *o, size_t *nk,
		       struct xerr *e)
{
	static const char use[] = "usage: xlab image build NAME --from BASE (--hypervisor PATH | "
				  "--xen-source DIR|TARBALL [--kconfig KEY=VALUE]... [--tools | "
				  "--hypervisor-only]) [--force]";

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = !strcmp(a, "--from")	 ? &o->from :
				    !strcmp(a, "--hypervisor") ? &o->hypervisor :
				    !strcmp(a, "--xen-source") ? &o->xen_source :
								 NULL;

		if (!strcmp(a, "--force")) {
			o->force = true;
		} else if (!strcmp(a, "--tools")) {
			o->tools = true;
		} else if (!strcmp(a, "--hypervisor-only")) {
			o->hypervisor_only = true;
		} else if (slot || !strcmp(a, "--kconfig")) {
			if (i + 1 >= argc || !*argv[i + 1])
				return xerr_set(e, XERR_USAGE, "%s needs a value\n%s", a, use);
			if (slot) {
				*slot = argv[++i];
				continue;
			}
			o->kconfig = xrealloc(o->kconfig, (*nk + 2) * sizeof(char *));
			o->kconfig[(*nk)++] = argv[++i];
			o->kconfig[*nk] = NULL;
		} else if (a[0] == '-') {
			return xerr_set(e, XERR_USAGE, "unknown option %s\n%s", a, use);
		} else if (o->name) {
			return xerr_set(e, XERR_USAGE, "one image at a time\n%s", use);
		} else {
			o->name = a;
		}
	}
	if (!o->name || !o->from || !o->hypervisor == !o->xen_source)
		return xerr_set(e, XERR_USAGE, "%s", use);
	if ((o->kconfig || o->tools || o->hypervisor_only) && !o->xen_source)
		return xerr_set(e, XERR_USAGE, "--kconfig, --tools and --hypervisor-only go with "
					       "--xen-source\n%s", use);
	return 0;
}

static bool wants_derive(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--from") || !strcmp(argv[i], "--hypervisor") ||
		    !strcmp(argv[i], "--xen-source") || !strcmp(argv[i], "--tools") ||
		    !strcmp(argv[i], "--hypervisor-only"))
			return true;
	return false;
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

	/* A store nobody has built into yet (a new XLAB_HOME) starts here. */
	if (mkdir_p(b->store, 0755, e) < 0)
		return xerr_prefix(e, "making the image store");
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", p);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	/* The other build makes the same image: wait, then find it up to date. */
	fprintf(stderr, "waiting for another build of %s to finish (%s)...\n", b->r->name, p);
	if (flock(*fd, LOCK_EX) < 0) {
		if (errno == EINTR && stop_requested())
			return xerr_set(e, XERR_INTERRUPTED,
					"interrupted while waiting for the other build (%s)", p);
		return xerr_errno(e, XERR_IO, "cannot lock %s", p);
	}
	return 0;
}

int image_cmd_build(int argc, char **argv, struct xerr *e)
{
	struct build b = { .log_fd = -1 };
	_cleanup_close_ int lock_fd = -1;
	bool help = false;
	int rc = -1;

	if (wants_derive(argc, argv)) {
		struct derive_opts o = { 0 };
		size_t nk = 0;

		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				usage(stdout);
				return 0;
			}
		rc = derive_args(argc, argv, &o, &nk, e) < 0 ? -1 : image_derive(&o, e);
		/* The settings themselves are argv's. */
		free(o.kconfig);
		return rc;
	}
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
	    lock_name(&b, &lock_fd, e) < 0 || lean_kernel_key(&b, e) < 0)
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
