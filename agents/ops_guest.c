/* guest.*: Xen guests on logical volumes. A guest is an LV holding an ext4
 * made from a rootfs tarball, an xl config in /etc/xen/xlab and a running
 * domain whose console is copied to a log. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "dom0paths.h"
#include "hotplug.h"
#include "ops.h"
#include "parse.h"
#include "sys.h"
#include "util.h"
#include "xenstore.h"

#define GUEST_SIZE_MIN ((int64_t)16 << 20)
#define GUEST_SIZE_MAX ((int64_t)64 << 40)
#define XL_CFG_MAX (256 * 1024)

/* The domain's id, or -1 when no domain has that name: from xenstore (a
 * few messages), else from `xl domid` (a process, 0.15-0.3 s under TCG):
 * where xenstore cannot say (a domain named but not alive to xenstored),
 * or cannot be reached (a test's stand-in dom0 has none). */
static int domain_domid(const char *name, int64_t *domid, struct xerr *e)
{
	struct spawn_result r;
	struct xs_conn *x = NULL;
	struct xerr why = { 0 };
	char *end;

	*domid = -1;
	if (xs_open(&x, &why) == 0) {
		bool unsure = false;
		int rc = xs_domid_by_name(x, name, domid, &unsure, e);

		xs_close(x);
		if (rc < 0 || !unsure)
			return rc;
	}
	if (agent_cmd((char *[]){ "xl", "domid", (char *)name, NULL }, CMD_ANY_EXIT, 60, &r,
		      e) < 0)
		return -1;
	if (r.status == 0 && r.out) {
		long long v = strtoll(r.out, &end, 10);

		if (end != r.out && v >= 0)
			*domid = v;
	}
	spawn_result_free(&r);
	return 0;
}

/* A paused domain is one whose `xl create -p` was cut short (agent or
 * controller killed) before its console copy started and it was unpaused:
 * it never ran, so it is destroyed and made again. */
static bool domain_paused(const char *name)
{
	struct spawn_result r;
	struct json_object *list = NULL;
	struct xerr ignore = { 0 };
	bool paused = false;

	if (agent_cmd((char *[]){ "xl", "list", (char *)name, NULL }, CMD_ANY_EXIT, 60, &r,
		      &ignore) < 0)
		return false;
	if (r.status == 0 && xl_list_parse(r.out ? r.out : "", &list, &ignore) == 0 &&
	    json_object_array_length(list) == 1) {
		const char *state = row_str(json_object_array_get_idx(list, 0), AGENT_RES_STATE);

		paused = state && strchr(state, 'p');
	}
	json_object_put(list);
	spawn_result_free(&r);
	return paused;
}

