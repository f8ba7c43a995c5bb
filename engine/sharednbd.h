/* The shared disk (storage.shared) of a lab across servers: one raw image
 * on the lab's own server, served there by qemu-nbd to every host's QEMU,
 * so the hosts on every server see one disk (the shared VG) and guests on
 * it migrate between servers. qemu-nbd is the one process that writes the
 * file. It listens on the own server's LAN address, unencrypted, as iSCSI
 * without CHAP would (docs/servers.md). Its pid file and log are under
 * /run/xlab on that server: gone with a reboot, as the daemon is. */
#ifndef XLAB_SHAREDNBD_H
#define XLAB_SHAREDNBD_H

#include "err.h"
#include "lab.h"

struct sharednbd {
	const char *server;        /* the lab's own server: "local" or its name */
	const struct lab_via *via; /* its sshd; NULL for this machine */
	const char *network;       /* the lab's network name: its files' names */
};

/* Serves image on addr:port unless a qemu-nbd of the lab already does. */
int sharednbd_serve(const struct sharednbd *s, const char *image, const char *addr, int port,
		    struct xerr *e);
/* What `up` served, recorded in the lab's directory (lab_dir/shared-nbd)
 * for `start`, which serves it again after a server's restart. */
int sharednbd_record(const char *lab_dir, const char *image, const char *addr, int port,
		     struct xerr *e);
/* 0 with *image and *addr malloc'd; 1 when nothing was recorded. */
int sharednbd_recorded(const char *lab_dir, char **image, char **addr, int *port,
		       struct xerr *e);
/* Ends the lab's qemu-nbd (none running is done) and removes its files. */
int sharednbd_stop(const struct sharednbd *s, struct xerr *e);

/* For a command after `up`: the same on the lab's own server, as its
 * records say (lab_servers()[0]), reached as the store says. Both do
 * nothing when `up` recorded no shared disk served. */
int sharednbd_lab_serve(const struct lab_dirs *d, const char *network, struct xerr *e);
int sharednbd_lab_stop(const struct lab_dirs *d, const char *network, struct xerr *e);

#endif
