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
int lab_host_connect(const struct lab_dirs *d, const char *host, const char *ip,
		     struct sshc **c, struct xerr *e);
void lab_host_target(const struct lab_dirs *d, const char *ip, const char *host_pub,
		     struct sshc_target *t);

#endif
