/* Servers (issue 23): the libvirt daemons labs may run on. This machine is
 * the server "local", at virt_default_uri(); others are added by name and
 * URI, and an SSH one gets its host key pinned in the store when it is
 * added (labs/servers.h says how it is checked afterwards). Placement,
 * images, VXLAN and tunnels build on these calls. */
#ifndef XLAB_ENGINE_SERVERS_H
#define XLAB_ENGINE_SERVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "lab.h"
#include "err.h"
#include "virt.h"

/* A server as `xlab server list` shows it: from the store, then measured
 * over its own libvirt connection. */
struct server_view {
	char *name, *uri;   /* uri as added (local: what virt_default_uri gives) */
	char *added;        /* ISO 8601; NULL for local */
	bool local;
	bool reachable;
	char *error;        /* why it could not be reached or measured */
	struct virt_capacity cap;
	/* Disk: cap.pool when the server has one of SERVER_POOLS running; else,
	 * for local only, the free space of the image store's directory. */
	char *disk_dir;
	unsigned long long dir_free, dir_total;
};

/* The pools whose free space `server list` reports, first found wins:
 * "xlab" (the pool later steps keep images in) and "default". */
extern const char *const server_pools[];

/* Checks name and URI, refuses a name the store has, reaches the server
 * (pinning its SSH host key for an SSH URI; *fingerprint is then that key's,
 * else NULL) and records it. Nothing is kept when any of it fails. */
int server_add(const char *name, const char *uri, char **fingerprint, struct xerr *e);
/* Every server, local first, each measured; one that cannot be reached is
 * listed as such, not an error. */
int servers_list(struct server_view **out, size_t *n, struct xerr *e);
void servers_free(struct server_view *v, size_t n);
/* Refuses local, a server the store does not have, and one a lab still
 * uses; otherwise forgets it and its pinned key. */
int server_rm(const char *name, struct xerr *e);
/* The labs (not down) that run on server (as each lab's `up` recorded it),
 * NULL-terminated: what `server rm` refuses to strand. */
int server_users(struct db *db, const char *server, char ***labs, struct xerr *e);
/* The libvirt of a stored server (local: row NULL), through its pin. */
int server_open(const char *home, const struct db_server *row, struct virt **v,
		struct xerr *e);

/* server_open of a stored server by name; XERR_NOTFOUND saying how to add
 * one the store does not have. */
int server_open_named(const char *name, struct virt **v, struct xerr *e);
/* A stored server by name: *row, or XERR_NOTFOUND saying how to add it. */
int server_get(struct db *db, const char *name, struct db_server **row, struct xerr *e);
/* How a lab on server row reaches its lab network: through the server's
 * sshd, with the login key its URI names and its pinned host key.
 * Refused for a server that is not reached over SSH. */
int server_lab_via(const char *home, const struct db_server *row, struct lab_via *via,
		   struct xerr *e);
struct place_server;
/* "local,box2" (--servers) as names, each "local" or a valid server name,
 * none twice. XERR_USAGE saying which otherwise. */
int servers_parse_list(const char *csv, char ***names, struct xerr *e);
/* Each named server measured for placement (labs/placement.h): memory its
 * libvirt says new guests may take, disk of its pool `xlab` (or
 * `default`; this machine's: the store's filesystem). A server that cannot
 * be reached is an error naming it. */
int servers_measure(char *const *names, struct place_server **out, struct xerr *e);
void servers_measure_free(struct place_server *v, size_t n);

/* The libvirt host runs on (a lab across servers: its own server's). */
int lab_host_virt_open(const struct lab_dirs *d, const char *host, const char *connect,
		       struct virt **v, struct xerr *e);
/* server_lab_via of a stored server by name. */
int server_via_named(const char *name, struct lab_via *via, struct xerr *e);
/* The libvirt of a lab's own server: its recorded server's, else connect's
 * (virt_default_uri). */
int lab_virt_open(const struct lab_dirs *d, const char *connect, struct virt **v,
		  struct xerr *e);

#endif
