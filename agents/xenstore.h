/* A xenstore client for the agent, speaking the wire protocol of Xen's
 * public io/xs_wire.h to xenstored's socket (or the kernel's xenbus device).
 * The agent is one static binary for any dom0, so it cannot link a dom0's
 * libxenstore; and what it asks is a handful of reads and writes, each of
 * which cost a process (`xl domid`, `xenstore-read`: 0.1-0.3 s each under
 * TCG) before. */
#ifndef XLAB_AGENT_XENSTORE_H
#define XLAB_AGENT_XENSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct xs_conn;

/* xenstored's socket, else the kernel's xenbus device. XERR_NOTFOUND when
 * this machine has neither (not a dom0). */
int xs_open(struct xs_conn **out, struct xerr *e);
void xs_close(struct xs_conn *x);
/* XERR_NOTFOUND for a path that is not there. */
int xs_read(struct xs_conn *x, const char *path, char **value, struct xerr *e);
int xs_write(struct xs_conn *x, const char *path, const char *value, struct xerr *e);
/* NULL-terminated names under path. */
int xs_directory(struct xs_conn *x, const char *path, char ***names, struct xerr *e);
/* Whether xenstored counts the domain as alive (a dead one's entries can be
 * left under /local/domain when its toolstack died with it). */
int xs_domain_introduced(struct xs_conn *x, unsigned domid, bool *yes, struct xerr *e);

/* The id of the live domain called name (-1: none), from /local/domain.
 * *unsure: a domain has the name but xenstored does not count it alive,
 * which is a dead domain's left-overs or one whose build was cut short
 * (libxl introduces a domain only once it is built): the hypervisor's list
 * (`xl domid`) tells which. */
int xs_domid_by_name(struct xs_conn *x, const char *name, int64_t *domid, bool *unsure,
		     struct xerr *e);

#endif
