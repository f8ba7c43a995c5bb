/* Parsers of what a Debian tree holds (mount table, apt sources, modules.dep,
 * lvm.conf, dpkg status), on text: no files, no processes. */
#ifndef XLAB_TREEPARSE_H
#define XLAB_TREEPARSE_H

#include <stddef.h>

#include "err.h"

/* A mountinfo field with its octal escapes (\040 for a space) undone. */
char *mountinfo_unescape(const char *s);

/* The Debian mirror of an apt sources text (deb822 .sources or one-line
 * sources.list): the first "deb" entry that is not a -security suite, or
 * NULL. */
char *apt_mirror_parse(const char *text);

/* Kernel modules with their dependencies, in load order: paths relative to
 * lib/modules/KVER. */
struct modset {
	char **rel;
	size_t n, cap;
};
/* Adds module `name` ('-' and '_' alike) and what it needs, from the texts
 * of modules.dep and modules.builtin (NULL: none); a built-in one adds
 * nothing. A module in neither, or a dependency loop, is an error. */
int modset_add(struct modset *m, const char *dep, const char *builtin, const char *name,
	       struct xerr *e);
void modset_free(struct modset *m);
/* "kernel/fs/ext4/ext4.ko.xz" -> "ext4". */
char *module_stem(const char *rel);

/* lvm.conf's text with each of keys set to value where Debian ships it
 * (commented out or set), indentation kept; a key it lacks is an error. */
int lvm_conf_edit(const char *text, const char *const keys[], size_t n, const char *value,
		  char **out, struct xerr *e);

/* What the manifest records of an image's packages. */
struct dpkg_facts {
	char *xen_version; /* upstream release of xen-hypervisor-4.*, "4.17.5" */
	char **packages;   /* "name=version" of every installed one, sorted */
	size_t n_packages;
};
/* From the text of var/lib/dpkg/status (where names it in errors). */
int dpkg_status_parse(const char *text, const char *where, struct dpkg_facts *f, struct xerr *e);
/* The same without asking for a Xen package (a dom0 whose Xen was built
 * from source has none). */
int dpkg_status_packages(const char *text, const char *where, struct dpkg_facts *f,
			 struct xerr *e);
void dpkg_facts_free(struct dpkg_facts *f);
/* "1:4.17.5+72-g01140da4e8-1" -> "4.17.5": the upstream release. */
char *xen_upstream(const char *v);

#endif
