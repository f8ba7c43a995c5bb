/* The controller's end of the xlab-agent protocol (agents/proto.h): one JSON
 * request line out, one JSON response line back, over an ssh exec channel. */
#include "agent_client.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layout.h"
#include "proto.h"
#include "sha256.h"
#include "util.h"
#include "version.h"

/* Guest operations (install, boot, wait for a console line) take minutes
 * when the dom0 itself runs under TCG. */
#define AGENT_CALL_TIMEOUT_MS (900 * 1000)

struct agent {
	struct sshc *c;
	struct sshc_chan *ch;
	int64_t next_id;
	int64_t check_ms; /* what its hello's self-hash took in the dom0, -1 unknown */
	bool abandoned;   /* a call was given up: its answer would come to the next */
};

/* The tests point this elsewhere so they never touch the real path. */
static const char *agent_remote_path(void)
{
	const char *p = getenv("XLAB_AGENT_REMOTE");

	return p && *p ? p : AGENT_REMOTE_PATH;
}

int agent_local_path(char **path, struct xerr *e)
{
	const struct layout *l = layout_get();

	if (!path_exists(l->agent))
		return xerr_set(e, XERR_FAIL,
				"xlab-agent not found at %s (%s; `xlab version --paths` shows "
				"where xlab looks; $XLAB_AGENT overrides)",
				l->agent,
				l->prefix ? "reinstall xlab" : "build it: ninja -C the build directory");
	*path = xstrdup(l->agent);
	return 0;
}

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The digest of the agent we would push, hashed once per process: every
 * host thread of an up opens an agent from the same file. Keyed by what stat
 * says too, so a binary rebuilt under the same path is hashed again. */
static int local_sha256(const char *path, char out[SHA256_HEX_LEN + 1], struct xerr *e)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static struct {
		char path[PATH_MAX];
		struct stat st;
		char hex[SHA256_HEX_LEN + 1];
	} cache;
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0)
		return xerr_errno(e, XERR_IO, "agent: cannot stat %s", path);
	pthread_mutex_lock(&mu);
	if (strcmp(cache.path, path) == 0 && stat_same(&cache.st, &st)) {
		memcpy(out, cache.hex, sizeof(cache.hex));
		goto out;
	}
	rc = sha256_file_hex(path, out, e);
	if (rc < 0) {
		xerr_prefix(e, "agent");
		goto out;
	}
	if (strlen(path) < sizeof(cache.path)) {
		memcpy(cache.path, path, strlen(path) + 1);
		cache.st = st;
		memcpy(cache.hex, out, sizeof(cache.hex));
	}
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

int agent_call_abandonable(struct agent *ag, enum agent_op_id op, struct json_object *args,
			   struct json_object **result, struct xerr *e)
{
	int rc;

	sshc_chan_stop_abandons(ag->ch, true);
	rc = agent_call(ag, op, args, result, e);
	sshc_chan_stop_abandons(ag->ch, false);
	if (rc < 0 && e->kind == XERR_INTERRUPTED)
		ag->abandoned = true;
	return rc;
}

int agent_call(struct agent *ag, enum agent_op_id op, struct json_object *args,
	       struct json_object **result, struct xerr *e)
{
	int64_t id = ag->next_id++;
	_cleanup_free_ char *req = agent_req_encode(id, op, args);
	_cleanup_free_ char *line = NULL;

	*result = NULL;
	if (ag->abandoned)
		return xerr_set(e, XERR_INTERRUPTED, "agent: %s: an earlier call was given up",
				agent_op_name(op));
	if (sshc_chan_write(ag->ch, req, strlen(req), e) < 0 ||
	    sshc_chan_read_line(ag->ch, &line, AGENT_CALL_TIMEOUT_MS, e) < 0 ||
	    (op == AGENT_OP_HELLO ? agent_hello_decode : agent_resp_decode)(line, strlen(line), id,
									  result, e) < 0)
		return xerr_prefix(e, "agent: %s", agent_op_name(op));
	return 0;
}

static int agent_start(struct sshc *c, struct agent **out, struct xerr *e)
{
	const char *argv[] = { agent_remote_path(), NULL };
	struct agent *ag = xcalloc(1, sizeof(*ag));

	ag->c = c;
	ag->next_id = 1;
	ag->check_ms = -1;
	if (sshc_chan_open(c, argv, &ag->ch, e) < 0) {
		free(ag);
		return -1;
	}
	*out = ag;
	return 0;
}

/* What an agent says of itself. */
static const char *obj_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

struct hello {
	int proto;
	char version[32];
	/* "" when the agent could not hash its own binary. */
	char sha256[SHA256_HEX_LEN + 1];
	int64_t sha256_ms;
};