int domain_destroy(const char *name, struct xerr *e)
{
	struct spawn_result r;

	if (agent_cmd((char *[]){ "xl", "destroy", (char *)name, NULL }, 0, 120, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

/* debian-SUITE: the suite's name is lower-case letters only. */
static bool debian_name(const char *rootfs)
{
	const char *suite;

	if (!strcmp(rootfs, "debian"))
		return true;
	if (strncmp(rootfs, "debian-", 7) != 0)
		return false;
	suite = rootfs + 7;
	return *suite && strspn(suite, "abcdefghijklmnopqrstuvwxyz") == strlen(suite);
}

/* An image carries its own suite's Debian only: say which that is. */
static int debian_missing(const char *rootfs, struct xerr *e)
{
	_cleanup_free_ char *link = agent_path(AGENT_GUEST_DIR "/debian.tar");
	char have[256];
	ssize_t n = readlink(link, have, sizeof(have) - 1);

	if (n <= 0)
		return xerr_set(e, XERR_NOTFOUND,
				"rootfs '%s': this dom0 image has no Debian root filesystem "
				"(rebuild it with `xlab image build --force`)", rootfs);
	have[n] = '\0';
	have[strcspn(have, ".")] = '\0';
	return xerr_set(e, XERR_NOTFOUND,
			"rootfs '%s': this dom0 image carries %s only; use rootfs: debian, or "
			"put the guest on a host whose image is built from that suite",
			rootfs, have);
}

/* Built-in names come from the image's guest kit; anything else is an
 * absolute path in the dom0. */
static int rootfs_resolve(const char *rootfs, char **tar, struct xerr *e)
{
	if (strcmp(rootfs, "busybox") == 0)
		*tar = agent_path(AGENT_BUSYBOX_TAR);
	else if (debian_name(rootfs))
		*tar = agent_path(AGENT_GUEST_DIR "/%s.tar", rootfs);
	else if (rootfs[0] == '/' && !strstr(rootfs, "/../") && !strstr(rootfs, "/./"))
		*tar = xstrdup(rootfs);
	else
		return xerr_set(e, XERR_USAGE,
				"rootfs '%s' is neither \"busybox\", \"debian[-SUITE]\" nor an "
				"absolute tar path", rootfs);
	if (!path_exists(*tar)) {
		if (debian_name(rootfs))
			debian_missing(rootfs, e);
		else
			xerr_set(e, XERR_NOTFOUND, "rootfs tarball %s does not exist in dom0", *tar);
		free(*tar);
		*tar = NULL;
		return -1;
	}
	return 0;
}

static bool has_filesystem(const char *dev)
{
	struct spawn_result r;
	struct xerr ignore = { 0 };
	bool yes;

	if (agent_cmd((char *[]){ "blkid", "-o", "value", "-s", "TYPE", (char *)dev, NULL },
		      CMD_ANY_EXIT, 60, &r, &ignore) < 0)
		return false;
	yes = r.status == 0 && r.out && strncmp(r.out, "ext4", 4) == 0;
	spawn_result_free(&r);
	return yes;
}

/* A directory of the unpacked tree, made if missing. A tarball's entries
 * could be symlinks leading out of the tree into the dom0: refused. */
static int tree_dir(const char *tree, const char *rel, int mode, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", tree, rel);
	struct stat st;

	for (char *p = path + strlen(tree) + 1;; p++) {
		bool last = !*p;

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (lstat(path, &st) < 0) {
			if (errno != ENOENT || mkdir(path, mode) < 0)
				return xerr_errno(e, XERR_IO, "cannot make %s", path);
		} else if (!S_ISDIR(st.st_mode)) {
			return xerr_set(e, XERR_USAGE, "the rootfs's /%s is not a directory",
					path + strlen(tree) + 1);
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static int tree_write(const char *tree, const char *dir, const char *file, const char *text,
		      int mode, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/%s", tree, dir, file);

	if (tree_dir(tree, dir, 0755, e) < 0)
		return -1;
	return file_write_atomic(path, text, strlen(text), mode, e);
}

/* The guest names its disk xvda, whatever the dom0 calls the LV. */
static int tree_write_fstab(const char *tree, bool swap, struct xerr *e)
{
	const char *text = swap ? GUEST_FSTAB GUEST_FSTAB_SWAP : GUEST_FSTAB;

	return tree_write(tree, "etc", "fstab", text, 0644, e);
}

/* A root filesystem with an SSH server (the Debian ones) gets its own host
 * key, made here so xlab can pin it, and the lab's key: the dom0's own
 * authorized_keys, which xlab wrote. */
static int tree_ssh_setup(const char *tree, const char *name, char **host_pub,
			  struct xerr *e)
{
	_cleanup_free_ char *sshd = xasprintf("%s/usr/sbin/sshd", tree);
	_cleanup_free_ char *key = NULL, *pub = NULL, *comment = NULL, *auth = NULL;
	_cleanup_free_ char *auth_path = agent_path("/root/.ssh/authorized_keys");
	struct spawn_result r;
	size_t len;

	*host_pub = NULL;
	if (!path_exists(sshd))
		return 0;
	if (tree_dir(tree, "etc/ssh", 0755, e) < 0 || tree_dir(tree, "root/.ssh", 0700, e) < 0)
		return -1;
	key = xasprintf("%s/etc/ssh/ssh_host_ed25519_key", tree);
	pub = xasprintf("%s.pub", key);
	comment = xasprintf("root@%s", name);
	unlink(key);
	unlink(pub);
	if (agent_cmd((char *[]){ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
				  "-f", key, NULL },
		      0, 60, &r, e) < 0)
		return xerr_prefix(e, "making the guest's host key");
	spawn_result_free(&r);
	if (file_read_all(pub, 4096, host_pub, &len, e) < 0 ||
	    file_read_all(auth_path, 1 << 20, &auth, &len, e) < 0)
		return -1;
	return tree_write(tree, "root/.ssh", "authorized_keys", auth, 0600, e);
}

static int rootfs_make(const char *name, const char *tar, const char *dev, bool swap,
		       char **host_pub, struct xerr *e)
{
	_cleanup_free_ char *hostname = xasprintf("%s\n", name);
	_cleanup_free_ char *tmp = agent_path(AGENT_TMP_DIR);
	_cleanup_free_ char *tree = NULL;
	struct spawn_result r;
	struct xerr ignore = { 0 };
	int rc = -1;

	if (mkdir_p(tmp, 0700, e) < 0)
		return -1;
	tree = xasprintf("%s/%s.XXXXXX", tmp, name);
	/* The tree's root becomes the guest's /, which everyone must traverse. */
	if (!mkdtemp(tree) || chmod(tree, 0755) < 0)
		return xerr_errno(e, XERR_IO, "cannot make a directory in %s", tmp);
	if (agent_cmd((char *[]){ "tar", "--numeric-owner", "-xf", (char *)tar, "-C", tree, NULL },
		      0, 600, &r, e) < 0)
		goto out;
	spawn_result_free(&r);
	if (tree_write_fstab(tree, swap, e) < 0 ||
	    tree_write(tree, "etc", "hostname", hostname, 0644, e) < 0 ||
	    tree_ssh_setup(tree, name, host_pub, e) < 0)
		goto out;
	if (agent_cmd((char *[]){ "mkfs.ext4", "-q", "-F", "-d", tree, (char *)dev, NULL }, 0,
		      900, &r, e) < 0)
		goto out;
	spawn_result_free(&r);
	rc = 0;
out:
	rm_rf(tree, &ignore);
	return rc < 0 ? xerr_prefix(e, "making the filesystem of %s", dev) : 0;
}

/* Copies [from, to) of the image onto the device at the same offsets. */
static int copy_range(int in, int out, off_t from, off_t to, const char *dev, struct xerr *e)
{
	static char chunk[1 << 20];

	while (from < to) {
		size_t want = (size_t)(to - from) < sizeof(chunk) ? (size_t)(to - from) : sizeof(chunk);
		ssize_t n = pread(in, chunk, want, from);

		if (n <= 0)
			return xerr_errno(e, XERR_IO, "cannot read the root filesystem image");
		if (pwrite(out, chunk, (size_t)n, from) != n)
			return xerr_errno(e, XERR_IO, "cannot write %s", dev);
		from += n;
	}
	return 0;
}

/* The busybox root filesystem comes made (busybox.ext4, from image build):
 * copied onto the LV whole, holes as zeros (the LV may hold an old one's
 * bytes), and grown to the LV by resize2fs, where unpacking the tarball and
 * mkfs.ext4 -d took most of a second in a dom0 under TCG. Its first block
 * goes last, so a copy cut short never looks like a filesystem to the next
 * try (has_filesystem). The guest's name reaches it on its kernel's command
 * line, not in its files. */
static int rootfs_copy(const char *image, const char *dev, struct xerr *e)
{
	_cleanup_close_ int in = open(image, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	struct spawn_result r;
	struct stat st;
	off_t dev_size, head = 4096;

	if (in < 0 || fstat(in, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot read %s", image);
	out = open(dev, O_WRONLY | O_CLOEXEC);
	if (out < 0 || (dev_size = lseek(out, 0, SEEK_END)) < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", dev);
	if (st.st_size > dev_size)
		return xerr_set(e, XERR_USAGE,
				"the busybox root filesystem needs %lld MiB; the disk has %lld",
				(long long)(st.st_size >> 20), (long long)(dev_size >> 20));
	if (st.st_size < head)
		return xerr_set(e, XERR_FAIL, "%s is too short for a filesystem", image);
	if (copy_range(in, out, head, st.st_size, dev, e) < 0)
		return -1;
	if (fdatasync(out) < 0)
		return xerr_errno(e, XERR_IO, "cannot write %s", dev);
	if (copy_range(in, out, 0, head, dev, e) < 0)
		return -1;
	if (fdatasync(out) < 0)
		return xerr_errno(e, XERR_IO, "cannot write %s", dev);
	if (agent_cmd((char *[]){ "resize2fs", (char *)dev, NULL }, 0, 300, &r, e) < 0)
		return xerr_prefix(e, "growing the root filesystem");
	spawn_result_free(&r);
	return 0;
}

/* libxl unpacks a bzImage in the dom0 at every create of a PV or PVH
 * guest: 8 of the 9 s a create took under TCG. Images carry the kit's
 * kernel unpacked beside it (recipe 3 on); an older image keeps vmlinuz.
 * HVM guests keep the bzImage: their device model boots that. */
static char *cfg_kernel_unpacked(const char *cfg, const char *type)
{
	static const char packed[] = "\nkernel = \"" AGENT_GUEST_DIR "/vmlinuz\"\n";
	static const char unpacked[] = "\nkernel = \"" AGENT_GUEST_DIR "/vmlinux\"\n";
	_cleanup_free_ char *elf = agent_path(AGENT_GUEST_DIR "/vmlinux");
	const char *at = strstr(cfg, packed);

	if (!strcmp(type, "hvm") || !at || !path_exists(elf))
		return xstrdup(cfg);
	return xasprintf("%.*s%s%s", (int)(at - cfg), cfg, unpacked, at + strlen(packed));
}

/* The kept config is what `guest.start` and `xl migrate` use again, so the
 * paging choice and the kernel go into it. */
static int cfg_write(const char *name, const char *cfg, const char *type, bool hap_off,
		     char **path, struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(AGENT_CFG_DIR);
	_cleanup_free_ char *kernel = cfg_kernel_unpacked(cfg, type);
	_cleanup_free_ char *text = hap_off ? xasprintf("%shap = 0\n", kernel) : xstrdup(kernel);

	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	*path = xasprintf("%s/%s.cfg", dir, name);
	return file_write_atomic(*path, text, strlen(text), 0644, e);
}

/* Created paused, so the console copy starts before the guest prints. */
int domain_start(const char *name, const char *cfg_path, int64_t *domid, struct xerr *e)
{
	char *argv[] = { "xl", "create", "-p", (char *)cfg_path, NULL };
	struct spawn_result r;
	bool attached = false;

	/* The config may name xlab's scripts (`hotplug: xen` and configs from
	 * before them name none): here even if storage.init ran an older agent. */
	if (hotplug_scripts_ensure(e) < 0)
		return -1;

	/* libxl gives the disk hotplug script a fixed time; on a loaded TCG host
	 * it can run out ("unable to add disk devices"). libxl has destroyed the
	 * half-made domain by then, so trying again is safe. */
	for (int tries = 1;; tries++) {
		const char *err;
		size_t len;

		if (agent_cmd(argv, CMD_ANY_EXIT, 300, &r, e) < 0)
			return -1;
		if (r.status == 0)
			break;
		err = r.err ? r.err : "";
		if (tries < 3 && strstr(err, "unable to add disk devices")) {
			fprintf(stderr, "xlab-agent: %s: disk hotplug timed out, again\n", name);
			spawn_result_free(&r);
			sleep(2);
			continue;
		}
		len = strlen(err);
		xerr_set(e, XERR_FAIL, "xl create %s failed (exit %d): %s", cfg_path, r.status,
			 len > 800 ? err + len - 800 : err);
		spawn_result_free(&r);
		return -1;
	}
	spawn_result_free(&r);
	if (domain_domid(name, domid, e) < 0 ||
	    console_capture_start(name, *domid, true, &attached, e) < 0) {
		struct xerr ignore = { 0 };

		domain_destroy(name, &ignore);
		return -1;
	}
	/* Without word from the console client, leave it a moment to attach:
	 * the first lines are the kernel's. */
	if (!attached)
		usleep(300 * 1000);
	if (agent_cmd((char *[]){ "xl", "unpause", (char *)name, NULL }, 0, 60, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

/* The guest's second LV, NAME-swap, made swap when it is new. */
static int swap_make(const char *vg, const char *name, int64_t size, struct xerr *e)
{
	_cleanup_free_ char *lv = xasprintf("%s-swap", name);
	_cleanup_free_ char *dev = NULL;
	struct json_object *lvs, *row;
	struct spawn_result r;
	bool created;

	if (lv_create(vg, lv, size, &created, e) < 0 || lv_find(vg, lv, &lvs, &row, e) < 0)
		return -1;
	dev = xstrdup(row && row_str(row, "lv_path") ? row_str(row, "lv_path") : "");
	json_object_put(lvs);
	if (!*dev)
		return xerr_set(e, XERR_FAIL, "logical volume %s/%s has no path", vg, lv);
	if (!created)
		return 0;
	if (agent_cmd((char *[]){ "mkswap", dev, NULL }, 0, 120, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

struct guest_args {
	const char *name, *vg, *rootfs, *cfg, *type;
	int64_t size;
	int64_t swap; /* bytes of NAME-swap (xvdb), 0 none */
	bool prefer_shadow;
};

static int guest_args_read(struct json_object *args, struct guest_args *g, struct xerr *e)
{
	if (arg_name(args, AGENT_ARG_NAME, &g->name, e) < 0 || arg_name(args, AGENT_ARG_VG, &g->vg, e) < 0 ||
	    arg_int(args, AGENT_ARG_SIZE_BYTES, true, 0, GUEST_SIZE_MIN, GUEST_SIZE_MAX, &g->size, e) < 0 ||
	    arg_str(args, AGENT_ARG_ROOTFS, true, &g->rootfs, e) < 0 ||
	    arg_str(args, AGENT_ARG_XL_CFG, true, &g->cfg, e) < 0 ||
	    arg_int(args, AGENT_ARG_SWAP_BYTES, false, 0, 0, GUEST_SIZE_MAX, &g->swap, e) < 0 ||
	    arg_str(args, AGENT_ARG_TYPE, false, &g->type, e) < 0 ||
	    arg_bool(args, AGENT_ARG_PREFER_SHADOW, false, &g->prefer_shadow, e) < 0)
		return -1;
	if (!g->type)
		g->type = "pv";
	if (strcmp(g->type, "pv") && strcmp(g->type, "pvh") && strcmp(g->type, "hvm"))
		return xerr_set(e, XERR_USAGE, "argument \"type\" must be pv, pvh or hvm");
	if (g->swap && g->swap < GUEST_SIZE_MIN)
		return xerr_set(e, XERR_USAGE, "argument \"swap_bytes\" is below %lld",
				(long long)GUEST_SIZE_MIN);
	if (strlen(g->cfg) > XL_CFG_MAX)
		return xerr_set(e, XERR_USAGE, "xl_cfg longer than %d bytes", XL_CFG_MAX);
	return 0;
}

/* Before any LV is made: a PVH or HVM guest on a Xen without hardware
 * virtualization or paging support fails in `xl create` with libxl's words
 * only, after its filesystem was built. *hap_off: run it on shadow paging
 * (asked for, and this Xen has both). */
static int type_supported(const struct guest_args *g, bool *hap_off, struct xerr *e)
{
	struct json_object *info, *caps;
	int rc;

	*hap_off = false;
	if (!strcmp(g->type, "pv"))
		return 0;
	if (xl_info(&info, e) < 0)
		return -1;
	rc = guest_paging_choose(json_object_object_get_ex(info, AGENT_RES_VIRT_CAPS, &caps)
					 ? json_object_get_string(caps) : NULL,
				 g->type, g->prefer_shadow, hap_off, e);
	json_object_put(info);
	return rc;
}

/* Whether the kept config (xlab's plan wrote it) makes an HVM guest. */
static bool cfg_is_hvm(const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct xerr ignore = { 0 };
	size_t len;

	return file_read_all(path, XL_CFG_MAX, &text, &len, &ignore) == 0 && text &&
	       strstr(text, "\ntype = \"hvm\"\n");
}

/* The public host key of the guest's filesystem, kept beside its config for
 * as long as the LV lives: a create that failed after the filesystem was
 * made, or whose answer was lost, still hands it back when tried again. */
static char *host_key_path(const char *name)
{
	return agent_path(AGENT_CFG_DIR "/%s.ssh_host_ed25519_key.pub", name);
}

static int host_key_keep(const char *name, bool made_fs, const char *pub, struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(AGENT_CFG_DIR);
	_cleanup_free_ char *path = host_key_path(name);

	if (pub)
		return mkdir_p(dir, 0755, e) < 0 ? -1
						 : file_write_atomic(path, pub, strlen(pub), 0644, e);
	/* A new filesystem without sshd: a key from an older one is not its. */
	if (made_fs && unlink(path) < 0 && errno != ENOENT)
		return xerr_errno(e, XERR_IO, "cannot remove %s", path);
	return 0;
}

static void host_key_add(const char *name, struct json_object *r)
{
	_cleanup_free_ char *path = host_key_path(name);
	_cleanup_free_ char *pub = NULL;
	struct xerr ignore = { 0 };
	size_t len;

	if (file_read_all(path, 4096, &pub, &len, &ignore) == 0 && pub)
		json_object_object_add(r, AGENT_RES_SSH_HOST_KEY, json_object_new_string(pub));
}

static struct json_object *already(const char *name, int64_t domid)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, AGENT_RES_ALREADY, json_object_new_boolean(true));
	json_object_object_add(r, AGENT_RES_DOMID, json_object_new_int64(domid));
	host_key_add(name, r);
	return r;
}

int op_guest_create(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_free_ char *tar = NULL, *cfg_path = NULL, *dev = NULL, *log = NULL;
	_cleanup_free_ char *host_pub = NULL;
	_cleanup_free_ char *busybox_ext4 = agent_path(AGENT_BUSYBOX_EXT4);
	struct json_object *lvs, *row, *r;
	struct guest_args g;
	int64_t domid;
	bool created, made_fs, hap_off;

	if (guest_args_read(args, &g, e) < 0 || domain_domid(g.name, &domid, e) < 0)
		return -1;
	if (domid >= 0 && domain_paused(g.name)) {
		if (domain_destroy(g.name, e) < 0)
			return xerr_prefix(e, "guest '%s' was left paused by a cut-short create",
					   g.name);
		domid = -1;
	}
	if (domid >= 0) {
		*result = already(g.name, domid);
		return 0;
	}
	if (type_supported(&g, &hap_off, e) < 0)
		return xerr_prefix(e, "guest '%s'", g.name);
	if (rootfs_resolve(g.rootfs, &tar, e) < 0 || lv_create(g.vg, g.name, g.size, &created, e) < 0)
		return xerr_prefix(e, "guest '%s'", g.name);
	/* lvcreate has just made /dev/VG/LV, and an LV lv_create found active
	 * has it, which is what lvs would report: asking it costs an LVM
	 * process (a third of a second under TCG). */
	dev = agent_path("/dev/%s/%s", g.vg, g.name);
	if (!created && !path_exists(dev)) {
		free(dev);
		dev = NULL;
		if (lv_find(g.vg, g.name, &lvs, &row, e) < 0)
			return -1;
		dev = xstrdup(row && row_str(row, "lv_path") && *row_str(row, "lv_path")
				      ? row_str(row, "lv_path") : "");
		json_object_put(lvs);
	}
	if (!*dev)
		return xerr_set(e, XERR_FAIL, "logical volume %s/%s has no path", g.vg, g.name);
	made_fs = created || !has_filesystem(dev);
	if (made_fs && strcmp(g.rootfs, "busybox") == 0 && path_exists(busybox_ext4)) {
		if (rootfs_copy(busybox_ext4, dev, e) < 0)
			return xerr_prefix(e, "guest '%s': making the filesystem of %s", g.name, dev);
	} else if (made_fs && rootfs_make(g.name, tar, dev, g.swap > 0, &host_pub, e) < 0) {
		return xerr_prefix(e, "guest '%s'", g.name);
	}
	if (host_key_keep(g.name, made_fs, host_pub, e) < 0)
		return xerr_prefix(e, "guest '%s'", g.name);
	if (g.swap && swap_make(g.vg, g.name, g.swap, e) < 0)
		return xerr_prefix(e, "swap of guest '%s'", g.name);
	if (cfg_write(g.name, g.cfg, g.type, hap_off, &cfg_path, e) < 0 ||
	    domain_start(g.name, cfg_path, &domid, e) < 0)
		return xerr_prefix(e, "starting guest '%s'", g.name);
	log = agent_path(AGENT_LOG_DIR "/%s.console", g.name);
	r = json_object_new_object();
	json_object_object_add(r, AGENT_RES_ALREADY, json_object_new_boolean(false));
	json_object_object_add(r, AGENT_RES_DOMID, json_object_new_int64(domid));
	json_object_object_add(r, AGENT_RES_LV_PATH, json_object_new_string(dev));
	json_object_object_add(r, AGENT_RES_LV_CREATED, json_object_new_boolean(created));
	json_object_object_add(r, AGENT_RES_FS_MADE, json_object_new_boolean(made_fs));
	json_object_object_add(r, AGENT_RES_CFG, json_object_new_string(cfg_path));
	json_object_object_add(r, AGENT_RES_CONSOLE_LOG, json_object_new_string(log));
	host_key_add(g.name, r);
	*result = r;
	return 0;
}

/* Blkback lets go of the LV a moment after the domain is gone. */
static int lv_remove_retry(const char *vg, const char *name, bool *removed, struct xerr *e)
{
	for (int i = 0;; i++) {
		if (lv_remove(vg, name, removed, e) == 0)
			return 0;
		if (i == 9)
			return -1;
		xerr_clear(e);
		sleep(1);
	}
}

int op_guest_destroy(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_free_ char *cfg = NULL;
	const char *name, *vg = NULL;
	bool remove_lv, removed = false;
	int64_t domid;
	struct spawn_result r;

	if (arg_name(args, AGENT_ARG_NAME, &name, e) < 0 || arg_bool(args, AGENT_ARG_REMOVE_LV, false, &remove_lv, e) < 0)
		return -1;
	if (remove_lv && arg_name(args, AGENT_ARG_VG, &vg, e) < 0)
		return -1;
	if (domain_domid(name, &domid, e) < 0)
		return -1;
	if (domid >= 0) {
		if (agent_cmd((char *[]){ "xl", "destroy", (char *)name, NULL }, 0, 120, &r, e) < 0)
			return -1;
		spawn_result_free(&r);
	}
	if (remove_lv && lv_remove_retry(vg, name, &removed, e) < 0)
		return -1;
	if (remove_lv) {
		_cleanup_free_ char *swap = xasprintf("%s-swap", name);
		_cleanup_free_ char *key = host_key_path(name);
		bool ignored;

		if (lv_remove_retry(vg, swap, &ignored, e) < 0)
			return -1;
		if (unlink(key) < 0 && errno != ENOENT)
			return xerr_errno(e, XERR_IO, "cannot remove %s", key);
	}
	cfg = agent_path(AGENT_CFG_DIR "/%s.cfg", name);
	if (unlink(cfg) < 0 && errno != ENOENT)
		return xerr_errno(e, XERR_IO, "cannot remove %s", cfg);
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_DESTROYED, json_object_new_boolean(domid >= 0));
	json_object_object_add(*result, AGENT_RES_LV_REMOVED, json_object_new_boolean(removed));
	return 0;
}

int op_guest_list(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct spawn_result r;
	struct json_object *list;
	struct xerr ignore = { 0 };
	int rc;

	(void)args;
	if (agent_cmd((char *[]){ "xl", "list", NULL }, 0, 60, &r, e) < 0)
		return -1;
	rc = xl_list_parse(r.out ? r.out : "", &list, e);
	spawn_result_free(&r);
	if (rc < 0)
		return -1;
	/* Exact memory is a bonus: the plain table already answers. */
	if (agent_cmd((char *[]){ "xl", "list", "-l", NULL }, 0, 60, &r, &ignore) == 0) {
		xl_list_long_merge(list, r.out ? r.out : "", &ignore);
		spawn_result_free(&r);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_GUESTS, list);
	return 0;
}

/* A rebooted dom0 has no udev to activate its volume groups: the guest's
 * LV (and a shared VG's) appear only once asked. */
static int vgs_activate(struct xerr *e)
{
	struct spawn_result r;

	if (agent_cmd((char *[]){ "vgchange", "-ay", NULL }, CMD_LVM, 300, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

/* guest.start: a guest made before (its LV and the xl config guest.create
 * kept) comes back as it was, for `xlab start` after `xlab stop`. Nothing is
 * made: no LV, no filesystem, no config; a guest without a kept config was
 * never made here and is refused. */
int op_guest_start(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_free_ char *cfg = NULL;
	const char *name;
	int64_t domid;

	if (arg_name(args, AGENT_ARG_NAME, &name, e) < 0 || domain_domid(name, &domid, e) < 0)
		return -1;
	if (domid >= 0 && domain_paused(name)) {
		if (domain_destroy(name, e) < 0)
			return xerr_prefix(e, "guest '%s' was left paused by a cut-short start", name);
		domid = -1;
	}
	if (domid >= 0) {
		*result = already(name, domid);
		return 0;
	}
	cfg = agent_path(AGENT_CFG_DIR "/%s.cfg", name);
	if (!path_exists(cfg))
		return xerr_set(e, XERR_NOTFOUND,
				"guest '%s' has no kept config %s in this dom0: it was never made here",
				name, cfg);
	if (vgs_activate(e) < 0 || domain_start(name, cfg, &domid, e) < 0)
		return xerr_prefix(e, "starting guest '%s'", name);
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_ALREADY, json_object_new_boolean(false));
	json_object_object_add(*result, AGENT_RES_DOMID, json_object_new_int64(domid));
	json_object_object_add(*result, AGENT_RES_CFG, json_object_new_string(cfg));
	json_object_object_add(*result, AGENT_RES_HVM, json_object_new_boolean(cfg_is_hvm(cfg)));
	host_key_add(name, *result);
	return 0;
}
