/* Commands on a server, as argv: on this machine through spawn, on another
 * over its sshd, with the login its URI names and its pinned host key. For
 * what libvirt does not do there: a lab network's VXLAN device. */
#ifndef XLAB_SERVER_SH_H
#define XLAB_SERVER_SH_H

#include "err.h"
#include "lab.h"
#include "sshc.h"

struct server_sh {
	const char *name; /* for errors: "local" or the server's name */
	struct sshc *c;   /* NULL: this machine */
};

/* via NULL or without an address: this machine. */
int server_sh_open(const char *name, const struct lab_via *via, struct server_sh *sh,
		   struct xerr *e);
/* Runs argv. With status NULL a non-zero exit is an error naming the
 * server, the command and the last line it wrote to stderr; otherwise the
 * exit status goes to *status and only a failure to run is an error. */
int server_sh_run(struct server_sh *sh, const char *const *argv, int *status, struct xerr *e);
void server_sh_close(struct server_sh *sh);

#endif
