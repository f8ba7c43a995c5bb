/* A xenstore client for the agent, speaking the wire protocol of Xen's
 * public io/xs_wire.h to xenstored's socket (or the kernel's xenbus device).
 * The agent is one static binary for any dom0, so it cannot link a dom0's
 * libxenstore; and what it asks is a handful of reads and writes, each of
 * which cost a process (`xl domid`, `xenstore-read`: 0.1-0.3 s each under
 * TCG) before. */
#ifndef XLAB_AGENT_XENSTORE_H
#define XLAB_AGENT_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The message types xlab sends (xs_wire.h's enum xsd_sockmsg_type). */
enum xs_type {
	XS_TYPE_DIRECTORY = 1,
	XS_TYPE_READ = 2,
	XS_TYPE_WRITE = 11,
	XS_TYPE_ERROR = 16,
	XS_TYPE_IS_DOMAIN_INTRODUCED = 17,
};

#define XS_HEADER_LEN 16
#define XS_PAYLOAD_MAX 4096

/* A request: header (type, req_id, tx_id 0, len) and payload, in the host's
 * byte order as xenstored reads it. -1 when the payload is too long. */
int xs_encode(enum xs_type type, uint32_t req_id, const void *payload, size_t len,
	      uint8_t out[XS_HEADER_LEN + XS_PAYLOAD_MAX], size_t *out_len);
/* A reply's header: its type, request id and payload length; -1 when the
 * length is over the protocol's limit. */
int xs_header_parse(const uint8_t in[XS_HEADER_LEN], uint32_t *type, uint32_t *req_id,
		    uint32_t *len);

struct xs_conn;

/* XERR_NOTFOUND when this machine has no xenstore (not a dom0). */
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

/* The id of the live domain called name (-1: none), from /local/domain. */
int xs_domid_by_name(struct xs_conn *x, const char *name, int64_t *domid, struct xerr *e);

#endif
