/* The controller's side of the agent protocol: run xlab-agent in a dom0 on
 * an exec channel, pushing ours first when the one there reports another
 * sha256; one JSON request per line, one JSON response per line. */
#ifndef XLAB_AGENT_CLIENT_H
#define XLAB_AGENT_CLIENT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "dom0paths.h"
#include "err.h"
#include "proto.h"
#include "sshc.h"

#define AGENT_REMOTE_PATH DOM0_AGENT_PATH

struct agent;

/* The static agent binary next to xlab (build tree) or installed; $XLAB_AGENT overrides. */
int agent_local_path(char **path, struct xerr *e);
/* Starts the agent there; when its hello reports another protocol or another
 * sha256 than local's (or it does not start), pushes local, starts it again
 * and checks it. *pushed (pushed may be NULL) says whether it pushed. */
int agent_open(struct sshc *c, const char *local, struct agent **out, bool *pushed,
	       struct xerr *e);
/* For a root disk made this run, which holds the agent its image was built
 * with (image_sha256, NULL when the image says none): started as it is
 * when that is local's (agent_open, which still checks), else local is
 * pushed without a start that would find another agent first. */
int agent_open_new_root(struct sshc *c, const char *local, const char *image_sha256,
			struct agent **out, bool *pushed, struct xerr *e);
/* Sends op with args (consumed, may be NULL) and takes its answer through the
 * protocol's codec: on success sets *result (caller puts it); the agent's
 * refusal is -1 with XERR_REMOTE (e->remote its kind) and its message. */
int agent_call(struct agent *ag, enum agent_op_id op, struct json_object *args,
	       struct json_object **result, struct xerr *e);
/* agent_call for a call that only waits (guest.wait_console): a stop request
 * (Ctrl-C) gives it up at once with XERR_INTERRUPTED instead of waiting for
 * the answer, and the session refuses every later call. */
int agent_call_abandonable(struct agent *ag, enum agent_op_id op, struct json_object *args,
			   struct json_object **result, struct xerr *e);
/* How long the agent took to hash itself for the hello (-1: unknown): the
 * whole cost of deciding that no push is needed, beyond starting it. */
int64_t agent_check_ms(const struct agent *ag);
void agent_close(struct agent *ag);

#endif
