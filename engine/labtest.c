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

static void accounted_guest(struct labtest_accounted *a, const struct spec *s,
			    const struct db_guest *g, const char *host)
{
	const struct spec_guest *sg = spec_find_guest(s, g->name);
	bool here = g->host && !strcmp(g->host, host);
	/* Hand-made guests are made on the hosts' VG, never the shared one. */
	bool shared = sg && sg->shared && s->shared_vg;
	const char *vg = shared ? s->shared_vg : s->vg;

	if (here)
		strv_add(&a->domains, xstrdup(g->name));
	if (!here && !shared)
		return;
	strv_add(&a->lvs, xasprintf("%s/%s", vg, g->name));
	strv_add(&a->lvs, xasprintf("%s/%s-swap", vg, g->name));
}

void labtest_accounted_for(const struct spec *s, const struct db_guest *guests, size_t n,
			   const char *host, struct labtest_accounted *a)
{
	*a = (struct labtest_accounted){ xcalloc(1, sizeof(char *)), xcalloc(1, sizeof(char *)),
					 xcalloc(1, sizeof(char *)) };
	strv_add(&a->vgs, xstrdup(s->vg));
	if (s->shared_vg)
		strv_add(&a->vgs, xstrdup(s->shared_vg));
	for (size_t i = 0; i < n; i++)
		accounted_guest(a, s, &guests[i], host);
}

void labtest_accounted_free(struct labtest_accounted *a)
{
	strv_free(a->domains);
	strv_free(a->vgs);
	strv_free(a->lvs);
	*a = (struct labtest_accounted){ 0 };
}

/* The store's guests of the lab, read under the run's lock. */
static int accounted_get(const struct spec *s, struct run *r, const char *host,
			 struct labtest_accounted *a, struct xerr *e)
{
	struct db_guest *guests = NULL;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&r->mu);
	rc = db_guests_list(r->db, r->lab, &guests, &n, e);
	pthread_mutex_unlock(&r->mu);
	if (rc < 0)
		return -1;
	labtest_accounted_for(s, guests, n, host, a);
	db_guests_free(guests, n);
	return 0;
}

/* osstest's host checks (a test's action on a host): one host.check call. */
static int test_host_check(const struct spec_test *t, const struct spec *s, struct run *r,
			   struct agent *ag, bool *passed, char **output, struct xerr *e)
{
	struct labtest_accounted a = { 0 };
	struct agent_host_check_out o;
	struct agent_host_check_req q = { .action = t->action, .timeout_s = t->timeout_s };
	int rc = 0;

	if (!strcmp(t->action, "leak-check")) {
		if (accounted_get(s, r, t->host, &a, e) < 0)
			return -1;
		q.domains = (const char *const *)a.domains;
		q.vgs = (const char *const *)a.vgs;
		q.lvs = (const char *const *)a.lvs;
	}
	if (agent_host_check(ag, &q, &o, e) < 0)
		rc = -1;
	else {
		*passed = o.passed;
		*output = steal_ptr(o.output);
		agent_host_check_out_free(&o);
	}
	labtest_accounted_free(&a);
	return rc;
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

struct labtest {
	const struct spec *s;
	const struct plan *p;
	const struct lab_dirs *d;
	struct run *r;
	struct conn *conns;
	size_t failed;
};

static int test_do(struct labtest *lt, const struct spec_test *t, struct agent *ag,
		   bool *passed, char **output, struct check_steps *steps, struct xerr *e)
{
	if (t->run)
		return test_run_cmd(t, ag, passed, output, e);
	if (spec_test_is_host_check(t))
		return test_host_check(t, lt->s, lt->r, ag, passed, output, e);
	if (t->action)
		return test_check(t, lt->p, ag, passed, output, steps, e);
	return test_console(t, ag, passed, output, e);
}

/* One test, its result (and an action's steps) in the store. */
static int test_one(struct labtest *lt, const struct spec_test *t, struct xerr *e)
{
	const struct plan_host *ph = test_host(t, lt->p);
	_cleanup_free_ char *output = NULL;
	struct check_steps steps = { 0 };
	struct agent *ag = NULL;
	bool passed = false;
	int64_t t0 = now_ms(), ms;
	struct db_test_result res;
	int rc;

	if (!ph || conn_get(lt->conns, lt->p, ph, lt->d, &ag, e) < 0)
		return -1;
	if (test_do(lt, t, ag, &passed, &output, &steps, e) < 0) {
		check_steps_free(&steps);
		return -1;
	}
	ms = now_ms() - t0;
	res = (struct db_test_result){
		.run_id = lt->r->id,
		.name = t->name,
		.kind = test_kind(t),
		.target = t->host ? t->host : t->guest,
		.passed = passed,
		.duration_ms = ms,
		.output = output,
	};
	pthread_mutex_lock(&lt->r->mu);
	rc = db_test_result_add(lt->r->db, &res, e);
	if (rc == 0)
		rc = action_steps_store(lt->r, t->name, &steps, e);
	pthread_mutex_unlock(&lt->r->mu);
	check_steps_free(&steps);
	run_say(lt->r, NULL, "test %-24s %s (%.1f s)", t->name, passed ? "PASS" : "FAIL",
		(double)ms / 1000.0);
	if (!passed)
		lt->failed++;
	return rc;
}

int labtest_run_all(const struct spec *s, const struct plan *p, const struct lab_dirs *d,
		    struct run *r, struct xerr *e)
{
	struct labtest lt = { s, p, d, r, xcalloc(p->n_hosts, sizeof(struct conn)), 0 };
	int rc = 0;

	/* Host checks last, wherever the spec has them: a leak check looks
	 * for what the guest actions left, and Xen's log holds what they made
	 * it say. */
	for (int host_checks = 0; host_checks <= 1; host_checks++)
		for (size_t i = 0; i < s->n_tests && rc == 0; i++)
			if (spec_test_is_host_check(&s->tests[i]) == host_checks)
				rc = test_one(&lt, &s->tests[i], e);
	for (size_t i = 0; i < p->n_hosts; i++) {
		agent_close(lt.conns[i].agent);
		sshc_free(lt.conns[i].ssh);
	}
	free(lt.conns);
	if (rc == 0 && lt.failed)
		rc = xerr_set(e, XERR_FAIL, "%zu of %zu test(s) failed; `xlab report %" PRId64
				 "` shows their output", lt.failed, s->n_tests, r->id);
	return rc;
}