static int agent_hello(struct agent *ag, struct hello *h, struct xerr *e)
{
	struct json_object *res = NULL, *v;

	*h = (struct hello){ .proto = -1, .sha256_ms = -1 };
	if (agent_call(ag, AGENT_OP_HELLO, NULL, &res, e) < 0)
		return -1;
	if (json_object_object_get_ex(res, AGENT_RES_PROTO, &v))
		h->proto = json_object_get_int(v);
	snprintf(h->version, sizeof(h->version), "%s", obj_str(res, AGENT_RES_VERSION, "unknown"));
	snprintf(h->sha256, sizeof(h->sha256), "%s", obj_str(res, AGENT_RES_SHA256, ""));
	if (!sha256_hex_valid(h->sha256))
		h->sha256[0] = '\0';
	if (json_object_object_get_ex(res, AGENT_RES_SHA256_MS, &v) &&
	    json_object_is_type(v, json_type_int))
		h->sha256_ms = json_object_get_int64(v);
	ag->check_ms = h->sha256_ms;
	json_object_put(res);
	return 0;
}

/* pushed: the local file we pushed before this hello, or NULL. */
static int proto_mismatch(const struct hello *h, const char *pushed, struct xerr *e)
{
	return xerr_set(e, XERR_FAIL,
			"agent protocol mismatch: xlab %s speaks v%d, the agent at %s (version %s) "
			"speaks v%d%s%s",
			XLAB_VERSION, AGENT_PROTO_VERSION, agent_remote_path(), h->version, h->proto,
			pushed ? " even after pushing " : "", pushed ? pushed : "");
}

/* Starts the agent just pushed and checks that it is the one pushed. */
static int agent_start_pushed(struct sshc *c, const char *local, const char *want,
			      struct agent **out, struct xerr *e)
{
	struct agent *ag = NULL;
	struct hello h;

	if (agent_start(c, &ag, e) < 0)
		return xerr_prefix(e, "after pushing the agent");
	if (agent_hello(ag, &h, e) < 0) {
		xerr_prefix(e, "after pushing the agent");
		goto fail;
	}
	if (h.proto != AGENT_PROTO_VERSION) {
		proto_mismatch(&h, local, e);
		goto fail;
	}
	/* No digest: it could not read itself; that does not make it another agent. */
	if (h.sha256[0] && strcmp(h.sha256, want) != 0) {
		xerr_set(e, XERR_FAIL,
			 "the agent at %s has sha256 %s just after %s (sha256 %s) was pushed",
			 agent_remote_path(), h.sha256, local, want);
		goto fail;
	}
	*out = ag;
	return 0;
fail:
	agent_close(ag);
	return -1;
}

/* local (sha256 want) to the dom0, then started and checked. */
static int push_and_start(struct sshc *c, const char *local, const char *want,
			  struct agent **out, struct xerr *e)
{
	if (sshc_put(c, local, agent_remote_path(), 0755, e) < 0)
		return xerr_prefix(e, "pushing the agent");
	return agent_start_pushed(c, local, want, out, e);
}

int agent_open(struct sshc *c, const char *local, struct agent **out, bool *pushed,
	       struct xerr *e)
{
	char want[SHA256_HEX_LEN + 1];
	struct xerr ignore = { 0 };
	struct agent *ag = NULL;
	struct hello h;
	int rc;

	if (pushed)
		*pushed = false;
	if (local_sha256(local, want, e) < 0)
		return -1;
	/* The common case costs one exec channel: the agent there is ours. */
	if (agent_start(c, &ag, e) < 0)
		return -1;
	rc = agent_hello(ag, &h, &ignore);
	if (rc == 0 && h.proto == AGENT_PROTO_VERSION && strcmp(h.sha256, want) == 0) {
		*out = ag;
		return 0;
	}
	agent_close(ag);
	/* Our very binary speaking another protocol: pushing it again cannot help. */
	if (rc == 0 && strcmp(h.sha256, want) == 0)
		return proto_mismatch(&h, NULL, e);
	/* Missing (its hello failed), another build, or one that cannot hash itself. */
	if (pushed)
		*pushed = true;
	return push_and_start(c, local, want, out, e);
}

int agent_open_new_root(struct sshc *c, const char *local, const char *image_sha256,
			struct agent **out, bool *pushed, struct xerr *e)
{
	char want[SHA256_HEX_LEN + 1];

	if (local_sha256(local, want, e) < 0)
		return -1;
	if (image_sha256 && strcmp(image_sha256, want) == 0)
		return agent_open(c, local, out, pushed, e);
	if (pushed)
		*pushed = true;
	return push_and_start(c, local, want, out, e);
}

int64_t agent_check_ms(const struct agent *ag)
{
	return ag->check_ms;
}

void agent_close(struct agent *ag)
{
	if (!ag)
		return;
	sshc_chan_close(ag->ch);
	free(ag);
}
