/* Derived images: a stored image with another hypervisor. */
#ifndef XLAB_IMAGE_DERIVE_H
#define XLAB_IMAGE_DERIVE_H

#include <stdbool.h>

#include "err.h"

struct derive_opts {
	const char *name;       /* the new image */
	const char *from;       /* the stored image it is made from */
	const char *hypervisor; /* xen.gz (gzip or raw ELF), or NULL: */
	const char *xen_source; /* a xen.git tree or tarball to build it from */
	char **kconfig;         /* KEY=VALUE for that build, NULL-terminated */
	bool force;             /* unknown or unfitting version; replace NAME */
	bool tools;             /* build the dom0 tools from xen_source too */
	bool hypervisor_only;   /* never build them */
};

/* Makes store/NAME from store/FROM with boot/xen.gz replaced (built first,
 * or found built, from xen_source); a no-op when NAME already is exactly
 * that. A source of a Xen no Debian image carries (or --tools) builds the
 * dom0 tools too and installs them in a new root disk (image_whole.c). */
int image_derive(const struct derive_opts *o, struct xerr *e);

#endif
