/* The controller's end of the xlab-agent protocol (agents/proto.h): one JSON
 * request line out, one JSON response line back, over an ssh exec channel. */
#include "agent_client.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "util.h"
#include "version.h"

#define AGENT_PROTO 1
/* Guest operations (install, boot, wait for a console line) take minutes
 * when the dom0 itself runs under TCG. */
#define AGENT_CALL_TIMEOUT_MS (900 * 1000)

#ifndef XLAB_LIBEXECDIR
#define XLAB_LIBEXECDIR "/usr/local/libexec/xlab"
#endif

struct agent {
	struct sshc *c;
	struct sshc_chan *ch;
	int64_t next_id;
};

/* The tests point this elsewhere so they never touch the real path. */
static const char *agent_remote_path(void)
{
	const char *p = getenv("XLAB_AGENT_REMOTE");

	return p && *p ? p : AGENT_REMOTE_PATH;
}

int agent_local_path(char **path, struct xerr *e)
{
	const char *env = getenv("XLAB_AGENT");
	const char *built = XLAB_BUILD_DIR "/agents/xlab-agent";
	const char *installed = XLAB_LIBEXECDIR "/xlab-agent";

	if (env && *env) {
		if (!path_exists(env))
			return xerr_set(e, XLAB_EXIT_FAIL, "$XLAB_AGENT=%s does not exist", env);
		*path = xstrdup(env);
		return 0;
	}
	if (path_exists(built)) {
		*path = xstrdup(built);
		return 0;
	}
	if (path_exists(installed)) {
		*path = xstrdup(installed);
		return 0;
	}
	return xerr_set(e, XLAB_EXIT_FAIL,
			"xlab-agent not found (looked at %s and %s); set $XLAB_AGENT", built,
			installed);
}

/* The remote digest, or "" when there is no agent there yet. */
static int remote_sha256(struct sshc *c, const char *remote, char out[SHA256_HEX_LEN + 1],
			 struct xerr *e)
{
	const char *argv[] = { "sha256sum", remote, NULL };
	_cleanup_free_ char *stdout_text = NULL;
	int status;

	out[0] = '\0';
	if (sshc_exec(c, argv, NULL, &status, &stdout_text, NULL, e) < 0)
		return xerr_prefix(e, "checking the agent");
	if (status == 0 && strlen(stdout_text) >= SHA256_HEX_LEN) {
		memcpy(out, stdout_text, SHA256_HEX_LEN);
		out[SHA256_HEX_LEN] = '\0';
		if (!sha256_hex_valid(out))
			out[0] = '\0';
	}
	return 0;
}

int agent_ensure(struct sshc *c, const char *local, bool *pushed, struct xerr *e)
{
	const char *remote = agent_remote_path();
	char want[SHA256_HEX_LEN + 1], have[SHA256_HEX_LEN + 1];

	*pushed = false;
	if (sha256_file_hex(local, want, e) < 0)
		return xerr_prefix(e, "agent");
	if (remote_sha256(c, remote, have, e) < 0)
		return -1;
	if (strcmp(want, have) == 0)
		return 0;
	if (sshc_put(c, local, remote, 0755, e) < 0)
		return xerr_prefix(e, "pushing the agent");
	*pushed = true;
	return 0;
}

static char *request_line(int64_t id, const char *op, struct json_object *args)
{
	struct json_object *req = json_object_new_object();
	char *line;

	json_object_object_add(req, "v", json_object_new_int(AGENT_PROTO));
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "op", json_object_new_string(op));
	json_object_object_add(req, "args", args ? args : json_object_new_object());
	line = xasprintf("%s\n", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	return line;
}

static const char *obj_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

/* Turns one response line into *result or the agent's error. */
static int response_take(const char *op, int64_t id, const char *line,
			 struct json_object **result, struct xerr *e)
{
	struct json_object *resp = json_tokener_parse(line), *v, *err;
	int rc = -1;

