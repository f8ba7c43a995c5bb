/* The controller's side of the agent protocol: run xlab-agent in a dom0 on
 * an exec channel, pushing ours first when the one there reports another
 * sha256; one JSON request per line, one JSON response per line. */
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
/* Starts the agent there; when its hello reports another protocol or another
 * sha256 than local's (or it does not start), pushes local, starts it again
 * and checks it. *pushed (pushed may be NULL) says whether it pushed. */
int agent_open(struct sshc *c, const char *local, struct agent **out, bool *pushed,
	       struct xerr *e);
/* Sends {"v":1,"id":N,"op":op,"args":args} (args consumed, may be NULL); on
 * {"ok":true,"result":R} sets *result (caller puts it); on {"ok":false,"error":
 * {"code","message"}} returns -1 with the agent's message. */
int agent_call(struct agent *ag, const char *op, struct json_object *args,
	       struct json_object **result, struct xerr *e);
/* How long the agent took to hash itself for the hello (-1: unknown): the
 * whole cost of deciding that no push is needed, beyond starting it. */
int64_t agent_check_ms(const struct agent *ag);
void agent_close(struct agent *ag);

#endif
