/* xlab-agent protocol v1: one JSON request per line in, one JSON response per
 * line out. Pure code (no I/O), so the unit tests and the fuzzer reach all of
 * it without a dom0. */
#ifndef XLAB_AGENT_PROTO_H
#define XLAB_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

#define AGENT_PROTO_VERSION 1
#define AGENT_VERSION "0.1.0"
/* Requests carry an xl config at most; anything longer is not ours. */
#define AGENT_LINE_MAX (1024 * 1024)
/* Ids are JSON numbers: keep them exact in any reader (2^53). */
#define AGENT_ID_MAX ((int64_t)1 << 53)
#define AGENT_OP_MAX 63

/* Errors on the wire: the ops fail with a struct xerr whose kind travels as
 * one of these names in {"error":{"code":NAME,...}}; the controller turns the
 * name back into the kind. Kinds without a name of their own go as "efail". */
#define AGENT_ERRCODES(X)                  \
	X(XERR_FAIL, "efail")              \
	X(XERR_USAGE, "einval")            \
	X(XERR_NOTFOUND, "enoent")         \
	X(XERR_PROTO, "eproto")            \
	X(XERR_TIMEOUT, "etimeout")        \
	X(XERR_CONFLICT, "ebusy")          \
	X(XERR_IO, "eio")                  \
	X(XERR_INTERRUPTED, "eintr")

const char *agent_errc_name(enum xerr_kind kind);
/* The kind a wire name stands for; XERR_FAIL for a name this side does not know. */
enum xerr_kind agent_errc_kind(const char *name);

struct agent_req {
	int64_t id;     /* -1 when the line gave no usable id */
	char op[AGENT_OP_MAX + 1];
	struct json_object *args; /* owned; always an object */
};

/* Decodes one line (without its newline). On failure returns -1 with
 * e->kind = XERR_PROTO; req->id is still set when the id itself was valid,
 * so the error can be matched to its request. */
int agent_req_decode(const char *line, size_t len, struct agent_req *req, struct xerr *e);
void agent_req_free(struct agent_req *req);

/* Response lines, newline-terminated, malloc'd. `result` is consumed (NULL
 * gives an empty object). id < 0 is sent as null. */
char *agent_resp_ok(int64_t id, struct json_object *result);
char *agent_resp_err(int64_t id, enum xerr_kind kind, const char *message);

/* An operation: validates its own args; fills *result (an object) or returns
 * -1 with e->kind one of enum agent_errc. */
typedef int (*agent_op_fn)(struct json_object *args, struct json_object **result,
			   struct xerr *e);
struct agent_op {
	const char *name;
	agent_op_fn fn;
};

/* Decodes a line, runs the op named in it from `ops`, and returns the
 * response line. Never fails: every problem becomes an error response. */
char *agent_dispatch(const struct agent_op *ops, size_t n_ops, const char *line, size_t len);

#endif