	if (!resp || !json_object_is_type(resp, json_type_object)) {
		xerr_set(e, XLAB_EXIT_FAIL, "agent: %s: not a JSON object: %.200s", op, line);
		goto out;
	}
	if (json_object_object_get_ex(resp, "id", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) != id) {
		xerr_set(e, XLAB_EXIT_FAIL, "agent: %s: answer for request %" PRId64 ", not %" PRId64,
			 op, json_object_get_int64(v), id);
		goto out;
	}
	if (!json_object_object_get_ex(resp, "ok", &v) || !json_object_get_boolean(v)) {
		const char *msg = "failed without a message";

		if (json_object_object_get_ex(resp, "error", &err))
			msg = obj_str(err, "message", msg);
		xerr_set(e, XLAB_EXIT_FAIL, "agent: %s: %s", op, msg);
		goto out;
	}
	if (json_object_object_get_ex(resp, "result", &v) && v)
		*result = json_object_get(v);
	else
		*result = json_object_new_object();
	rc = 0;
out:
	json_object_put(resp);
	return rc;
}

int agent_call(struct agent *ag, const char *op, struct json_object *args,
	       struct json_object **result, struct xerr *e)
{
	int64_t id = ag->next_id++;
	_cleanup_free_ char *req = request_line(id, op, args);
	_cleanup_free_ char *line = NULL;

	*result = NULL;
	if (sshc_chan_write(ag->ch, req, strlen(req), e) < 0 ||
	    sshc_chan_read_line(ag->ch, &line, AGENT_CALL_TIMEOUT_MS, e) < 0)
		return xerr_prefix(e, "agent: %s", op);
	return response_take(op, id, line, result, e);
}

static int agent_start(struct sshc *c, struct agent **out, struct xerr *e)
{
	const char *argv[] = { agent_remote_path(), NULL };
	struct agent *ag = xcalloc(1, sizeof(*ag));

	ag->c = c;
	ag->next_id = 1;
	if (sshc_chan_open(c, argv, &ag->ch, e) < 0) {
		free(ag);
		return -1;
	}
	*out = ag;
	return 0;
}

/* 0: speaks our protocol; -1 with e naming what it speaks instead. */
static int agent_hello(struct agent *ag, struct xerr *e)
{
	struct json_object *res = NULL, *v;
	int proto = -1;

	if (agent_call(ag, "hello", NULL, &res, e) < 0)
		return -1;
	if (json_object_object_get_ex(res, "proto", &v))
		proto = json_object_get_int(v);
	if (proto != AGENT_PROTO)
		xerr_set(e, XLAB_EXIT_FAIL,
			 "agent protocol mismatch: xlab %s speaks v%d, the agent at %s (version %s) "
			 "speaks v%d",
			 XLAB_VERSION, AGENT_PROTO, agent_remote_path(),
			 obj_str(res, "version", "unknown"), proto);
	json_object_put(res);
	return proto == AGENT_PROTO ? 0 : -1;
}

int agent_open(struct sshc *c, const char *local, struct agent **out, struct xerr *e)
{
	struct agent *ag = NULL;
	struct xerr first = { 0 };
	bool pushed = false;

	if (agent_start(c, &ag, e) < 0)
		return -1;
	if (agent_hello(ag, &first) == 0)
		goto ok;
	agent_close(steal_ptr(ag));
	/* Missing or stale: push ours once and try again. */
	if (agent_ensure(c, local, &pushed, e) < 0)
		return -1;
	if (!pushed) {
		*e = first;
		return -1;
	}
	if (agent_start(c, &ag, e) < 0)
		return -1;
	if (agent_hello(ag, e) < 0) {
		agent_close(ag);
		return -1;
	}
ok:
	*out = ag;
	return 0;
}

void agent_close(struct agent *ag)
{
	if (!ag)
		return;
	sshc_chan_close(ag->ch);
	free(ag);
}
