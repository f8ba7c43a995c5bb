/* The dom0 root of a whole Xen from source: the base's root.qcow2 with
 * Debian's Xen packages purged and the built tools installed, packed again;
 * and what its manifest says of them. image_derive.c calls these. */
#ifndef XLAB_IMAGE_WHOLE_H
#define XLAB_IMAGE_WHOLE_H

#include <json-c/json.h>

#include "err.h"
#include "xentools.h"

struct whole_root {
	char **purged;   /* Debian packages removed */
	char **packages; /* "name=version" of the new root, sorted */
	size_t n_packages;
};

/* base_qcow2 + tools (Xen mm) -> out_qcow2, working in work (removed after);
 * progress and the log like a build's. */
int whole_root_make(const char *base_qcow2, const struct xentools *tools, const char *mm,
		    const char *work, const char *out_qcow2, struct whole_root *w,
		    struct xerr *e);
void whole_root_free(struct whole_root *w);

/* The manifest's "tools": version, source, cache key, configure arguments,
 * compiler, suite, the Debian packages purged, the layout. */
struct json_object *whole_tools_json(const struct xentools *t, const struct whole_root *w,
				     const char *version, const char *source);

#endif
