#include "labtest.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "agent_client.h"
#include "hostconn.h"
#include "util.h"

struct conn {
	const struct plan_host *host;
	struct sshc *ssh;
	struct agent *agent;
};

static int conn_get(struct conn *conns, const struct plan *p, const struct plan_host *ph,
		    const struct lab_dirs *d, struct agent **ag, struct xerr *e)
{
	size_t i = (size_t)(ph - p->hosts);
	_cleanup_free_ char *local = NULL;

	if (conns[i].agent) {
		*ag = conns[i].agent;
		return 0;
	}
	if (agent_local_path(&local, e) < 0)
		return -1;
	if (lab_host_connect(d, ph->spec->name, ph->ip, &conns[i].ssh, e) < 0)
		return -1;
	if (agent_open(conns[i].ssh, local, &conns[i].agent, NULL, e) < 0)
		return -1;
	*ag = conns[i].agent;
	return 0;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int test_run_cmd(const struct spec_test *t, struct agent *ag, bool *passed, char **output,
			struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *argv = json_object_new_array();
	struct json_object *res = NULL, *st;

	for (char **p = t->run; *p; p++)
		json_object_array_add(argv, json_object_new_string(*p));
	json_object_object_add(a, AGENT_ARG_ARGV, argv);
	json_object_object_add(a, AGENT_ARG_TIMEOUT_S, json_object_new_int(t->timeout_s));
	if (agent_call(ag, AGENT_OP_RUN, a, &res, e) < 0)
		return -1;
	*passed = json_object_object_get_ex(res, "status", &st) && json_object_get_int(st) == 0;
	*output = xasprintf("exit %d\n%s%s", json_object_get_int(st), json_str(res, "stdout"),
			    json_str(res, "stderr"));
	json_object_put(res);
	return 0;
}

static int test_console(const struct spec_test *t, struct agent *ag, bool *passed,
			char **output, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct xerr why = { 0 };

	json_object_object_add(a, AGENT_ARG_NAME, json_object_new_string(t->guest));
	json_object_object_add(a, AGENT_ARG_TEXT, json_object_new_string(t->expect_console));
	json_object_object_add(a, AGENT_ARG_TIMEOUT_S, json_object_new_int(t->timeout_s));
	(void)e;
	/* Not finding the text is the test failing, not the tool. */
	*passed = agent_call(ag, AGENT_OP_GUEST_WAIT_CONSOLE, a, &res, &why) == 0;
	*output = xstrdup(*passed ? "found" : why.msg);
	json_object_put(res);
	return 0;
}

/* One round of a test's action, one agent call: `repeat: 100` local
 * migrations in one call would outlive an agent call's time limit. */
static int test_check_round(const struct spec_test *t, const char *ip, int round,
			    struct agent *ag, bool *passed, struct buf *output,
			    struct json_object *steps, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *v;

	json_object_object_add(a, AGENT_ARG_NAME, json_object_new_string(t->guest));
	json_object_object_add(a, AGENT_ARG_ACTION, json_object_new_string(t->action));
	json_object_object_add(a, AGENT_ARG_IP, json_object_new_string(ip));
	json_object_object_add(a, AGENT_ARG_ROUND, json_object_new_int(round));
	json_object_object_add(a, AGENT_ARG_ROUNDS_OF, json_object_new_int(t->repeat));
	json_object_object_add(a, AGENT_ARG_TIMEOUT_S, json_object_new_int(t->timeout_s));
	if (agent_call(ag, AGENT_OP_GUEST_CHECK, a, &res, e) < 0)
		return -1;
	*passed = json_object_object_get_ex(res, "passed", &v) && json_object_get_boolean(v);
	buf_puts(output, json_str(res, "output"));
	if (json_object_object_get_ex(res, "steps", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(steps,
					      json_object_get(json_object_array_get_idx(v, i)));
	json_object_put(res);
	return 0;
}

/* osstest's guest checks (a test's action), run by the agent that holds the
 * guest; the first round that fails ends the test. */
static int test_check(const struct spec_test *t, const struct plan *p, struct agent *ag,
		      bool *passed, char **output, struct json_object **steps, struct xerr *e)
{
	struct buf out = { 0 };
	const char *ip = "";
	int rc = 0;

	for (size_t i = 0; i < p->n_guests; i++)
		if (!strcmp(p->guests[i].spec->name, t->guest))
			ip = p->guests[i].ip;
	*steps = json_object_new_array();
	*passed = true;
	for (int round = 1; round <= t->repeat && *passed && rc == 0; round++)
		rc = test_check_round(t, ip, round, ag, passed, &out, *steps, e);
	*output = out.data ? buf_steal(&out) : xstrdup("");
	return rc;
}

/* Each step of each round, for `xlab report`'s figures per action. */
static int action_steps_store(struct run *r, const char *test, struct json_object *steps,
			      struct xerr *e)
{
	size_t n = steps ? json_object_array_length(steps) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(steps, i), *v;
		struct db_action_step s = { .run_id = r->id, .test = test, .step = json_str(o, "step") };

		if (json_object_object_get_ex(o, "round", &v))
			s.round = json_object_get_int(v);
		if (json_object_object_get_ex(o, "ok", &v))
			s.ok = json_object_get_boolean(v);
		if (json_object_object_get_ex(o, "ms", &v))
			s.duration_ms = json_object_get_int64(v);
		if (db_action_step_add(r->db, &s, e) < 0)
			return -1;
	}
	return 0;
}

static const char *test_kind(const struct spec_test *t)
{
	return t->run ? "run" : t->action ? "action" : "console";
}

static const struct plan_host *test_host(const struct spec_test *t, const struct plan *p)
{
	const char *host = t->host;

	if (t->guest)
		for (size_t i = 0; i < p->n_guests; i++)
			if (strcmp(p->guests[i].spec->name, t->guest) == 0)
				host = p->guests[i].host->spec->name;
	for (size_t i = 0; i < p->n_hosts; i++)
		if (host && strcmp(p->hosts[i].spec->name, host) == 0)
			return &p->hosts[i];
	return NULL;
}

int labtest_run_all(const struct spec *s, const struct plan *p, const struct lab_dirs *d,
		    struct run *r, struct xerr *e)
{
	struct conn *conns = xcalloc(p->n_hosts, sizeof(*conns));
	size_t failed = 0;
	int rc = 0;

	for (size_t i = 0; i < s->n_tests && rc == 0; i++) {
		const struct spec_test *t = &s->tests[i];
		const struct plan_host *ph = test_host(t, p);
		_cleanup_free_ char *output = NULL;
		struct json_object *steps = NULL;
		struct agent *ag = NULL;
		bool passed = false;
		int64_t t0 = now_ms(), ms;
		struct db_test_result res;

		if (!ph || conn_get(conns, p, ph, d, &ag, e) < 0) {
			rc = -1;
			break;
		}
		if ((t->run     ? test_run_cmd(t, ag, &passed, &output, e) :
		     t->action  ? test_check(t, p, ag, &passed, &output, &steps, e) :
				  test_console(t, ag, &passed, &output, e)) < 0) {
			json_object_put(steps);
			rc = -1;
			break;
		}
		ms = now_ms() - t0;
		res = (struct db_test_result){
			.run_id = r->id,
			.name = t->name,
			.kind = test_kind(t),
			.target = t->run ? t->host : t->guest,
			.passed = passed,
			.duration_ms = ms,
			.output = output,
		};
		pthread_mutex_lock(&r->mu);
		rc = db_test_result_add(r->db, &res, e);
		if (rc == 0)
			rc = action_steps_store(r, t->name, steps, e);
		pthread_mutex_unlock(&r->mu);
		json_object_put(steps);
		run_say(r, NULL, "test %-24s %s (%.1f s)", t->name, passed ? "PASS" : "FAIL",
			(double)ms / 1000.0);
		if (!passed)
			failed++;
	}
	for (size_t i = 0; i < p->n_hosts; i++) {
		agent_close(conns[i].agent);
		sshc_free(conns[i].ssh);
	}
	free(conns);
	if (rc == 0 && failed)
		rc = xerr_set(e, XERR_FAIL, "%zu of %zu test(s) failed; `xlab report %" PRId64
				 "` shows their output", failed, s->n_tests, r->id);
	return rc;
}
