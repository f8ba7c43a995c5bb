/* SSH to a lab host as root with the lab's key, pinning the host key xlab
 * generated for it (never trust on first use). */
#ifndef XLAB_HOSTCONN_H
#define XLAB_HOSTCONN_H

#include "err.h"
#include "lab.h"
#include "sshc.h"

/* xlab_home()/labs/LAB/hosts/HOST */
char *lab_host_dir(const struct lab_dirs *d, const char *host);
/* The pinned host key files inside a host's directory. */
char *lab_host_key_path(const char *host_dir, const char *suffix);
/* Any node of the lab (a host, or a guest with sshd) pinned to host_pub;
 * errors name it as "WHAT 'NAME' (IP)". */
int lab_connect(const struct lab_dirs *d, const char *what, const char *name, const char *ip,
		const char *host_pub, struct sshc **c, struct xerr *e);
int lab_host_connect(const struct lab_dirs *d, const char *host, const char *ip,
		     struct sshc **c, struct xerr *e);
/* A node's target, and for a lab on another server the server it is
 * reached through (t.via points to via). */
struct lab_target {
	struct sshc_target t, via;
};
void lab_host_target(const struct lab_dirs *d, const char *ip, const char *host_pub,
		     struct lab_target *lt);
/* A server's own sshd, as a lab's record says it is reached. */
void lab_via_target(const struct lab_via *via, struct sshc_target *t);

#endif
