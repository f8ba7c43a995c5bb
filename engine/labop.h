/* What every command that works on a whole existing lab opens first (stop,
 * start, snapshot, revert): its lock, the store, a recorded run, libvirt,
 * and the hosts and guests the store has; one close for every path out. */
#ifndef XLAB_LABOP_H
#define XLAB_LABOP_H

#include <stdbool.h>

#include "db.h"
#include "lab.h"
#include "lifecycle.h"
#include "run.h"
#include "sshc.h"
#include "virt.h"

struct labop {
	const char *lab;
	struct db *db;
	struct virt *virt; /* the lab's own server's: servers[0]'s */
	/* A lab across servers: every server's libvirt, names from
	 * lab_servers(); one server: just the lab's. */
	char **server_names;
	struct virt **servers;
	struct virt_owner own;
	struct lab_dirs dirs;
	struct run run;
	bool run_started;
	int lock;
	struct db_host *hosts;
	size_t n_hosts;
	struct db_guest *guests;
	size_t n_guests;
};

/* A lab the store does not know, or whose state the lifecycle does not let
 * ev happen in, is refused before anything is locked or recorded. The run
 * is recorded as `command` (ev's name when command is NULL). */
int labop_open(struct labop *p, const char *lab, const char *connect, enum lab_event ev,
	       const char *command, struct xerr *e);
/* Ends the run as ok or failed (with e's message), frees, unlocks. */
void labop_close(struct labop *p, int rc, const struct xerr *e);
/* The libvirt host runs on. */
struct virt *labop_host_virt(const struct labop *p, const char *host);
/* Each of the lab's servers' libvirt in turn: i from 0 while it is not NULL. */
struct virt *labop_server_virt(const struct labop *p, size_t i);
/* The host's sshd answering with its pinned key, within timeout_s. */
int labop_host_wait_ssh(struct labop *p, const struct db_host *h, int timeout_s, struct sshc **c,
			struct xerr *e);

#endif
