/* Images on servers (issue 23): before a host runs on a server other than
 * local, the files of its image are in that server's storage pool "xlab",
 * put there through libvirt's upload streams and read back to check them.
 *
 * In the pool, a file is a volume named by its content ("sha256-HEX"), so
 * an image derived from another shares its root volume and a file is sent
 * once whatever names it has; an image is a volume "image-NAME.json"
 * holding its manifest, written only after every file it lists was read
 * back and matched. A file volume is trusted when a manifest there lists
 * it: one an interrupted push left is sent again. */
#ifndef XLAB_SERVER_IMAGES_H
#define XLAB_SERVER_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define SERVER_POOL "xlab"
/* Where the pool is made on a server that has none. */
#define SERVER_POOL_DIR "/var/lib/libvirt/xlab"

struct push_report {
	size_t files;             /* the image's files */
	size_t files_sent;        /* of which sent now */
	bool manifest_sent;
	unsigned long long bytes; /* sent */
	double seconds;           /* sending and reading back */
	bool pool_created;
	bool up_to_date;          /* nothing was sent or written */
};

/* Puts stored image `image` on stored server `server`, verified; prints
 * each file's progress on stderr. local is refused: it uses the store. */
int server_image_push(const char *server, const char *image, struct push_report *r,
		      struct xerr *e);

/* Takes image off server: its manifest volume, then every file volume no
 * other manifest there lists (a derived image keeps its base's root; a
 * file of an older push, listed by nothing, goes too).
 * Refused while a lab that is not down has a host on that server booting
 * it. *freed: the bytes of the volumes removed. */
int server_image_rm(const char *server, const char *image, unsigned long long *freed,
		    struct xerr *e);

/* The pool volume that holds a file of that sha256, and the one that holds
 * image name's manifest (malloc'd). */
char *server_blob_volume(const char *sha256);
char *server_manifest_volume(const char *image);

#endif
