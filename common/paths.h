/* Where xlab keeps its state: the results store, images and labs. */
#ifndef XLAB_PATHS_H
#define XLAB_PATHS_H

#include <stdbool.h>

#include "err.h"

/* $XLAB_HOME, else /var/lib/xlab for root (libvirt's QEMU must read the
 * images), else $XDG_STATE_HOME/xlab (~/.local/state/xlab). Created 0755. */
int xlab_home(char **out, struct xerr *e);
/* xlab_home()/SUB..., created; e.g. xlab_dir(&p, e, "labs", "demo", NULL). */
int xlab_dir(char **out, struct xerr *e, ...) __attribute__((sentinel));

/* The store's identity: a random UUID made once, kept in xlab_home()/store-id.
 * Every libvirt object the store makes carries it (in its name and its
 * metadata), so two stores on one libvirt never touch each other's. */
#define XLAB_STORE_ID_LEN 36
int xlab_store_id(char out[XLAB_STORE_ID_LEN + 1], struct xerr *e);
/* Whether s is a UUID as xlab_store_id writes it (lower-case hex). */
bool xlab_store_id_valid(const char *s);

/* The image store: $XLAB_IMAGES when set (another store's images, shared
 * read-only: the test suite's store reads the user's), else
 * xlab_home()/images. Created when it is the store's own. */
int xlab_images_dir(char **out, struct xerr *e);

#endif
