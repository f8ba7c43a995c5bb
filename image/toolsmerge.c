#include "toolsmerge.h"

#include <string.h>
#include <unistd.h>

#include "buildroot.h"
#include "spawn.h"
#include "treeparse.h"
#include "util.h"
#include "wholeplan.h"

/* What xlab-init and the agent run, and the device model libxl starts:
 * NULL ends, "%s" is the tools' major.minor. */
const char *const tools_checked[] = {
	"/usr/sbin/xl",
	"/usr/sbin/xenstored",
	"/usr/sbin/xenconsoled",
	"/usr/lib/xen-%s/bin/xen-init-dom0",
	"/usr/bin/xenstore-read",
	"/usr/bin/xenstore-ls",
	TOOLS_QEMU,
	NULL,
};

/* xlab-init starts the daemons from the /usr/lib/xen-*\/bin that has xl,
 * as Debian lays them out; upstream puts xl and the daemons in /usr/sbin. */
static const char *const debian_names[] = { "xl", "xenstored", "xenconsoled" };

static int purge_debian(const char *tree, int log_fd, char ***purged, struct xerr *e)
{
	_cleanup_free_ char *status = xasprintf("%s/var/lib/dpkg/status", tree);
	_cleanup_free_ char *text = NULL;
	struct dpkg_facts f = { 0 };
	size_t len, n;
	char **argv;
	int rc;

	if (file_read_all(status, 0, &text, &len, e) < 0 ||
	    dpkg_status_packages(text, status, &f, e) < 0) {
		dpkg_facts_free(&f);
		return -1;
	}
	*purged = debian_xen_packages(f.packages, f.n_packages);
	dpkg_facts_free(&f);
	n = strv_len(*purged);
	if (!n)
		return 0;
	argv = xcalloc(n + 4, sizeof(char *));
	argv[0] = "dpkg";
	argv[1] = "--purge";
	/* qemu-system-xen depends on the libraries, which the tools install
	 * again under the same sonames. */
	argv[2] = "--force-depends";
	memcpy(argv + 3, *purged, n * sizeof(char *));
	rc = root_run(tree, "/", argv, NULL, log_fd, e);
	free(argv);
	return rc < 0 ? xerr_prefix(e, "purging Debian's Xen packages") : 0;
}

static int debian_links(const char *tree, const char *mm, struct xerr *e)
{
	_cleanup_free_ char *bin = xasprintf("%s/usr/lib/xen-%s/bin", tree, mm);

	if (mkdir_p(bin, 0755, e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(debian_names); i++) {
		_cleanup_free_ char *link = xasprintf("%s/%s", bin, debian_names[i]);
		_cleanup_free_ char *to = xasprintf("../../../sbin/%s", debian_names[i]);

		unlink(link);
		if (symlink(to, link) < 0)
			return xerr_errno(e, XERR_IO, "cannot link %s", link);
	}
	return 0;
}

/* The dynamic loader of the tree resolves each one in the tree: what the
 * dom0 will do at boot. */
static int libraries_check(const char *tree, const char *mm, struct xerr *e)
{
	for (const char *const *p = tools_checked; *p; p++) {
		_cleanup_free_ char *bin = xasprintf(*p, mm);
		_cleanup_free_ char *in_tree = xasprintf("%s%s", tree, bin);
		_cleanup_free_ char *out = NULL, *missing = NULL;
		char *argv[] = { "/lib64/ld-linux-x86-64.so.2", "--list", bin, NULL };
		int st;

		if (!path_exists(in_tree))
			return xerr_set(e, XERR_FAIL, "%s is not in the dom0 after the install", bin);
		st = root_capture(tree, argv, &out, e);
		if (st < 0)
			return -1;
		missing = ldd_first_missing(out);
		if (missing)
			return xerr_set(e, XERR_FAIL,
					"%s needs %s, which the dom0 of the base image lacks: build "
					"the tools without it, or base the image on one that has it",
					bin, missing);
		if (st != 0)
			return xerr_set(e, XERR_FAIL, "the dom0's loader cannot load %s: %s", bin,
					out);
	}
	return 0;
}

int tools_merge(const char *tree, const char *dist_tar, const char *mm, int log_fd,
		char ***purged, struct xerr *e)
{
	/* Debian's /lib is a link to usr/lib: it must stay one. */
	char *untar[] = { "tar", "--numeric-owner", "--keep-directory-symlink", "-xf",
			  (char *)dist_tar, "-C", (char *)tree, NULL };
	char *ldconfig[] = { "/sbin/ldconfig", NULL };

	if (purge_debian(tree, log_fd, purged, e) < 0)
		return -1;
	if (spawn_logged(untar, NULL, log_fd, e) < 0)
		return xerr_prefix(e, "installing the tools into the dom0");
	if (debian_links(tree, mm, e) < 0 || root_run(tree, "/", ldconfig, NULL, log_fd, e) < 0)
		return -1;
	return libraries_check(tree, mm, e);
}
