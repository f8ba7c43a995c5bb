#include "proto.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

const char *agent_errc_name(enum xerr_kind kind)
{
	switch (kind) {
#define X(k, name)  \
	case k:     \
		return name;
		AGENT_ERRCODES(X)
#undef X
	default:
		return "efail";
	}
}

enum xerr_kind agent_errc_kind(const char *name)
{
#define X(k, n)                 \
	if (strcmp(name, n) == 0) \
		return k;
	AGENT_ERRCODES(X)
#undef X
	return XERR_FAIL;
}

static const char *const op_names[AGENT_OP_COUNT] = {
#define X(id, name) [AGENT_OP_##id] = name,
	AGENT_OPS(X)
#undef X
};

const char *agent_op_name(enum agent_op_id op)
{
	if ((unsigned)op >= AGENT_OP_COUNT)
		return "?";
	return op_names[op];
}

int agent_op_lookup(const char *name)
{
	for (int i = 0; i < AGENT_OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

static bool op_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > AGENT_OP_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '.' || s[i] == '_'))
			return false;
	return true;
}

/* Non-strict json-c accepts single quotes, bare words and trailing garbage;
 * a request is exactly one strict JSON value and optional blanks. */
static struct json_object *parse_strict(const char *line, size_t len, const char *what,
					struct xerr *e)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t used;

	if (!tok) {
		xerr_set(e, XERR_FAIL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		xerr_set(e, XERR_PROTO, "%s is not valid JSON: %s", what,
			 jerr == json_tokener_continue ? "unexpected end of line"
						       : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (; used < len; used++) {
		if (!strchr(" \t\r", line[used]) || line[used] == '\0') {
			json_object_put(o);
			xerr_set(e, XERR_PROTO, "trailing data after the request");
			return NULL;
		}
	}
	return o;
}

static int decode_id(struct json_object *o, int64_t *id, struct xerr *e)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_int))
		return xerr_set(e, XERR_PROTO, "request needs an integer \"id\"");
	n = json_object_get_int64(v);
	/* json-c saturates out-of-range numbers, which land above the limit too. */
	if (n < 0 || n >= AGENT_ID_MAX)
		return xerr_set(e, XERR_PROTO, "\"id\" must be between 0 and 2^53-1");
	*id = n;
	return 0;
}

static int decode_fields(struct json_object *o, struct agent_req *req, struct xerr *e)
{
	struct json_object *v;
	const char *op;
	size_t oplen;

	if (!json_object_object_get_ex(o, "v", &v) || !json_object_is_type(v, json_type_int))
		return xerr_set(e, XERR_PROTO, "request needs an integer \"v\"");
	if (json_object_get_int64(v) != AGENT_PROTO_VERSION)
		return xerr_set(e, XERR_PROTO, "protocol version %lld not supported (agent speaks %d)",
				(long long)json_object_get_int64(v), AGENT_PROTO_VERSION);
	if (!json_object_object_get_ex(o, "op", &v) || !json_object_is_type(v, json_type_string))
		return xerr_set(e, XERR_PROTO, "request needs a string \"op\"");
	op = json_object_get_string(v);
	oplen = (size_t)json_object_get_string_len(v);
	if (!op_name_valid(op, oplen))
		return xerr_set(e, XERR_PROTO, "\"op\" is not an operation name");
	memcpy(req->op, op, oplen + 1);
	if (!json_object_object_get_ex(o, "args", &v) || json_object_is_type(v, json_type_null)) {
		req->args = json_object_new_object();
		return 0;
	}
	if (!json_object_is_type(v, json_type_object))
		return xerr_set(e, XERR_PROTO, "\"args\" must be an object");
	req->args = json_object_get(v);
	return 0;
}

int agent_req_decode(const char *line, size_t len, struct agent_req *req, struct xerr *e)
{
	struct json_object *o;
	int rc = -1;

	*req = (struct agent_req){ .id = -1 };
	if (len > AGENT_LINE_MAX)
		return xerr_set(e, XERR_PROTO, "request longer than %d bytes", AGENT_LINE_MAX);
	o = parse_strict(line, len, "request", e);
	if (!o)
		return -1;
	if (!json_object_is_type(o, json_type_object)) {
		xerr_set(e, XERR_PROTO, "request must be a JSON object");
		goto out;
	}
	/* The id first: later errors can then name the request they answer. */
	if (decode_id(o, &req->id, e) < 0 || decode_fields(o, req, e) < 0)
		goto out;
	rc = 0;
out:
	json_object_put(o);
	if (rc < 0) {
		json_object_put(req->args);
		req->args = NULL;
	}
	return rc;
}

void agent_req_free(struct agent_req *req)
{
	json_object_put(req->args);
	req->args = NULL;
}

static char *resp_line(struct json_object *r)
{
	const char *s = json_object_to_json_string_ext(
		r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *line = xasprintf("%s\n", s);

	json_object_put(r);
	return line;
}

static struct json_object *resp_head(int64_t id, bool ok)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "v", json_object_new_int(AGENT_PROTO_VERSION));
	json_object_object_add(r, "id", id >= 0 ? json_object_new_int64(id) : NULL);
	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	return r;
}

