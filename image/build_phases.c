/* An image build's phases on the tree: helpers on it, customising it for an
 * xlab dom0, the Debian guest root filesystem, boot files, the manifest's
 * facts, the ext4 root disk and the manifest. image_build.c runs them. */
#include "image.h"

#include <glob.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_int.h"
#include "dom0paths.h"
#include "layout.h"
#include "sha256.h"
#include "vmlinux.h"
#include "spawn.h"
#include "util.h"

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

/* ---- phase 2: customise the tree ---- */

/* lvm.conf where Debian ships it, with udev's settings off: udev is not
 * running in an xlab dom0, so LVM must not wait for it. */
static int lvm_conf_set(const struct build *b, const char *const keys[], size_t n,
			const char *value, struct xerr *e)
{
	_cleanup_free_ char *p = tree_path(b, "etc/lvm/lvm.conf");
	_cleanup_free_ char *text = NULL, *out = NULL;
	size_t len;

	if (file_read_all(p, 0, &text, &len, e) < 0 ||
	    lvm_conf_edit(text, keys, n, value, &out, e) < 0)
		return -1;
	return file_write_atomic(p, out, strlen(out), 0644, e);
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
 * by xlab; root by key only. Without PAM sshd refuses an account whose
 * password is locked ("!"); Debian's root has "*", which is not. */
static const char sshd_conf[] =
	"# xlab: one host key, made for this machine and pinned by xlab.\n"
	"HostKey /etc/ssh/ssh_host_ed25519_key\n"
	"PermitRootLogin prohibit-password\n"
	"PasswordAuthentication no\n"
	"KbdInteractiveAuthentication no\n"
	"UseDNS no\n"
	"# No PAM: keys only, and its session modules (motd, env, limits) cost a\n"
	"# third of a second per connection under TCG.\n"
	"UsePAM no\n";

/* Its own keys out, xlab's drop-in in. */
static int ssh_configure(const char *root, struct xerr *e)
{
	if (host_keys_drop(root, e) < 0)
		return -1;
	return root_write(root, "etc/ssh/sshd_config.d/xlab.conf", sshd_conf, 0644, e);
}

/* The agent of the xlab that builds the image, where the controller would
 * push it: a host made from the image then starts it as it is when the
 * controller's is the same (host/agent_client.c agent_open_new_root),
 * 0.35 s less per new host under TCG than the push. None when xlab has no
 * agent to give (its hosts are pushed one, as before). */
static int agent_place(struct build *b, struct xerr *e)
{
	const char *agent = layout_get()->agent;
	_cleanup_free_ char *to = tree_path(b, &DOM0_AGENT_PATH[1]);
	_cleanup_free_ char *dir = xstrdup(to);

	b->agent_sha256[0] = '\0';
	if (!agent || !path_exists(agent))
		return 0;
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, e) < 0 || copy_file(agent, to, 0755, e) < 0)
		return -1;
	return sha256_file_hex(to, b->agent_sha256, e);
}

/* The lean kernel where Debian's package would have put its own: one
 * boot/vmlinuz-RELEASE, found as any kernel is. */
static int lean_kernel_place(const struct build *b, struct xerr *e)
{
	_cleanup_free_ char *to = NULL;

	if (b->r->debian_kernel)
		return 0;
	to = xasprintf("%s/boot/vmlinuz-%s", b->tree, b->lean_release);
	return copy_file(b->lean_bzimage, to, 0644, e);
}

int customize(struct build *b, struct xerr *e)
{
	static const char *const lvm_keys[] = { "udev_sync", "udev_rules",
						"obtain_device_list_from_udev" };
	_cleanup_free_ char *guest = tree_path(b, "var/lib/xlab/guest");
	_cleanup_free_ char *vmlinuz = NULL, *g_vmlinuz = NULL, *g_initrd = NULL, *g_tar = NULL,
			   *g_ext4 = NULL;
	_cleanup_free_ char *g_vmlinux = NULL;

	phase_begin(b, "customize", "xlab-init, sshd, lvm.conf, agent, guest kit");
	if (lean_kernel_place(b, e) < 0 || find_kernel(b, e) < 0 || find_busybox(b, e) < 0 ||
	    agent_place(b, e) < 0)
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
	g_vmlinux = xasprintf("%s/vmlinux", guest);
	g_initrd = xasprintf("%s/initrd.img", guest);
	g_tar = xasprintf("%s/busybox.tar", guest);
	g_ext4 = xasprintf("%s/busybox.ext4", guest);
	/* vmlinuz stays for HVM guests: their device model boots a bzImage. */
	if (copy_file(vmlinuz, g_vmlinuz, 0644, e) < 0 ||
	    vmlinux_extract(vmlinuz, g_vmlinux, e) < 0 || guest_initrd_make(b, g_initrd, e) < 0 ||
	    guest_tar_make(b, g_tar, e) < 0 || guest_ext4_make(b, g_tar, g_ext4, e) < 0)
		return -1;
	return phase_end(b, e);
}

/* ---- phase 2b: the Debian guest root filesystem ---- */

/* var/lib/xlab/guest/debian-SUITE.tar in the dom0 tree, and debian.tar
 * naming it: built with the image so a guest costs no download. */
int guest_debian(struct build *b, struct xerr *e)
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

int boot_files(struct build *b, struct xerr *e)
{
	_cleanup_free_ char *boot = xasprintf("%s/boot", b->tmp_dir);
	_cleanup_free_ char *xen = NULL, *vmlinuz = NULL, *to = NULL;

	phase_begin(b, "boot", "xen.gz, vmlinuz, initrd.img");
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

int facts_read(const struct build *b, struct dpkg_facts *f, struct xerr *e)
{
	_cleanup_free_ char *p = tree_path(b, "var/lib/dpkg/status");
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (file_read_all(p, 0, &text, &len, e) < 0)
		return -1;
	return dpkg_status_parse(text, p, f, e);
}

/* ---- phase 5: ext4 root disk without a loop mount ---- */

int root_disk(struct build *b, struct xerr *e)
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

int manifest_write(struct build *b, const struct dpkg_facts *f, struct xerr *e)
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
	if (b->agent_sha256[0]) {
		json_object *agent = json_object_new_object();

		json_object_object_add(agent, "sha256", json_object_new_string(b->agent_sha256));
		json_object_object_add(root, "agent", agent);
	}
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

