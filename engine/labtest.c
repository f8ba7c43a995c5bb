#include "labtest.h"

#include <inttypes.h>
#include <string.h>

#include "agent_ops.h"
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

static int test_run_cmd(const struct spec_test *t, struct agent *ag, bool *passed, char **output,
			struct xerr *e)
{
	struct agent_run_out o;

	if (agent_run(ag, (const char *const *)t->run, t->timeout_s, &o, e) < 0)
		return -1;
	*passed = o.status == 0;
	*output = xasprintf("exit %d\n%s%s", o.status, o.out, o.err);
	agent_run_out_free(&o);
	return 0;
}

static int test_console(const struct spec_test *t, struct agent *ag, bool *passed,
			char **output, struct xerr *e)
{
	struct xerr why = { 0 };

	(void)e;
	/* Not finding the text is the test failing, not the tool. */
	*passed = agent_guest_wait_console(ag, t->guest, t->expect_console, t->timeout_s, false,
					   &why) == 0;
	*output = xstrdup(*passed ? "found" : why.msg);
	return 0;
}

/* Every step of every round of one action test. */
struct check_steps {
	struct agent_check_step *v;
	size_t n, cap;
};

static void check_steps_take(struct check_steps *s, struct agent_check_out *o)
{
	for (size_t i = 0; i < o->n_steps; i++) {
		xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));
		s->v[s->n++] = o->steps[i];
		o->steps[i].step = NULL;
	}
}

static void check_steps_free(struct check_steps *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].step);
	free(s->v);
	*s = (struct check_steps){ 0 };
}

/* One round of a test's action, one agent call: `repeat: 100` local
 * migrations in one call would outlive an agent call's time limit. */
static int test_check_round(const struct spec_test *t, const char *ip, int round,
			    struct agent *ag, bool *passed, struct buf *output,
			    struct check_steps *steps, struct xerr *e)
{
	struct agent_check_req q = { .name = t->guest, .action = t->action, .ip = ip,
				     .round = round, .rounds_of = t->repeat,
				     .timeout_s = t->timeout_s };
	struct agent_check_out o;

	if (agent_guest_check(ag, &q, &o, e) < 0)
		return -1;
	*passed = o.passed;
	buf_puts(output, o.output);
	check_steps_take(steps, &o);
	agent_check_out_free(&o);
	return 0;
}

/* osstest's guest checks (a test's action), run by the agent that holds the
 * guest; the first round that fails ends the test. */
static int test_check(const struct spec_test *t, const struct plan *p, struct agent *ag,
		      bool *passed, char **output, struct check_steps *steps, struct xerr *e)
{
	struct buf out = { 0 };
	const char *ip = "";
	int rc = 0;

	for (size_t i = 0; i < p->n_guests; i++)
		if (!strcmp(p->guests[i].spec->name, t->guest))
			ip = p->guests[i].ip;
	*passed = true;
	for (int round = 1; round <= t->repeat && *passed && rc == 0; round++)
		rc = test_check_round(t, ip, round, ag, passed, &out, steps, e);
	*output = out.data ? buf_steal(&out) : xstrdup("");
	return rc;
}

/* Each step of each round, for `xlab report`'s figures per action. */
static int action_steps_store(struct run *r, const char *test, const struct check_steps *steps,
			      struct xerr *e)
{
	for (size_t i = 0; i < steps->n; i++) {
		struct db_action_step s = {
			.run_id = r->id,
			.test = test,
			.round = steps->v[i].round,
			.step = steps->v[i].step,
			.ok = steps->v[i].ok,
			.duration_ms = steps->v[i].ms,
		};

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
		struct check_steps steps = { 0 };
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
			check_steps_free(&steps);
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
			rc = action_steps_store(r, t->name, &steps, e);
		pthread_mutex_unlock(&r->mu);
		check_steps_free(&steps);
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
