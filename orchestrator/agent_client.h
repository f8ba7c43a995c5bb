/* The controller's side of the agent protocol: push xlab-agent into a dom0
 * when its sha256 differs, run it on an exec channel, one JSON request per
 * line, one JSON response per line. */
#ifndef XLAB_AGENT_CLIENT_H
#define XLAB_AGENT_CLIENT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "err.h"
#include "sshc.h"

#define AGENT_REMOTE_PATH "/var/lib/xlab-agent/xlab-agent"

struct agent;

/* The static agent binary next to xlab (build tree) or installed; $XLAB_AGENT overrides. */
int agent_local_path(char **path, struct xerr *e);
/* Pushes the agent unless the remote sha256 already matches; *pushed says which. */
int agent_ensure(struct sshc *c, const char *local, bool *pushed, struct xerr *e);
/* Starts the agent and checks its protocol version (re-pushing once on mismatch). */
int agent_open(struct sshc *c, const char *local, struct agent **out, struct xerr *e);
/* Sends {"v":1,"id":N,"op":op,"args":args} (args consumed, may be NULL); on
 * {"ok":true,"result":R} sets *result (caller puts it); on {"ok":false,"error":
 * {"code","message"}} returns -1 with the agent's message. */
int agent_call(struct agent *ag, const char *op, struct json_object *args,
	       struct json_object **result, struct xerr *e);
void agent_close(struct agent *ag);

#endif
