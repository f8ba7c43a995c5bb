#include "experiment.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "agent_ops.h"
#include "guest_agent.h"
#include "hostconn.h"
#include "hvinfo.h"
#include "image.h"
#include "lab.h"
#include "lifecycle.h"
#include "migstat.h"
#include "paths.h"
#include "plan.h"
#include "probe.h"
#include "run.h"
#include "spec.h"
#include "stop.h"
#include "nodestate.h"
#include "util.h"

#define FIRST_REPLY_TIMEOUT_MS 20000 /* the guest answers before we move it */
#define COME_BACK_TIMEOUT_MS 60000   /* and again after, or the round failed */
#define KEY_DIR "/run/xlab-config"

struct exp_conn {
	struct sshc *ssh;
	struct agent *ag;
	bool trusted;
};

struct exp_ctx {
	struct spec *s;
	struct plan *p;
	struct lab_dirs dirs;
	struct db *db;
	struct run run;
	struct exp_conn *conns; /* one per plan host */
	char **xen;             /* per plan host: its image's Xen version, or NULL */
	char *agent_path;
	int lock; /* one experiment or up/down per lab at a time */
};


static const struct plan_host *exp_host(const struct exp_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->p->n_hosts; i++)
		if (!strcmp(x->p->hosts[i].spec->name, name))
			return &x->p->hosts[i];
	return NULL;
}

static const struct plan_guest *exp_guest(const struct exp_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->p->n_guests; i++)
		if (!strcmp(x->p->guests[i].spec->name, name))
			return &x->p->guests[i];
	return NULL;
}

/* Root's key and known_hosts from the host's config disk, for images whose
 * init does not install them yet (installing twice is harmless). */
