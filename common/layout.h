/* Where xlab finds its own files: the agent it pushes into each dom0 and the
 * scripts an image build puts into a dom0 root. */
#ifndef XLAB_LAYOUT_H
#define XLAB_LAYOUT_H

#include <stdio.h>

#include "err.h"

struct layout {
	char *exe;       /* this program, resolved */
	char *prefix;    /* installed: the prefix found from exe; NULL: build tree */
	char *agent;     /* the static xlab-agent */
	char *images;    /* image scripts (dom0-init.sh, ...) */
	char *examples;  /* example specs */
};

/* Like git's exec-path: an xlab in PREFIX/BINDIR uses PREFIX/LIBEXECDIR/xlab
 * and PREFIX/DATADIR/xlab (so a relocated install still works); any other
 * xlab (the build tree, a test binary) uses the build and source trees it
 * was configured in. $XLAB_AGENT and $XLAB_IMAGES_SRC override. The result
 * is computed once. */
const struct layout *layout_get(void);

/* For `xlab version --paths`: each path, and whether it is there. */
void layout_print(FILE *f);

#endif
