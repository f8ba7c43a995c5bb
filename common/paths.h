/* Where xlab keeps its state: the results store, images and labs. */
#ifndef XLAB_PATHS_H
#define XLAB_PATHS_H

#include "err.h"

/* $XLAB_HOME, else /var/lib/xlab for root (libvirt's QEMU must read the
 * images), else $XDG_STATE_HOME/xlab (~/.local/state/xlab). Created 0755. */
int xlab_home(char **out, struct xerr *e);
/* xlab_home()/SUB..., created; e.g. xlab_dir(&p, e, "labs", "demo", NULL). */
int xlab_dir(char **out, struct xerr *e, ...) __attribute__((sentinel));

#endif
