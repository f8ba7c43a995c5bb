/* A whole Xen from source (`image build NAME --from BASE --xen-source SRC`
 * of a version no Debian image carries): the pure decisions, tested without
 * a build. Which kind of derive, how the tools are configured, which of the
 * base's Debian packages they replace, and what the dom0 root's loader and
 * debugfs say. */
#ifndef XLAB_WHOLEPLAN_H
#define XLAB_WHOLEPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum derive_kind {
	DERIVE_HYPERVISOR, /* boot/xen.gz replaced, the base's tools kept */
	DERIVE_WHOLE,      /* hypervisor and dom0 tools, both from the source */
};

struct derive_ask {
	const char *base_tools; /* the base's Xen ("4.20.4") */
	const char *source;     /* the source's major.minor ("4.22") */
	bool tools;             /* --tools: build them even when the versions fit */
	bool hypervisor_only;   /* --hypervisor-only: never build them */
	bool force;             /* --force: a hypervisor the tools do not fit */
	bool base_has_own_tools; /* the base is a whole build already */
};

/* DERIVE_WHOLE when asked, or when the source's version is one no image
 * built from Debian carries (so there are no tools to keep); a version
 * Debian has is refused naming that image, as before, unless forced. */
int derive_kind_choose(const struct derive_ask *a, enum derive_kind *out, struct xerr *e);

/* The one image built from Debian whose Xen has major.minor v, or NULL. */
const char *recipe_for_version(const char *v);

/* An image named xen-M.N is what a spec's `xen: "M.N"` boots: its Xen must
 * be M.N. True for any other name. */
bool image_name_version_fits(const char *name, const char *version);

/* Where the tools go in the dom0: upstream's layout (xl in /usr/sbin,
 * libraries in Debian's multiarch directory) with libexec in
 * /usr/lib/xen-M.N, as Debian's own packages have it. */
#define TOOLS_LIBDIR "/usr/lib/x86_64-linux-gnu"
#define TOOLS_QEMU "/usr/libexec/xen-qemu-system-i386"
#define TOOLS_SEABIOS "/usr/share/seabios/bios-256k.bin"

/* ./configure's arguments for tools of major.minor mm (NULL-terminated,
 * strv_free): nothing the build would download (Debian's QEMU and SeaBIOS,
 * no iPXE, stubdoms, docs, OCaml, Go), C xenstored, no systemd units. */
char **tools_configure_argv(const char *mm);

/* The base's Debian packages of Xen's userland and hypervisor, which the
 * built tools replace (dpkg --purge), from its "name=version" list; the
 * libxenmisc of the old version stays, since Debian's qemu-system-xen links
 * its libxenctrl. NULL-terminated, strv_free. */
char **debian_xen_packages(char *const *packages, size_t n);

/* The first "NAME => not found" of ldd's output, allocated; NULL when every
 * library was found. */
char *ldd_first_missing(const char *ldd_out);

/* A device node of a directory, from debugfs's `ls -p DIR`. */
struct dev_node {
	char name[256];
	unsigned mode;     /* with S_IFCHR or S_IFBLK */
	unsigned uid, gid;
};
/* The character and block devices among `ls -p` lines ("/21/020666/0/0/
 * console/0/"), at most max; returns how many. */
size_t debugfs_ls_devices(const char *ls_out, struct dev_node *out, size_t max);
/* "Device major/minor number: 01:03 (hex 01:03)" of debugfs's stat. */
int debugfs_devnum(const char *stat_out, unsigned *major, unsigned *minor);

#endif