char *agent_resp_ok(int64_t id, struct json_object *result)
{
	struct json_object *r = resp_head(id, true);

	json_object_object_add(r, "result", result ? result : json_object_new_object());
	return resp_line(r);
}

char *agent_resp_err(int64_t id, enum xerr_kind kind, const char *message)
{
	struct json_object *r = resp_head(id, false), *err = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(agent_errc_name(kind)));
	json_object_object_add(err, "message", json_object_new_string(message ? message : ""));
	json_object_object_add(r, "error", err);
	return resp_line(r);
}

char *agent_dispatch(const agent_op_fn ops[AGENT_OP_COUNT], const char *line, size_t len)
{
	struct agent_req req;
	struct json_object *result = NULL;
	struct xerr e = { 0 };
	int op;
	char *resp;

	if (agent_req_decode(line, len, &req, &e) < 0)
		return agent_resp_err(req.id, e.kind, e.msg);
	op = agent_op_lookup(req.op);
	if (op < 0 || !ops[op]) {
		xerr_set(&e, XERR_PROTO, "unknown op \"%s\"", req.op);
		resp = agent_resp_err(req.id, e.kind, e.msg);
	} else if (ops[op](req.args, &result, &e) < 0) {
		json_object_put(result);
		resp = agent_resp_err(req.id, e.kind != XERR_NONE ? e.kind : XERR_FAIL, e.msg);
	} else {
		resp = agent_resp_ok(req.id, result);
	}
	agent_req_free(&req);
	return resp;
}

char *agent_req_encode(int64_t id, enum agent_op_id op, struct json_object *args)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "v", json_object_new_int(AGENT_PROTO_VERSION));
	json_object_object_add(r, "id", json_object_new_int64(id));
	json_object_object_add(r, "op", json_object_new_string(agent_op_name(op)));
	json_object_object_add(r, "args", args ? args : json_object_new_object());
	return resp_line(r);
}

static const char *field_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The error object of a failed response: its kind on e->remote. */
static int resp_error_take(struct json_object *o, struct xerr *e)
{
	struct json_object *err;
	const char *code, *msg;

	if (!json_object_object_get_ex(o, "error", &err) ||
	    !json_object_is_type(err, json_type_object))
		return xerr_set(e, XERR_PROTO, "a failed response needs an \"error\" object");
	code = field_str(err, "code");
	msg = field_str(err, "message");
	if (!code || !msg)
		return xerr_set(e, XERR_PROTO, "\"error\" needs a string \"code\" and \"message\"");
	xerr_set(e, XERR_REMOTE, "%s", msg[0] ? msg : "failed without a message");
	e->remote = agent_errc_kind(code);
	return -1;
}

static int resp_fields_take(struct json_object *o, int64_t id, bool any_version,
			    struct json_object **result, struct xerr *e)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, "v", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 1 ||
	    (!any_version && json_object_get_int64(v) != AGENT_PROTO_VERSION))
		return xerr_set(e, XERR_PROTO, "response is not protocol version %d",
				AGENT_PROTO_VERSION);
	/* An answer without our id may be anyone's: never take it for ours. The
	 * agent sends one when it could not read our request; say what it said. */
	if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_int)) {
		char said[sizeof(e->msg)];

		if (resp_error_take(o, e) < 0 && e->kind == XERR_REMOTE) {
			memcpy(said, e->msg, sizeof(said));
			return xerr_set(e, XERR_PROTO, "the agent could not read request %lld: %s",
					(long long)id, said);
		}
		return xerr_set(e, XERR_PROTO, "response carries no request id (expected %lld)",
				(long long)id);
	}
	if (json_object_get_int64(v) != id)
		return xerr_set(e, XERR_PROTO, "answer for request %lld, not %lld",
				(long long)json_object_get_int64(v), (long long)id);
	if (!json_object_object_get_ex(o, "ok", &v) || !json_object_is_type(v, json_type_boolean))
		return xerr_set(e, XERR_PROTO, "response needs a boolean \"ok\"");
	if (!json_object_get_boolean(v))
		return resp_error_take(o, e);
	if (!json_object_object_get_ex(o, "result", &v) || !json_object_is_type(v, json_type_object))
		return xerr_set(e, XERR_PROTO, "a successful response needs a \"result\" object");
	*result = json_object_get(v);
	return 0;
}

static int resp_decode(const char *line, size_t len, int64_t id, bool any_version,
		       struct json_object **result, struct xerr *e)
{
	struct json_object *o;
	int rc;

	*result = NULL;
	if (len > AGENT_RESP_MAX)
		return xerr_set(e, XERR_PROTO, "response longer than %d bytes", AGENT_RESP_MAX);
	o = parse_strict(line, len, "response", e);
	if (!o)
		return -1;
	if (!json_object_is_type(o, json_type_object))
		rc = xerr_set(e, XERR_PROTO, "response must be a JSON object");
	else
		rc = resp_fields_take(o, id, any_version, result, e);
	json_object_put(o);
	return rc;
}

int agent_resp_decode(const char *line, size_t len, int64_t id, struct json_object **result,
		      struct xerr *e)
{
	return resp_decode(line, len, id, false, result, e);
}

int agent_hello_decode(const char *line, size_t len, int64_t id, struct json_object **result,
		       struct xerr *e)
{
	return resp_decode(line, len, id, true, result, e);
}
