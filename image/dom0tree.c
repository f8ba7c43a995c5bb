#include "dom0tree.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"
#include "wholeplan.h"

#define DEV_MAX 64

static int debugfs_out(const char *raw, const char *request, char **out, struct xerr *e)
{
	char *argv[] = { "debugfs", "-R", (char *)request, (char *)raw, NULL };
	struct spawn_opts so = { .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r;

	if (spawn_check(argv, &so, &r, e) < 0)
		return xerr_prefix(e, "debugfs -R '%s'", request);
	*out = r.out ? steal_ptr(r.out) : xstrdup("");
	spawn_result_free(&r);
	return 0;
}

/* rdump skips device nodes: /dev's are made again from what debugfs says
 * of each (a dom0's init mounts devtmpfs over them, but the kernel opens
 * /dev/console before it does). */
static int devices_make(const char *raw, const char *tree, struct xerr *e)
{
	_cleanup_free_ char *ls = NULL;
	struct dev_node nodes[DEV_MAX];
	size_t n;

	if (debugfs_out(raw, "ls -p /dev", &ls, e) < 0)
		return -1;
	n = debugfs_ls_devices(ls, nodes, DEV_MAX);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *req = xasprintf("stat /dev/%s", nodes[i].name);
		_cleanup_free_ char *st = NULL, *path = xasprintf("%s/dev/%s", tree, nodes[i].name);
		unsigned maj, min;

		if (debugfs_out(raw, req, &st, e) < 0)
			return -1;
		if (debugfs_devnum(st, &maj, &min) < 0)
			return xerr_set(e, XERR_FAIL, "debugfs names no device number of /dev/%s",
					nodes[i].name);
		unlink(path);
		if (mknod(path, nodes[i].mode, makedev(maj, min)) < 0 ||
		    chown(path, nodes[i].uid, nodes[i].gid) < 0 ||
		    chmod(path, nodes[i].mode & 07777) < 0)
			return xerr_errno(e, XERR_IO, "cannot make %s", path);
	}
	return 0;
}

int dom0tree_unpack(const char *qcow2, const char *work, const char *tree, int log_fd,
		    struct xerr *e)
{
	_cleanup_free_ char *raw = xasprintf("%s/root.raw", work);
	_cleanup_free_ char *req = xasprintf("rdump / %s", tree);
	char *conv[] = { "qemu-img", "convert", "-q", "-O", "raw", (char *)qcow2, raw, NULL };
	char *rdump[] = { "debugfs", "-R", req, raw, NULL };
	int rc;

	if (mkdir_p(tree, 0755, e) < 0 || spawn_logged(conv, NULL, log_fd, e) < 0 ||
	    spawn_logged(rdump, NULL, log_fd, e) < 0)
		return xerr_prefix(e, "unpacking %s", qcow2);
	rc = devices_make(raw, tree, e);
	unlink(raw);
	return rc < 0 ? xerr_prefix(e, "unpacking %s", qcow2) : 0;
}

int dom0tree_pack(const char *tree, const char *work, const char *size, const char *out_qcow2,
		  int log_fd, struct xerr *e)
{
	_cleanup_free_ char *raw = xasprintf("%s/root.raw", work);
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", "xlab-root", "-m", "1", "-d",
			 (char *)tree, raw, (char *)size, NULL };
	char *conv[] = { "qemu-img", "convert", "-q", "-O", "qcow2", raw, (char *)out_qcow2,
			 NULL };
	int rc = spawn_logged(mkfs, NULL, log_fd, e) < 0 || spawn_logged(conv, NULL, log_fd, e) < 0 ?
			 -1 :
			 0;

	unlink(raw);
	return rc < 0 ? xerr_prefix(e, "packing the dom0 root") : 0;
}
