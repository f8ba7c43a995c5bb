/* A lab's place on this machine: its state directory, its lock and its keys. */
#ifndef XLAB_LAB_H
#define XLAB_LAB_H

#include <stddef.h>

#include "err.h"
#include "names.h"

/* How the controller reaches the lab network of a lab on another server:
 * through that server's sshd (docs/servers.md). */
struct lab_via {
	char *addr, *user;
	int port;
	char *key;      /* the login key the server's URI names */
	char *host_pub; /* the server's pinned host key, as a .pub line */
};
void lab_via_free(struct lab_via *via);

struct lab_dirs {
	char *dir;         /* xlab_home()/labs/LAB */
	char *key;         /* lab private key (0600) */
	char *pub;         /* lab public key */
	char *known_hosts; /* every host's pinned key */
	/* The server the lab runs on, as `up` recorded it: NULL for this
	 * machine; then via.addr NULL too. */
	char *server;
	struct lab_via via;
	/* A lab across servers: each host's server ("local" for this machine),
	 * as `up` recorded it, as pairs {host, server, ..., NULL}. NULL: every
	 * host is on the lab's server. */
	char **placement;
};

int lab_dirs_get(const char *lab, struct lab_dirs *d, struct xerr *e);
void lab_dirs_free(struct lab_dirs *d);

/* One `up`/`down` per lab at a time: an flock the kernel drops when the
 * holder dies. A second caller is refused at once with the holder's pid and
 * command. Returns the fd to keep open, or -1. */
int lab_lock(const char *lab, const char *command, struct xerr *e);
/* The accelerator the lab's hosts run under ("kvm" or "qemu"), as `up`
 * recorded it in the lab's directory: guests made later by hand are planned
 * for it. "qemu" when nothing was recorded (labs made before it was). */
int lab_accel_record(const struct lab_dirs *d, const char *accel, struct xerr *e);
const char *lab_accel(const struct lab_dirs *d);
/* Records (server NULL: removes) the server a lab runs on and how its lab
 * network is reached, for every later command; `up` writes it before
 * anything is made there. */
int lab_server_record(const struct lab_dirs *d, const char *server, const struct lab_via *via,
		      struct xerr *e);
void lab_unlock(int fd);
/* Records (n 0: removes) which server each host of a lab across servers
 * runs on; `up` writes it before anything is made on any of them. */
int lab_placement_record(const struct lab_dirs *d, const char *const *hosts,
			 const char *const *servers, size_t n, struct xerr *e);
/* The server host runs on: NULL for this machine. */
const char *lab_host_server(const struct lab_dirs *d, const char *host);
/* Every server the lab has hosts on, its own first; "local" for this
 * machine; NULL-terminated, malloc'd. */
char **lab_servers(const struct lab_dirs *d);

/* This store's claim on lab's libvirt objects (for the virt_* owner checks). */
int lab_owner(const char *lab, struct virt_owner *o, struct xerr *e);
/* The libvirt names of this store's lab: names_domain() and names_network(). */
int lab_domain_name(const char *lab, const char *host, char **out, struct xerr *e);
int lab_network_name(const char *lab, char **out, struct xerr *e);
struct db;
struct db_lab;
/* The error for a lab the store does not know: "no lab named 'x'; labs:
 * demo, web; did you mean 'demo'?" (exit 1). Returns -1. */
int lab_unknown(struct db *db, const char *lab, struct xerr *e);
/* The store's row of LAB (into *out when out is not NULL), or lab_unknown's
 * error: every command that takes a lab refuses one that never was. */
int lab_require(struct db *db, const char *lab, struct db_lab **out, struct xerr *e);

/* Accepts a lab name or a spec file (its `lab:`), for down/status/... */
int lab_name_from_arg(const char *arg, char **lab, struct xerr *e);

#endif
