#include "image_whole.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build_int.h"
#include "dom0tree.h"
#include "hvinfo.h"
#include "toolsmerge.h"
#include "treeparse.h"
#include "util.h"
#include "wholeplan.h"

static int packages_read(const char *tree, struct whole_root *w, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/var/lib/dpkg/status", tree);
	_cleanup_free_ char *text = NULL;
	struct dpkg_facts f = { 0 };
	size_t len;

	if (file_read_all(p, 0, &text, &len, e) < 0 || dpkg_status_packages(text, p, &f, e) < 0) {
		dpkg_facts_free(&f);
		return -1;
	}
	w->packages = steal_ptr(f.packages);
	w->n_packages = f.n_packages;
	f.n_packages = 0;
	dpkg_facts_free(&f);
	return 0;
}

static void step(int64_t t0, const char *what)
{
	fprintf(stderr, "[%6.1fs] dom0 root: %s\n", (double)(now_ms() - t0) / 1000.0, what);
}

int whole_root_make(const char *base_qcow2, const struct xentools *tools, const char *mm,
		    const char *work, const char *out_qcow2, struct whole_root *w,
		    struct xerr *e)
{
	_cleanup_free_ char *tree = xasprintf("%s/tree", work);
	_cleanup_free_ char *log = xasprintf("%s/dom0-root.log", work);
	_cleanup_free_ char *kept = xasprintf("%s/dom0-root.log", tools->dir);
	_cleanup_close_ int log_fd = -1;
	int64_t t0 = now_ms();
	int rc = -1;

	if (mkdir_p(work, 0755, e) < 0)
		return -1;
	log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", log);
	step(t0, "unpacking the base's root disk (qemu-img, debugfs rdump)");
	if (dom0tree_unpack(base_qcow2, work, tree, log_fd, e) < 0)
		goto out;
	step(t0, "purging Debian's Xen packages, installing the built tools");
	if (tools_merge(tree, tools->tar, mm, log_fd, &w->purged, e) < 0 ||
	    packages_read(tree, w, e) < 0)
		goto out;
	step(t0, "every library of xl, the daemons and QEMU resolves in the dom0; packing "
		 "(mkfs.ext4 -d, qemu-img)");
	if (dom0tree_pack(tree, work, ROOT_FS_SIZE, out_qcow2, log_fd, e) < 0)
		goto out;
	step(t0, "done");
	rc = 0;
out:
	{
		struct xerr ignore = { 0 };
		_cleanup_free_ char *data = NULL;
		size_t len;

		/* Kept beside the tools' build log, the work dir goes. */
		if (file_read_all(log, 0, &data, &len, &ignore) == 0)
			file_write_atomic(kept, data, len, 0644, &ignore);
		if (rc < 0)
			xerr_prefix(e, "the dom0 root (log: %s)", kept);
		remove_tree(tree, &ignore);
	}
	return rc;
}

void whole_root_free(struct whole_root *w)
{
	strv_free(w->purged);
	for (size_t i = 0; i < w->n_packages; i++)
		free(w->packages[i]);
	free(w->packages);
}

static struct json_object *strv_json(char *const *v, size_t from)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = from; v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

struct json_object *whole_tools_json(const struct xentools *t, const struct whole_root *w,
				     const char *version, const char *source)
{
	struct json_object *o = json_object_new_object();
	_cleanup_free_ char *abs = realpath(source, NULL);
	char mm[32] = "";
	_cleanup_free_ char *libexec = NULL;

	if (!hv_major_minor(version, mm, sizeof(mm)))
		mm[0] = '\0';
	libexec = xasprintf("/usr/lib/xen-%s", mm);
	json_object_object_add(o, "version", json_object_new_string(version));
	json_object_object_add(o, "source", json_object_new_string(abs ? abs : source));
	json_object_object_add(o, "build", json_object_new_string(t->key));
	json_object_object_add(o, "configure", strv_json(t->configure, 1));
	json_object_object_add(o, "compiler", json_object_new_string(t->compiler));
	json_object_object_add(o, "suite", json_object_new_string(t->suite));
	json_object_object_add(o, "purged", strv_json(w->purged, 0));
	json_object_object_add(o, "bin", json_object_new_string("/usr/sbin, /usr/bin"));
	json_object_object_add(o, "libexec", json_object_new_string(libexec));
	json_object_object_add(o, "libdir", json_object_new_string(TOOLS_LIBDIR));
	return o;
}