static int host_trust(struct agent *ag, const char *host, struct xerr *e)
{
	static const char *const steps[][6] = {
		{ "install", "-d", "-m", "700", "/root/.ssh", NULL },
		{ "install", "-m", "600", KEY_DIR "/dom0_id_ed25519", "/root/.ssh/id_ed25519", NULL },
		{ "install", "-m", "644", KEY_DIR "/known_hosts", "/root/.ssh/known_hosts", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		struct agent_run_out o;
		int rc = 0;

		if (agent_run(ag, steps[i], 0, &o, e) < 0)
			return -1;
		if (o.status != 0)
			rc = xerr_set(e, XERR_FAIL,
				      "host '%s' has no lab dom0 key (%s); it was made before "
				      "xlab supported migration: `xlab up --recreate` remakes it",
				      host, o.err);
		agent_run_out_free(&o);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int conn_get(struct exp_ctx *x, const struct plan_host *ph, struct agent **ag,
		    struct xerr *e)
{
	struct exp_conn *c = &x->conns[ph - x->p->hosts];

	if (!c->ag) {
		if (!x->agent_path && agent_local_path(&x->agent_path, e) < 0)
			return -1;
		if (lab_host_connect(&x->dirs, ph->spec->name, ph->ip, &c->ssh, e) < 0 ||
		    agent_open(c->ssh, x->agent_path, &c->ag, NULL, e) < 0)
			return xerr_prefix(e, "host '%s'", ph->spec->name);
	}
	if (!c->trusted) {
		if (host_trust(c->ag, ph->spec->name, e) < 0)
			return -1;
		c->trusted = true;
	}
	*ag = c->ag;
	return 0;
}

/* Whether `guest` runs on host ph (per `xl list` there). */
static int guest_is_on(struct exp_ctx *x, const struct plan_host *ph, const char *guest,
		       bool *on, struct xerr *e)
{
	struct agent_domain *doms = NULL;
	struct agent *ag;
	size_t n = 0;

	*on = false;
	if (conn_get(x, ph, &ag, e) < 0 || agent_guest_list(ag, &doms, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(doms[i].name, guest))
			*on = true;
	agent_domains_free(doms, n);
	return 0;
}

/* Finds the shared VG's new LVs on `ph` (another host made them). */
static int shared_activate(struct exp_ctx *x, const struct plan_host *ph, struct xerr *e)
{
	struct agent_storage st = {
		.vg = x->s->vg,
		.data_serial = "xlab-data",
		.shared_vg = x->s->shared_vg,
		.shared_serial = PLAN_SHARED_SERIAL,
		.shared_create = false,
	};
	struct agent *ag;

	if (conn_get(x, ph, &ag, e) < 0)
		return -1;
	return agent_storage_init(ag, &st, e);
}

static int migrate_call(struct exp_ctx *x, const struct plan_host *src,
			const struct plan_host *dst, const char *guest, struct agent_migration *m,
			struct xerr *e)
{
	struct agent *ag;

	if (conn_get(x, src, &ag, e) < 0)
		return -1;
	return agent_guest_migrate(ag, guest, dst->spec->name, m, e);
}

/* The last non-empty line of xl's output: what a failed round says. */
static char *last_line(const char *text)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	return xstrndup(start, (size_t)(end - start));
}

/* Waits until the probe has a reply later than `after` (µs); its time or -1. */
static int64_t reply_after(struct probe *pr, int64_t after, int timeout_ms)
{
	int64_t deadline = probe_now_us() + (int64_t)timeout_ms * 1000;

	while (!stop_requested() && probe_now_us() < deadline) {
		int64_t last = probe_last_reply(pr);

		if (last > after)
			return last;
		usleep(5000);
	}
	return -1;
}

/* A migrated guest is up on its new host. */
static void guest_where(struct exp_ctx *x, const struct plan_guest *pg, const char *host)
{
	struct db_guest g = { .lab = x->s->lab, .host = host, .name = pg->spec->name,
			      .mac = pg->mac, .ip = pg->ip, .made_by = "spec" };
	struct xerr e = { 0 };

	if (node_record_guest(x->db, &g, NODE_EV_UP, &e) < 0)
		xerr_print(&e, "xlab: warning");
}

/* One measured migration src -> dst, recorded whatever happened. Returns -1
 * only when the tools failed (no agent): a failed migration is a result. */
static int round_run(struct exp_ctx *x, const struct spec_experiment *xp, int k, int rounds,
		     const struct plan_host *src, const struct plan_host *dst, bool *ok,
		     struct xerr *e)
{
	const struct plan_guest *pg = exp_guest(x, xp->guest);
	struct db_experiment_round r = { .run_id = x->run.id, .experiment = xp->name, .round = k,
					 .guest = xp->guest, .src = src->spec->name,
					 .dst = dst->spec->name };
	struct agent_migration m = { 0 };
	_cleanup_free_ char *msg = NULL, *target = xasprintf("%s#%d", xp->name, k);
	struct probe *pr = NULL;
	int64_t t0, t_back = -1, t_mig_end, *t = NULL;
	size_t n;
	bool on_dst = false, on_src = false;
	struct step s;
	int rc = -1;

	*ok = false;
	step_begin(&s, &x->run, "experiment.round", target);
	if (shared_activate(x, dst, e) < 0 || probe_start(pg->ip, xp->ping_ms, &pr, e) < 0)
		goto out;
	t0 = reply_after(pr, 0, FIRST_REPLY_TIMEOUT_MS);
	if (t0 < 0) {
		msg = xasprintf("guest %s (%s) did not answer ping before the migration",
				pg->spec->name, pg->ip);
	} else {
		if (migrate_call(x, src, dst, xp->guest, &m, e) < 0)
			goto out;
		t_mig_end = probe_now_us();
		t_back = m.status == 0 ? reply_after(pr, t_mig_end, COME_BACK_TIMEOUT_MS) : -1;
		if (m.status != 0)
			msg = last_line(m.output);
		else if (t_back < 0)
			msg = xasprintf("no ping reply within %d s after the migration",
					COME_BACK_TIMEOUT_MS / 1000);
		n = probe_replies(pr, &t);
		r.downtime_ms = migstat_max_gap(t, n, t0, t_back > 0 ? t_back : probe_now_us()) /
				1000;
		r.pings_answered = (int64_t)n;
		free(t);
	}
	r.pings_sent = (int64_t)probe_sent(pr);
	r.wall_ms = m.wall_ms;
	r.came_back = t_back > 0;
	if (guest_is_on(x, dst, xp->guest, &on_dst, e) < 0 ||
	    (!on_dst && guest_is_on(x, src, xp->guest, &on_src, e) < 0))
		goto out;
	r.host_after = on_dst ? dst->spec->name : on_src ? src->spec->name : NULL;
	if (!msg && !on_dst)
		msg = xasprintf("xl migrate succeeded but %s is not running on %s",
				xp->guest, dst->spec->name);
	r.ok = !msg;
	r.message = msg;
	if (r.host_after)
		guest_where(x, pg, r.host_after);
	*ok = r.ok;
	rc = db_experiment_round_add(x->db, &r, e);
out:
	probe_stop(pr);
	agent_migration_free(&m);
	if (rc == 0 && !*ok) {
		struct xerr why = { 0 };

		xerr_set(&why, XERR_FAIL, "%s", msg);
		step_end(&s, -1, &why);
	} else {
		step_end(&s, rc, e);
	}
	if (rc == 0)
		run_say(&x->run, xp->name,
			"round %d/%d %s -> %s: %s, wall %.1f s, downtime %.2f s%s%s", k,
			rounds, src->spec->name, dst->spec->name, r.ok ? "ok" : "FAILED",
			(double)r.wall_ms / 1000.0, (double)r.downtime_ms / 1000.0,
			msg ? ": " : "", msg ? msg : "");
	return rc;
}

/* Xen supports migration to the same or a newer Xen only (a PV guest did
 * move from 4.20 to 4.17 here, but nothing promises it): a placement, which
 * must not fail, brings the guest back another way. */
static bool xen_goes_back(const struct exp_ctx *x, const struct plan_host *from,
			  const struct plan_host *to)
{
	return hv_older(x->xen[to - x->p->hosts], x->xen[from - x->p->hosts]);
}

/* Brings the guest to the older `want` by booting it there again from its
 * kept config and shared LV (osstest's migrupgrade starts each try on the
 * old host the same way); unmeasured, like a placement. */
static int guest_restart_on(struct exp_ctx *x, const struct spec_experiment *xp,
			    const struct plan_host *want, const struct plan_host *other,
			    char **why, struct xerr *e)
{
	const struct plan_guest *pg = exp_guest(x, xp->guest);
	struct agent *src, *dst;
	struct xerr fail = { 0 };

	run_say(&x->run, xp->name,
		"restarting %s on %s (Xen %s) first: Xen does not support migrating from %s's "
		"newer Xen %s back (not measured)",
		xp->guest, want->spec->name, x->xen[want - x->p->hosts], other->spec->name,
		x->xen[other - x->p->hosts]);
	if (conn_get(x, other, &src, e) < 0 || conn_get(x, want, &dst, e) < 0)
		return -1;
	if (agent_guest_destroy(src, xp->guest, x->s->vg, false, e) < 0)
		return xerr_prefix(e, "stopping %s on %s", xp->guest, other->spec->name);
	if (shared_activate(x, want, e) < 0)
		return -1;
	if (agent_guest_start(dst, xp->guest, NULL, &fail) < 0 ||
	    guest_agent_wait(dst, xp->guest, pg->spec->type, &fail) < 0) {
		if (fail.kind == XERR_INTERRUPTED)
			return xerr_set(e, XERR_INTERRUPTED, "%s", fail.msg);
		*why = xasprintf("could not start %s on %s again: %s", xp->guest,
				 want->spec->name, fail.msg);
		return 0;
	}
	guest_where(x, pg, want->spec->name);
	return 0;
}

/* Puts the guest on `want` before a round, unmeasured, if it is elsewhere. */
static int guest_place(struct exp_ctx *x, const struct spec_experiment *xp,
		       const struct plan_host *want, const struct plan_host *other, char **why,
		       struct xerr *e)
{
	struct agent_migration m = { 0 };
	bool here, there;

	if (guest_is_on(x, want, xp->guest, &here, e) < 0)
		return -1;
	if (here)
		return 0;
	if (guest_is_on(x, other, xp->guest, &there, e) < 0)
		return -1;
	if (!there)
		return xerr_set(e, XERR_FAIL, "guest '%s' runs on neither '%s' nor '%s'",
				xp->guest, want->spec->name, other->spec->name);
	if (xen_goes_back(x, other, want))
		return guest_restart_on(x, xp, want, other, why, e);
	run_say(&x->run, xp->name, "moving %s from %s to %s first (not measured)", xp->guest,
		other->spec->name, want->spec->name);
	if (shared_activate(x, want, e) < 0 || migrate_call(x, other, want, xp->guest, &m, e) < 0)
		return -1;
	if (m.status == 0) {
		guest_where(x, exp_guest(x, xp->guest), want->spec->name);
	} else {
		_cleanup_free_ char *said = last_line(m.output ? m.output : "xl migrate failed");

		*why = xasprintf("could not move %s to %s first: %s", xp->guest,
				 want->spec->name, said);
	}
	agent_migration_free(&m);
	return 0;
}

/* A round that could not start because the guest would not move to its
 * source: recorded as failed, so `on_failure` decides as for any round. */
static int round_unplaced(struct exp_ctx *x, const struct spec_experiment *xp, int k,
			  int rounds, const struct plan_host *src, const struct plan_host *dst,
			  const char *why, struct xerr *e)
{
	struct db_experiment_round r = { .run_id = x->run.id, .experiment = xp->name, .round = k,
					 .guest = xp->guest, .src = src->spec->name,
					 .dst = dst->spec->name, .host_after = dst->spec->name,
					 .message = why };

	if (db_experiment_round_add(x->db, &r, e) < 0)
		return -1;
	run_say(&x->run, xp->name, "round %d/%d %s -> %s: FAILED: %s", k, rounds, src->spec->name,
		dst->spec->name, why);
	return 0;
}

static int experiment_one(struct exp_ctx *x, const struct spec_experiment *xp, int rounds,
			  size_t *failed, struct xerr *e)
{
	const struct plan_host *from = exp_host(x, xp->from), *to = exp_host(x, xp->to);

	run_say(&x->run, xp->name, "%d round(s): %s %s %s and %s, probe every %d ms", rounds,
		xp->guest, xp->back_and_forth ? "back and forth between" : "each time between",
		xp->from, xp->to, xp->ping_ms);
	if (xen_goes_back(x, from, to) || (xp->back_and_forth && xen_goes_back(x, to, from)))
		run_say(&x->run, xp->name,
			"note: rounds to an older Xen (%s) are not supported by Xen; they are "
			"measured and recorded as they come",
			xen_goes_back(x, from, to) ? xp->to : xp->from);
	for (int k = 1; k <= rounds && !stop_requested(); k++) {
		bool back = xp->back_and_forth && k % 2 == 0, ok;
		const struct plan_host *src = back ? to : from, *dst = back ? from : to;

		_cleanup_free_ char *why = NULL;

		if (guest_place(x, xp, src, dst, &why, e) < 0)
			return -1;
		ok = false;
		if (why ? round_unplaced(x, xp, k, rounds, src, dst, why, e) < 0 :
			  round_run(x, xp, k, rounds, src, dst, &ok, e) < 0)
			return -1;
		if (!ok) {
			(*failed)++;
			if (xp->on_failure == SPEC_ON_FAILURE_STOP)
				break;
		}
	}
	return 0;
}

static int exp_load(struct exp_ctx *x, const char *lab_arg, struct xerr *e)
{
	_cleanup_free_ char *lab = NULL;
	char store_id[XLAB_STORE_ID_LEN + 1];
	struct db_lab *l = NULL;
	struct spec_diags diags = { 0 };
	int rc = -1;

	if (lab_name_from_arg(lab_arg, &lab, e) < 0)
		return -1;
	x->lock = lab_lock(lab, "experiment", e);
	if (x->lock < 0 || db_open_default(&x->db, e) < 0)
		return -1;
	if (lab_require(x->db, lab, &l, e) < 0)
		return -1;
	if (lab_state_parse(l->state) != LAB_UP) {
		xerr_set(e, XERR_FAIL, "lab '%s' is not up; `xlab up FILE` first", lab);
		goto out;
	}
	if (spec_load(strchr(lab_arg, '/') || strstr(lab_arg, ".y") ? lab_arg : l->spec_path,
		      &x->s, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		goto out;
	}
	if (lab_dirs_get(lab, &x->dirs, e) < 0 || xlab_store_id(store_id, e) < 0)
		goto out;
	{
		struct plan_env env = { .state_dir = x->dirs.dir, .accel = "qemu",
					.subnet = l->subnet, .store_id = store_id };

		if (plan_build(x->s, &env, &x->p, e) < 0)
			goto out;
	}
	x->conns = xcalloc(x->p->n_hosts, sizeof(*x->conns));
	x->xen = xcalloc(x->p->n_hosts + 1, sizeof(*x->xen));
	for (size_t i = 0; i < x->p->n_hosts; i++) {
		struct image *img = NULL;
		struct xerr gone = { 0 };

		/* An image removed since `up` leaves the version unknown:
		 * placements then migrate as between equal versions. */
		if (image_open(x->p->hosts[i].image, &img, &gone) == 0)
			x->xen[i] = xstrdup(img->xen_version);
		image_free(img);
	}
	rc = 0;
out:
	spec_diags_free(&diags);
	db_lab_free(l);
	return rc;
}

static void exp_free(struct exp_ctx *x)
{
	for (size_t i = 0; x->p && i < x->p->n_hosts; i++) {
		agent_close(x->conns[i].ag);
		sshc_free(x->conns[i].ssh);
	}
	free(x->conns);
	for (size_t i = 0; x->xen && i < x->p->n_hosts; i++)
		free(x->xen[i]);
	free(x->xen);
	free(x->agent_path);
	plan_free(x->p);
	spec_free(x->s);
	lab_dirs_free(&x->dirs);
	db_close(x->db);
	lab_unlock(x->lock);
}

int experiment_run_lab(const char *lab_arg, const struct experiment_opts *o, int64_t *run_id,
		       struct xerr *e)
{
	struct exp_ctx x = { .lock = -1 };
	size_t failed = 0, total = 0;
	bool started = false;
	int rc = -1;

	if (exp_load(&x, lab_arg, e) < 0)
		goto out;
	if (o->name && !spec_find_experiment(x.s, o->name)) {
		xerr_set(e, XERR_USAGE, "lab '%s' has no experiment '%s'", x.s->lab, o->name);
		goto out;
	}
	if (!x.s->n_experiments) {
		xerr_set(e, XERR_USAGE, "%s has no experiments", x.s->path);
		goto out;
	}
	if (run_begin(&x.run, x.db, x.s->lab, "experiment", x.s->sha256, e) < 0)
		goto out;
	started = true;
	if (run_id)
		*run_id = x.run.id;
	rc = 0;
	for (size_t i = 0; i < x.s->n_experiments && rc == 0 && !stop_requested(); i++) {
		const struct spec_experiment *xp = &x.s->experiments[i];
		int rounds = o->rounds > 0 ? o->rounds : xp->rounds;

		if (o->name && strcmp(o->name, xp->name))
			continue;
		total += (size_t)rounds;
		rc = experiment_one(&x, xp, rounds, &failed, e);
	}
	if (rc == 0 && stop_requested())
		rc = xerr_set(e, XERR_INTERRUPTED, "interrupted; the rounds done are in run %" PRId64,
			      x.run.id);
	else if (rc == 0 && failed)
		rc = xerr_set(e, XERR_FAIL, "%zu round(s) failed; `xlab report %" PRId64
				 "` shows them", failed, x.run.id);
	if (rc == 0) {
		experiment_report_text(x.db, x.run.id, stdout, e);
		run_say(&x.run, NULL, "%zu round(s) ok (run %" PRId64 ")", total, x.run.id);
	}
out:
	if (started)
		run_end(&x.run, stop_requested() ? "interrupted" : rc == 0 ? "ok" : "failed",
			rc == 0 ? NULL : e->msg);
	exp_free(&x);
	return rc;
}
