/* xlab up: make a lab match its spec. Every step is recorded before and after
 * it runs, and every step is idempotent, so a run cut anywhere (Ctrl-C, kill
 * -9, a crash) is finished by the next `up` or cleaned by `down`. */
#include "up.h"

#include <stdio.h>
#include <string.h>

#include "agent_ops.h"
#include "dom0paths.h"
#include "guest_agent.h"
#include "hostconn.h"
#include "labnet.h"
#include "labtest.h"
#include "lifecycle.h"
#include "nodestate.h"
#include "reconcile.h"
#include "server_images.h"
#include "placement.h"
#include "servers.h"
#include "sharednbd.h"
#include "serverspec.h"
#include "stop.h"
#include "subnet.h"
#include "up_int.h"
#include "util.h"

struct image *up_image(const struct up_ctx *ctx, const struct plan_host *ph)
{
	return ctx->imgs[ph - ctx->plan->hosts];
}

static void host_def_hash(const struct up_ctx *ctx, const struct plan_host *ph, char out[65])
{
	const struct image *img = up_image(ctx, ph);
	const struct host_inputs in = {
		.image = img->name,
		.image_manifest = img->manifest_sha256,
		.accel = ctx->accel,
		.shared_size = ctx->plan->shared_disk ? ctx->spec->shared_size : 0,
	};

	host_definition_hash(ph, &in, out);
}

static int host_record(struct up_ctx *ctx, struct host_work *w, enum node_event ev,
		       struct xerr *e)
{
	const struct image *img = up_image(ctx, w->ph);
	struct db_host h = {
		.lab = ctx->spec->lab,
		.name = w->ph->spec->name,
		.mac = w->ph->mac,
		.ip = w->ph->ip,
		.libvirt_uuid = w->uuid,
		.image = img->name,
		.image_sha256 = img->manifest_sha256,
		.definition_sha256 = w->def_hash,
	};
	int rc;

	pthread_mutex_lock(&ctx->run.mu);
	rc = node_record_host(ctx->db, &h, ev, e);
	pthread_mutex_unlock(&ctx->run.mu);
	return rc;
}

/* The recorded definition of a host that libvirt has, or NULL. */
static char *host_hash_stored(struct up_ctx *ctx, const char *name)
{
	struct db_host *hosts = NULL;
	size_t n = 0;
	const char *h;
	char *hash;
	struct xerr e = { 0 };

	if (db_hosts_list(ctx->db, ctx->spec->lab, &hosts, &n, &e) < 0)
		return NULL;
	h = host_recorded_hash(hosts, n, name);
	hash = h ? xstrdup(h) : NULL;
	db_hosts_free(hosts, n);
	return hash;
}

static int host_remove(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	if (virt_domain_remove(up_site(ctx, ph)->virt, ph->domain, &ctx->owner, e) < 0)
		return -1;
	return rm_rf(ph->dir, e);
}

static int guests_forget(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	int rc;

	pthread_mutex_lock(&ctx->run.mu);
	rc = db_guests_set_state(ctx->db, ctx->spec->lab, ph->spec->name,
				 node_state_name(NODE_REMOVED), e);
	pthread_mutex_unlock(&ctx->run.mu);
	return rc;
}

/* Defines (if needed) and starts one host. Sequential: all of it is local and
 * quick; the slow part, booting, runs in parallel afterwards. */
static int host_ensure(struct up_ctx *ctx, struct host_work *w, struct xerr *e)
{
	const struct plan_host *ph = w->ph;
	struct virt *virt = up_site(ctx, ph)->virt;
	struct virt_dom_info info;
	struct step s;

	host_def_hash(ctx, ph, w->def_hash);
	if (virt_domain_info(virt, ph->domain, &info, e) < 0)
		return -1;
	/* Never adopt, restart or rebuild a domain this store did not make for
	 * this lab, whatever its name. */
	if (info.exists && virt_owner_check("domain", ph->domain, &info.owner, &ctx->owner, e) < 0)
		return -1;
	if (info.exists) {
		_cleanup_free_ char *old = host_hash_stored(ctx, ph->spec->name);

		switch (host_action_decide(true, old, w->def_hash, ctx->o->recreate)) {
		case HOST_REFUSE:
			return xerr_set(e, XERR_CONFLICT,
					"host '%s' changed in the spec (memory, disks, address or "
					"image) and would have to be rebuilt, losing what is on it; "
					"run `xlab up --recreate` to rebuild it",
					ph->spec->name);
		case HOST_REBUILD:
			step_begin(&s, &ctx->run, "host.remove", ph->spec->name);
			if (step_end(&s, host_remove(ctx, ph, e), e) < 0)
				return -1;
			info.exists = false;
			break;
		default:
			break;
		}
	}
	if (!info.exists) {
		/* A new domain has none of the guests the store may remember. */
		if (guests_forget(ctx, ph, e) < 0)
			return -1;
		/* Files first, then the domain: a domain never exists without them. */
		step_begin(&s, &ctx->run, "host.prepare", ph->spec->name);
		if (step_end(&s, host_files_make(ctx, ph, e), e) < 0)
			return -1;
		w->new_root = true;
		step_begin(&s, &ctx->run, "host.define", ph->spec->name);
		if (step_end(&s, virt_domain_define(virt, ph->domain_xml, w->uuid, e), e) < 0)
			return -1;
	} else {
		snprintf(w->uuid, sizeof(w->uuid), "%s", info.uuid);
	}
	if (host_record(ctx, w, NODE_EV_DEFINE, e) < 0)
		return -1;
	step_begin(&s, &ctx->run, "host.start", ph->spec->name);
	if (info.exists && info.running) {
		step_skip(&s, "already running");
		return 0;
	}
	return step_end(&s, virt_domain_start(virt, ph->domain, e), e);
}

/* The host's storage as the plan has it: the lab's VG on the data disk and
 * its extra disks, and the shared VG made by the first host. */
static int storage_init(const struct up_ctx *ctx, const struct plan_host *ph, struct agent *ag,
			struct xerr *e)
{
	char **extras = xcalloc(ph->spec->n_disks + 1, sizeof(char *));
	struct agent_storage st = {
		.vg = ctx->spec->vg,
		.data_serial = "xlab-data",
		.shared_vg = ctx->spec->shared_vg,
		.shared_serial = PLAN_SHARED_SERIAL,
		.shared_create = ph == &ctx->plan->hosts[0],
	};
	int rc;

	for (size_t i = 0; i < ph->spec->n_disks; i++)
		extras[i] = xasprintf("xlab-extra%zu", i + 1);
	st.extra_serials = (const char *const *)extras;
	rc = agent_storage_init(ag, &st, e);
	strv_free(extras);
	return rc;
}

static void shared_state_set(struct up_ctx *ctx, int state)
{
	pthread_mutex_lock(&ctx->shared_mu);
	if (ctx->shared_state == 0)
		ctx->shared_state = state;
	pthread_cond_broadcast(&ctx->shared_cv);
	pthread_mutex_unlock(&ctx->shared_mu);
}

/* Hosts after the first find the shared VG only once the first made it. */
static int shared_wait(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	int state;

	if (!ctx->spec->shared_vg || ph == &ctx->plan->hosts[0])
		return 0;
	pthread_mutex_lock(&ctx->shared_mu);
	while (ctx->shared_state == 0 && !stop_requested()) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ctx->shared_cv, &ctx->shared_mu, &ts);
	}
	state = ctx->shared_state;
	pthread_mutex_unlock(&ctx->shared_mu);
	if (state < 0 || stop_requested())
		return xerr_set(e, XERR_FAIL,
				"the shared volume group '%s' was not made through host '%s'",
				ctx->spec->shared_vg, ctx->plan->hosts[0].spec->name);
	return 0;
}

static int guest_create(struct up_ctx *ctx, struct agent *ag, const struct plan_guest *pg,
			struct xerr *e)
{
	int rc;

	/* No cluster locking: one host at a time changes the shared VG. */
	if (pg->spec->shared)
		pthread_mutex_lock(&ctx->shared_mu);
	rc = guest_agent_create(ag, pg, pg->spec->shared ? ctx->spec->shared_vg : ctx->spec->vg,
				&ctx->dirs, e);
	if (pg->spec->shared)
		pthread_mutex_unlock(&ctx->shared_mu);
	return rc;
}

static void guest_record(struct up_ctx *ctx, const struct plan_guest *pg, enum node_event ev)
{
	struct db_guest g = {
		.lab = ctx->spec->lab,
		.host = pg->host->spec->name,
		.name = pg->spec->name,
		.mac = pg->mac,
		.ip = pg->ip,
		.made_by = "spec",
	};
	struct xerr e = { 0 };

	pthread_mutex_lock(&ctx->run.mu);
	if (node_record_guest(ctx->db, &g, ev, &e) < 0)
		xerr_print(&e, "xlab: warning");
	pthread_mutex_unlock(&ctx->run.mu);
}

/* Agent, storage and guests of one host, over one SSH session: the boot
 * wait's, when it left one (taken over and freed here). */
static int host_guests(struct up_ctx *ctx, struct host_work *w, struct sshc *c,
		       struct xerr *e)
{
	const struct plan_host *ph = w->ph;
	const char *name = ph->spec->name;
	struct agent *ag = NULL;
	struct step s;
	bool pushed = false;
	int rc = -1;

	/* The step is the agent's start: its hello says whether a push was needed
	 * (a root disk made this run holds its image's agent: asked only when
	 * the image says that is ours). */
	step_begin(&s, &ctx->run, "agent.push", name);
	if (!c && lab_host_connect(&ctx->dirs, name, ph->ip, &c, e) < 0)
		rc = -1;
	else if (w->new_root)
		rc = agent_open_new_root(c, ctx->agent_path, up_image(ctx, ph)->agent_sha256, &ag,
					 &pushed, e);
	else
		rc = agent_open(c, ctx->agent_path, &ag, &pushed, e);
	if (rc == 0 && !pushed) {
		_cleanup_free_ char *why = xasprintf(
			"the agent %s is ours (same sha256, checked in %" PRId64 " ms in the dom0)",
			w->new_root ? "its image holds" : "there", agent_check_ms(ag));

		step_skip(&s, why);
	} else if (step_end(&s, rc, e) < 0)
		goto out;
	rc = -1;
	if (shared_wait(ctx, ph, e) < 0)
		goto out;
	step_begin(&s, &ctx->run, "storage.init", name);
	rc = step_end(&s, storage_init(ctx, ph, ag, e), e);
	if (ctx->spec->shared_vg && ph == &ctx->plan->hosts[0])
		shared_state_set(ctx, rc == 0 ? 1 : -1);
	if (rc < 0)
		goto out;
	rc = -1;
	for (size_t i = 0; i < ctx->plan->n_guests; i++) {
		const struct plan_guest *pg = &ctx->plan->guests[i];

		if (pg->host != ph)
			continue;
		step_begin(&s, &ctx->run, "guest.create", pg->spec->name);
		if (step_end(&s, guest_create(ctx, ag, pg, e), e) < 0)
			goto out;
		guest_record(ctx, pg, NODE_EV_DEFINE);
	}
	for (size_t i = 0; i < ctx->plan->n_guests; i++) {
		const struct plan_guest *pg = &ctx->plan->guests[i];

		if (pg->host != ph)
			continue;
		step_begin(&s, &ctx->run, "guest.boot", pg->spec->name);
		if (step_end(&s, guest_agent_wait(ag, pg->spec->name, pg->spec->type, e), e) < 0) {
			guest_record(ctx, pg, NODE_EV_FAIL);
			goto out;
		}
		guest_record(ctx, pg, NODE_EV_UP);
		run_say(&ctx->run, pg->spec->name, "up on %s at %s", name, pg->ip);
	}
	rc = 0;
out:
	agent_close(ag);
	sshc_free(c);
	return rc;
}

/* Without an agent (--no-guests) nothing else waits for Xen's daemons,
 * which xlab-init starts just after sshd (images/dom0-init.sh): a fixed
 * command that returns once its marker has gone, two minutes at most. */
static int xen_daemons_wait_ssh(struct sshc *c, struct xerr *e)
{
	static const char script[] =
		"i=0; while [ -e " DOM0_XEN_STARTING " ] && [ $i -lt 1200 ]; do "
		"sleep 0.1; i=$((i + 1)); done; [ ! -e " DOM0_XEN_STARTING " ]";
	const char *const argv[] = { "sh", "-c", script, NULL };
	int status;

	if (sshc_exec(c, argv, NULL, &status, NULL, NULL, e) < 0)
		return -1;
	if (status != 0)
		return xerr_set(e, XERR_FAIL,
				"Xen's daemons have not started in the dom0 after 120 s (xlab-init's "
				"%s is still there): its console says why",
				DOM0_XEN_STARTING);
	return 0;
}

/* Ready: sshd answers, and Xen's daemons run (the agent's storage.init
 * waits for them where there is one). */
static int host_ready(struct up_ctx *ctx, struct host_work *w, struct sshc **conn,
		      struct xerr *e)
{
	if (host_wait_ready(ctx, w, conn, e) < 0)
		return -1;
	return ctx->o->no_guests ? xen_daemons_wait_ssh(*conn, e) : 0;
}

static void *host_thread(void *arg)
{
	struct host_work *w = arg;
	struct up_ctx *ctx = w->ctx;
	struct sshc *conn = NULL;
	struct step s;

	step_begin(&s, &ctx->run, "host.boot", w->ph->spec->name);
	w->rc = step_end(&s, host_ready(ctx, w, &conn, &w->err), &w->err);
	if (w->rc == 0) {
		struct xerr ignore = { 0 };

		run_say(&ctx->run, w->ph->spec->name, "Xen dom0 ready at %s", w->ph->ip);
		host_record(ctx, w, NODE_EV_UP, &ignore);
		if (!ctx->o->no_guests) {
			w->rc = host_guests(ctx, w, conn, &w->err);
			conn = NULL;
		}
	}
	sshc_free(conn);
	/* A first host that never got to the shared VG must not leave the
	 * others waiting for it. */
	if (w->ph == &ctx->plan->hosts[0])
		shared_state_set(ctx, -1);
	return NULL;
}

/* A host on another server names it; when that server stopped answering
 * (libvirt's keepalive lost it) that is the news, not the step's own error. */
static void host_failure_say(struct up_ctx *ctx, const struct host_work *w, const char *sep,
			     struct buf *msg)
{
	const struct up_site *site = up_site(ctx, w->ph);

	if (!site->row)
		buf_printf(msg, "%s%s: %s", sep, w->ph->spec->name, w->err.msg);
	else if (site->virt && !virt_alive(site->virt))
		buf_printf(msg, "%s%s: server '%s' does not answer (its libvirt connection is lost; "
			   "`xlab server list` shows when it is back, then `xlab up` again goes on): %s",
			   sep, w->ph->spec->name, site->name, w->err.msg);
	else
		buf_printf(msg, "%s%s (on server '%s'): %s", sep, w->ph->spec->name, site->name,
			   w->err.msg);
}

static int hosts_bring_up(struct up_ctx *ctx, struct xerr *e)
{
	size_t n = ctx->plan->n_hosts, failed = 0;
	struct host_work *w = xcalloc(n, sizeof(*w));
	struct buf msg = { 0 };
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		w[i].ctx = ctx;
		w[i].ph = &ctx->plan->hosts[i];
		if (host_ensure(ctx, &w[i], e) < 0) {
			free(w);
			return xerr_prefix(e, "host '%s'", ctx->plan->hosts[i].spec->name);
		}
	}
	for (size_t i = 0; i < n; i++)
		pthread_create(&w[i].thread, NULL, host_thread, &w[i]);
	for (size_t i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].rc < 0)
			host_failure_say(ctx, &w[i], failed++ ? "\n" : "", &msg);
	}
	if (failed) {
		rc = xerr_set(e, XERR_FAIL, "%zu of %zu host(s) failed:\n%s", failed, n,
			      msg.data);
	}
	buf_free(&msg);
	free(w);
	return rc;
}

/* Two labs on one subnet would share addresses and routes; libvirt
 * refuses the second network with a message naming neither lab. */
static int subnet_clash(struct db *db, const struct spec *spec, struct xerr *e)
{
	struct db_lab *labs = NULL;
	struct cidr mine, theirs;
	size_t n = 0;
	int rc = 0;

	if (cidr_parse(spec->subnet, &mine, e) < 0 || db_labs_list(db, &labs, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct xerr ignore = { 0 };

		/* A lab that is down holds no network; the pool still avoids its
		 * subnet, but an explicit one may take it. */
		if (strcmp(labs[i].name, spec->lab) == 0 || !labs[i].subnet ||
		    lab_state_parse(labs[i].state) == LAB_DOWN ||
		    cidr_parse(labs[i].subnet, &theirs, &ignore) < 0 || !cidr_overlap(&mine, &theirs))
			continue;
		rc = xerr_set(e, XERR_FAIL,
			      "subnet %s of lab '%s' (%s) overlaps %s of lab '%s' (%s, %s); give one "
			      "of them another network.subnet, or take '%s' down",
			      spec->subnet, spec->lab, spec->path, labs[i].subnet, labs[i].name,
			      labs[i].spec_path ? labs[i].spec_path : "no spec", labs[i].state,
			      labs[i].name);
	}
	db_labs_free(labs, n);
	return rc;
}

static int subnet_choose(struct up_ctx *ctx, struct xerr *e)
{
	struct db_lab *lab = NULL;
	char **used = NULL;
	int rc;

	if (ctx->spec->subnet) {
		snprintf(ctx->subnet, sizeof(ctx->subnet), "%s", ctx->spec->subnet);
		return 0;
	}
	/* A lab keeps the subnet it was given first. */
	if (db_lab_get(ctx->db, ctx->spec->lab, &lab, e) < 0)
		return -1;
	if (lab && lab->subnet && *lab->subnet) {
		snprintf(ctx->subnet, sizeof(ctx->subnet), "%s", lab->subnet);
		db_lab_free(lab);
		return 0;
	}
	db_lab_free(lab);
	if (db_subnets_in_use(ctx->db, &used, e) < 0)
		return -1;
	rc = subnet_allocate(ctx->spec->lab, used, strv_len(used), ctx->subnet, e);
	strv_free(used);
	return rc;
}

/* `up` on a lab that is already what the spec says: answer from libvirt and
 * the store, without touching the hosts. */
static bool lab_already_up(struct up_ctx *ctx)
{
	size_t n = ctx->plan->n_hosts;
	char (*want)[65] = xcalloc(n + 1, sizeof(*want));
	bool *running = xcalloc(n + 1, sizeof(*running));
	struct db_host *hosts = NULL;
	struct db_guest *guests = NULL;
	size_t nh = 0, ng = 0;
	struct xerr e = { 0 };
	bool up = false;

	for (size_t i = 0; i < n; i++) {
		struct virt_dom_info info;

		host_def_hash(ctx, &ctx->plan->hosts[i], want[i]);
		running[i] = virt_domain_info(up_site(ctx, &ctx->plan->hosts[i])->virt,
					      ctx->plan->hosts[i].domain, &info, &e) == 0 &&
			     info.exists && info.running;
	}
	if (db_hosts_list(ctx->db, ctx->spec->lab, &hosts, &nh, &e) == 0 &&
	    db_guests_list(ctx->db, ctx->spec->lab, &guests, &ng, &e) == 0)
		up = lab_matches_plan(ctx->plan, (const char (*)[65])want, running, hosts, nh,
				      guests, ng, ctx->o->no_guests);
	db_hosts_free(hosts, nh);
	db_guests_free(guests, ng);
	free(running);
	free(want);
	return up;
}

/* Under KVM a PVH or HVM guest needs the host's Xen to see VT-x/AMD-V,
 * which KVM passes on only with nested=1: refused before anything boots. */
static int hwvirt_guests_possible(const struct up_ctx *ctx, struct xerr *e)
{
	const char *param = NULL;

	bool off = false;

	for (size_t i = 0; i < ctx->n_sites && !off; i++)
		off = virt_kvm_nested_off(ctx->sites[i].virt, &param);
	if (strcmp(ctx->accel, "kvm") != 0 || !off)
		return 0;
	for (size_t i = 0; i < ctx->spec->n_guests; i++) {
		const struct spec_guest *g = &ctx->spec->guests[i];

		if (g->type != SPEC_GUEST_PV)
			return xerr_set(e, XERR_USAGE,
					"guest '%s' is %s, but this machine's KVM gives its guests "
					"no hardware virtualization (%s is not Y): turn nested on "
					"(e.g. `modprobe -r kvm_amd && modprobe kvm_amd nested=1`), "
					"run with --accel qemu, or make the guest type: pv",
					g->name, spec_guest_type_name(g->type), param);
	}
	return 0;
}

/* Opens the image of every host, once per distinct image: hosts that boot
 * the same image share it (spec host i is plan host i). */
static int images_open(struct up_ctx *ctx, struct xerr *e)
{
	const struct spec *sp = ctx->spec;

	ctx->imgs = xcalloc(sp->n_hosts ? sp->n_hosts : 1, sizeof(*ctx->imgs));
	for (size_t i = 0; i < sp->n_hosts; i++) {
		_cleanup_free_ char *name = spec_host_image_name(sp, &sp->hosts[i]);

		for (size_t j = 0; j < i && !ctx->imgs[i]; j++)
			if (strcmp(ctx->imgs[j]->name, name) == 0)
				ctx->imgs[i] = ctx->imgs[j];
		if (!ctx->imgs[i] && image_open(name, &ctx->imgs[i], e) < 0)
			return xerr_prefix(e, "host '%s'", sp->hosts[i].name);
	}
	return 0;
}

static bool image_first_use(const struct up_ctx *ctx, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (ctx->imgs[j] == ctx->imgs[i])
			return false;
	return ctx->imgs[i] != NULL;
}

static void images_free(struct up_ctx *ctx)
{
	for (size_t i = 0; ctx->imgs && i < ctx->spec->n_hosts; i++)
		if (image_first_use(ctx, i))
			image_free(ctx->imgs[i]);
	free(ctx->imgs);
}

/* "xen-4.17" or "xen-4.17 (old), xen-4.20 (new)" for the bring-up's first line. */
static char *images_said(const struct up_ctx *ctx)
{
	struct buf b = { 0 };

	if (!spec_mixed_images(ctx->spec))
		return xstrdup(ctx->imgs[0]->name);
	for (size_t i = 0; i < ctx->plan->n_hosts; i++)
		buf_printf(&b, "%s%s (%s)", i ? ", " : "", ctx->imgs[i]->name,
			   ctx->plan->hosts[i].spec->name);
	return buf_steal(&b);
}

static int images_verify(struct up_ctx *ctx, struct xerr *e)
{
	struct step s;

	for (size_t i = 0; i < ctx->plan->n_hosts; i++) {
		if (!image_first_use(ctx, i))
			continue;
		step_begin(&s, &ctx->run, "image.verify", ctx->imgs[i]->name);
		if (step_end(&s, image_verify(ctx->imgs[i], e), e) < 0)
			return -1;
	}
	return 0;
}

struct up_site *up_site(const struct up_ctx *ctx, const struct plan_host *ph)
{
	return &ctx->sites[ctx->host_site[ph - ctx->plan->hosts]];
}

/* The site of server name (NULL: this machine), added when new. */
static size_t site_add(struct up_ctx *ctx, const char *name)
{
	const char *want = name ? name : SERVER_LOCAL;

	for (size_t i = 0; i < ctx->n_sites; i++)
		if (strcmp(ctx->sites[i].name, want) == 0)
			return i;
	ctx->sites[ctx->n_sites].name = want;
	return ctx->n_sites++;
}

int lab_place_hosts(struct spec *s, const char *csv, struct xerr *e)
{
	_cleanup_strv_ char **names = NULL;
	struct place_server *ps = NULL;
	size_t n = 0, *idx = xcalloc(s->n_hosts + 1, sizeof(*idx));
	size_t *where = xcalloc(s->n_hosts + 1, sizeof(*where));
	uint64_t *mem = xcalloc(s->n_hosts + 1, sizeof(*mem));
	const char **hn = xcalloc(s->n_hosts + 1, sizeof(*hn));
	int rc = -1;

	if (servers_parse_list(csv, &names, e) < 0 || servers_measure(names, &ps, e) < 0)
		goto out;
	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct spec_host *h = &s->hosts[i];

		/* A host that names its server takes its memory there first. */
		if (h->server) {
			for (size_t k = 0; names[k]; k++)
				if (strcmp(names[k], h->server) == 0)
					ps[k].mem_used += h->memory;
			continue;
		}
		idx[n] = i;
		hn[n] = h->name;
		mem[n++] = h->memory;
	}
	if (place_hosts(ps, strv_len(names), hn, mem, n, where, e) < 0)
		goto out;
	for (size_t k = 0; k < n; k++)
		s->hosts[idx[k]].server = xstrdup(names[where[k]]);
	rc = 0;
out:
	servers_measure_free(ps, strv_len(names));
	free(idx);
	free(where);
	free(mem);
	free(hn);
	return rc;
}

/* A lab that is up somewhere and whose hosts were placed (--servers, or
 * across servers: labs/LAB/placement) keeps them where they are, with
 * --servers or without; a new lab, or one that is down, is placed when
 * --servers asks. */
static int hosts_place(struct up_ctx *ctx, struct xerr *e)
{
	struct spec *sp = ctx->spec;
	struct lab_dirs d;
	enum lab_state st;

	if (ctx->o->server && ctx->o->servers)
		return xerr_set(e, XERR_USAGE, "--server and --servers: one or the other");
	if (lab_state_get(ctx->db, sp->lab, &st, e) < 0)
		return -1;
	if (st == LAB_NONE || st == LAB_DOWN)
		return ctx->o->servers ? lab_place_hosts(sp, ctx->o->servers, e) : 0;
	if (lab_dirs_get(sp->lab, &d, e) < 0) {
		lab_dirs_free(&d);
		return -1;
	}
	for (size_t i = 0; d.placement && i < sp->n_hosts; i++) {
		const char *was = lab_host_server(&d, sp->hosts[i].name);

		if (!sp->hosts[i].server)
			sp->hosts[i].server = xstrdup(was ? was : SERVER_LOCAL);
	}
	lab_dirs_free(&d);
	return 0;
}

/* "h1 on local, h2 on box2" */
static void placement_say(struct up_ctx *ctx)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < ctx->spec->n_hosts; i++)
		buf_printf(&b, "%s%s on %s", i ? ", " : "", ctx->spec->hosts[i].name,
			   ctx->sites[ctx->host_site[i]].name);
	run_say(&ctx->run, NULL, "where the hosts run (--servers %s): %s", ctx->o->servers,
		b.data ? b.data : "no hosts");
	buf_free(&b);
}

/* Where each host runs: its `server:`, else the lab's (--server over the
 * spec's), or where --servers places it; "local" and none are this machine. */
static int sites_choose(struct up_ctx *ctx, struct xerr *e)
{
	struct spec *sp = ctx->spec;

	if (hosts_place(ctx, e) < 0)
		return -1;
	if (ctx->o->server) {
		free(sp->server);
		sp->server = xstrdup(ctx->o->server);
	}
	ctx->sites = xcalloc(sp->n_hosts + 1, sizeof(*ctx->sites));
	ctx->host_site = xcalloc(sp->n_hosts + 1, sizeof(*ctx->host_site));
	for (size_t i = 0; i < sp->n_hosts; i++)
		ctx->host_site[i] = site_add(ctx, spec_host_server(sp, &sp->hosts[i]));
	if (ctx->o->servers)
		placement_say(ctx);
	for (size_t i = 0; i < ctx->n_sites; i++) {
		struct up_site *site = &ctx->sites[i];

		if (strcmp(site->name, SERVER_LOCAL) == 0)
			continue;
		if (server_name_check(site->name, e) < 0 ||
		    server_get(ctx->db, site->name, &site->row, e) < 0)
			return -1;
		site->name = site->row->name;
	}
	return 0;
}

static int site_connect(struct up_ctx *ctx, struct up_site *site, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;

	if (!site->row) {
		if (virt_open(virt_default_uri(ctx->o->connect, ctx->spec->libvirt_uri),
			      &site->virt, e) < 0)
			return -1;
		return virt_check_daemon_state(site->virt, e);
	}
	if (xlab_home(&home, e) < 0)
		return -1;
	if (server_open(home, site->row, &site->virt, e) < 0)
		return xerr_prefix(e, "server '%s'", site->name);
	return 0;
}

/* Every server's libvirt, and one accelerator for the lab: a lab across a
 * KVM server and a TCG one is refused unless --accel says which. */
static int sites_connect(struct up_ctx *ctx, struct xerr *e)
{
	for (size_t i = 0; i < ctx->n_sites; i++) {
		struct up_site *site = &ctx->sites[i];
		char *accel = NULL;

		if (site_connect(ctx, site, e) < 0 ||
		    virt_detect_accel(site->virt, ctx->o->accel, &accel, e) < 0)
			return -1;
		if (!ctx->accel) {
			ctx->accel = accel;
			continue;
		}
		if (strcmp(accel, ctx->accel) != 0) {
			xerr_set(e, XERR_USAGE,
				 "server '%s' runs hosts with %s, server '%s' with %s: one lab "
				 "needs one; `xlab up --accel qemu` runs all of them under TCG",
				 ctx->sites[0].name, ctx->accel, site->name, accel);
			free(accel);
			return -1;
		}
		free(accel);
	}
	return 0;
}

/* A lab that is not down stays where it runs: its hosts, disks and
 * network are there, and a second copy elsewhere would split it. */
static int placement_unchanged(struct up_ctx *ctx, struct xerr *e)
{
	struct db_host *rows = NULL;
	enum lab_state st;
	size_t n = 0;
	int rc = 0;

	if (lab_state_get(ctx->db, ctx->spec->lab, &st, e) < 0)
		return -1;
	if (st == LAB_NONE || st == LAB_DOWN)
		return 0;
	if (db_hosts_list(ctx->db, ctx->spec->lab, &rows, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < ctx->spec->n_hosts && rc == 0; i++) {
		const struct spec_host *h = &ctx->spec->hosts[i];
		const char *was = lab_host_server(&ctx->dirs, h->name);
		const char *now = ctx->sites[ctx->host_site[i]].name;
		bool made = false;

		/* A host never defined anywhere (a class copy recorded before its
		 * first up) has no place yet. */
		for (size_t k = 0; k < n && !made; k++)
			made = !strcmp(rows[k].name, h->name) &&
			       node_state_parse(rows[k].state) != NODE_REMOVED;
		if (!was)
			was = SERVER_LOCAL;
		if (made && strcmp(was, now) != 0)
			rc = xerr_set(e, XERR_CONFLICT,
				      "host '%s' of lab '%s' runs on server '%s', not '%s': `xlab "
				      "down %s` first to move it",
				      h->name, ctx->spec->lab, was, now, ctx->spec->lab);
	}
	db_hosts_free(rows, n);
	return rc;
}

/* Before anything is made on another server: the images its hosts boot,
 * its pool's directory, and how its sshd is reached. */
static int site_prepare(struct up_ctx *ctx, size_t k, const char *home, struct xerr *e)
{
	struct up_site *site = &ctx->sites[k];
	struct step s;

	/* A server whose sshd xlab cannot use is refused before anything is
	 * sent there. */
	if (server_lab_via(home, site->row, &site->via, e) < 0)
		return -1;
	for (size_t i = 0; i < ctx->spec->n_hosts; i++) {
		struct push_report rep;
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = !(ctx->imgs[j] == ctx->imgs[i] && ctx->host_site[j] == k);
		if (ctx->host_site[i] != k || !first)
			continue;
		step_begin(&s, &ctx->run, "image.push", ctx->imgs[i]->name);
		if (step_end(&s, server_image_push(site->name, ctx->imgs[i]->name, &rep, e), e) < 0)
			return -1;
	}
	return virt_pool_path(site->virt, SERVER_POOL, &site->pool_dir, e);
}

/* The lab's records of where it runs, for every later command (ssh,
 * console, down): its own server and how its lab network is reached (none
 * here), and for a lab across servers each host's server. */
static int placement_record(struct up_ctx *ctx, struct xerr *e)
{
	const struct up_site *own = &ctx->sites[0];
	/* Placed hosts (--servers) keep their places too: a later `up` reads them. */
	size_t n = ctx->n_sites > 1 || ctx->o->servers ? ctx->spec->n_hosts : 0;
	const char **hosts = xcalloc(n + 1, sizeof(*hosts));
	const char **servers = xcalloc(n + 1, sizeof(*servers));
	int rc;

	for (size_t i = 0; i < n; i++) {
		hosts[i] = ctx->spec->hosts[i].name;
		servers[i] = ctx->sites[ctx->host_site[i]].name;
	}
	rc = lab_server_record(&ctx->dirs, own->row ? own->name : NULL, &own->via, e);
	if (rc == 0)
		rc = lab_placement_record(&ctx->dirs, hosts, servers, n, e);
	free(hosts);
	free(servers);
	if (rc < 0)
		return -1;
	/* Every connection from here on goes the recorded way. */
	lab_dirs_free(&ctx->dirs);
	return lab_dirs_get(ctx->spec->lab, &ctx->dirs, e);
}

static int sites_prepare(struct up_ctx *ctx, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;

	if (xlab_home(&home, e) < 0)
		return -1;
	for (size_t k = 0; k < ctx->n_sites; k++)
		if (ctx->sites[k].row && site_prepare(ctx, k, home, e) < 0)
			return -1;
	/* Where the servers reach each other: the VXLAN's peers, the shared
	 * disk's server. */
	ctx->net_sites = xcalloc(ctx->n_sites + 1, sizeof(*ctx->net_sites));
	for (size_t k = 0; k < ctx->n_sites; k++) {
		ctx->net_sites[k].name = ctx->sites[k].name;
		ctx->net_sites[k].via = ctx->sites[k].row ? &ctx->sites[k].via : NULL;
	}
	if (ctx->n_sites > 1 && labnet_addresses(ctx->net_sites, ctx->n_sites, e) < 0)
		return -1;
	return placement_record(ctx, e);
}

static void sites_free(struct up_ctx *ctx)
{
	for (size_t i = 0; ctx->sites && i < ctx->n_sites; i++) {
		struct up_site *site = &ctx->sites[i];

		if (site->virt)
			virt_close(site->virt);
		db_servers_free(site->row, site->row ? 1 : 0);
		free(site->pool_dir);
		lab_via_free(&site->via);
	}
	free(ctx->sites);
	free(ctx->host_site);
	free(ctx->net_sites);
}

/* The lab network on every server (the gateway on the lab's own), and for
 * a lab across servers the VXLAN device joining each to the others. */
static int networks_ensure(struct up_ctx *ctx, struct xerr *e)
{
	const struct labnet_site *ls = ctx->net_sites;
	struct labnet_names names;
	struct step s;
	int rc = 0;

	labnet_names_of(ctx->store_id, ctx->spec->lab, &names);
	for (size_t i = 0; i < ctx->n_sites && rc == 0; i++) {
		bool created = false;

		/* One server: the network's name, as a lab here always said. */
		step_begin(&s, &ctx->run, "network.ensure",
			   ctx->n_sites > 1 ? ctx->sites[i].name : ctx->plan->network);
		rc = step_end(&s, virt_network_ensure(ctx->sites[i].virt, ctx->plan->network,
						      i == 0 ? ctx->plan->network_xml
							     : ctx->plan->network_xml_peer,
						      &ctx->owner, &created, e),
			      e);
	}
	for (size_t i = 0; i < ctx->n_sites && rc == 0 && ctx->plan->spread; i++) {
		_cleanup_free_ char *what = xasprintf("%s (VNI %u) on %s at %s", ctx->plan->vxlan,
						      ctx->plan->vni, ls[i].name, ls[i].addr);

		step_begin(&s, &ctx->run, "network.join", what);
		rc = step_end(&s, labnet_join(&names, ls, ctx->n_sites, i, e), e);
	}
	return rc;
}

/* The lab's shared disk, once, on its own server: a file here, a raw
 * volume of another server's pool. */
static int shared_prepare(struct up_ctx *ctx, struct xerr *e)
{
	const struct up_site *own = &ctx->sites[0];
	_cleanup_free_ char *vol = NULL;
	unsigned long long size;
	struct xerr absent = { 0 };

	if (!own->row)
		return shared_disk_make(ctx->plan->shared_disk, ctx->spec->shared_size, e);
	vol = plan_volume_name(ctx->plan->shared_disk);
	if (virt_vol_size(own->virt, SERVER_POOL, vol, &size, &absent) == 0)
		return 0;
	if (absent.kind != XERR_NOTFOUND) {
		*e = absent;
		return -1;
	}
	return virt_vol_create(own->virt, SERVER_POOL, vol, "raw", ctx->spec->shared_size, NULL,
			       e);
}

/* Across servers, the shared disk is qemu-nbd's export on the own server,
 * before any host that attaches it starts. */
static int shared_serve(struct up_ctx *ctx, struct xerr *e)
{
	const struct plan *p = ctx->plan;
	struct sharednbd nbd = { .server = ctx->sites[0].name, .via = ctx->net_sites[0].via,
				 .network = p->network };

	/* Recorded first: `down` ends what the record names, whenever it was cut. */
	if (sharednbd_record(ctx->dirs.dir, p->shared_disk, p->shared_nbd_addr, p->shared_nbd_port,
			     e) < 0)
		return -1;
	return sharednbd_serve(&nbd, p->shared_disk, p->shared_nbd_addr, p->shared_nbd_port, e);
}

static int up_steps(struct up_ctx *ctx, struct xerr *e)
{
	struct plan_env env = { 0 };
	const char **volume_dirs = NULL;
	bool *direct_boot = NULL;
	struct step s;
	int rc;
	_cleanup_free_ char *images = NULL;

	if (xlab_store_id(ctx->store_id, e) < 0)
		return -1;
	virt_owner_set(&ctx->owner, ctx->store_id, ctx->spec->lab);
	/* What the command line asks is checked before what the store has. */
	if (sites_choose(ctx, e) < 0 || images_open(ctx, e) < 0 || sites_connect(ctx, e) < 0)
		return -1;
	if (hwvirt_guests_possible(ctx, e) < 0 || subnet_choose(ctx, e) < 0)
		return -1;
	/* Refused before anything of the lab is written: its accel too. */
	if (lab_dirs_get(ctx->spec->lab, &ctx->dirs, e) < 0 || placement_unchanged(ctx, e) < 0 ||
	    lab_accel_record(&ctx->dirs, ctx->accel, e) < 0 || sites_prepare(ctx, e) < 0)
		return -1;
	volume_dirs = xcalloc(ctx->spec->n_hosts + 1, sizeof(*volume_dirs));
	direct_boot = xcalloc(ctx->spec->n_hosts + 1, sizeof(*direct_boot));
	for (size_t i = 0; i < ctx->spec->n_hosts; i++) {
		volume_dirs[i] = ctx->sites[ctx->host_site[i]].pool_dir;
		direct_boot[i] = image_boots_direct(ctx->imgs[i]);
	}
	env.volume_dirs = volume_dirs;
	env.direct_boot = direct_boot;
	env.shared_nbd_addr = ctx->n_sites > 1 ? ctx->net_sites[0].addr : NULL;
	env.state_dir = ctx->dirs.dir;
	env.accel = ctx->accel;
	env.subnet = ctx->subnet;
	env.store_id = ctx->store_id;
	rc = plan_build(ctx->spec, &env, &ctx->plan, e);
	free(volume_dirs);
	free(direct_boot);
	if (rc < 0)
		return -1;
	if (db_lab_claim(ctx->db, ctx->spec->lab, ctx->o->made_by ? ctx->o->made_by : "spec",
			 e) < 0)
		return -1;
	if (db_lab_upsert(ctx->db, ctx->spec->lab, ctx->spec->path, ctx->spec->sha256,
			  ctx->subnet, lab_state_name(LAB_PARTIAL), e) < 0)
		return -1;
	if (!ctx->o->recreate && lab_already_up(ctx)) {
		run_say(&ctx->run, NULL, "lab '%s' is up and matches %s: nothing to do",
			ctx->spec->lab, ctx->spec->path);
		ctx->res->up = true;
		ctx->res->bringup_ms = now_ms() - ctx->run.t0_ms;
		return db_lab_upsert(ctx->db, ctx->spec->lab, ctx->spec->path, ctx->spec->sha256,
				     ctx->subnet, lab_state_name(LAB_UP), e);
	}
	images = images_said(ctx);
	run_say(&ctx->run, NULL, "lab '%s': %zu host(s), %zu guest(s), subnet %s, %s, image %s",
		ctx->spec->lab, ctx->plan->n_hosts, ctx->plan->n_guests, ctx->subnet,
		strcmp(ctx->accel, "kvm") == 0 ? "KVM" : "TCG (no hardware virtualization)",
		images);
	if (images_verify(ctx, e) < 0)
		return -1;
	if (!ctx->o->no_guests && agent_local_path(&ctx->agent_path, e) < 0)
		return -1;
	step_begin(&s, &ctx->run, "keys", NULL);
	if (step_end(&s, keys_ensure(ctx, e), e) < 0)
		return -1;
	if (ctx->plan->shared_disk) {
		step_begin(&s, &ctx->run, "shared.prepare", ctx->plan->shared_disk);
		if (step_end(&s, shared_prepare(ctx, e), e) < 0)
			return -1;
	}
	if (networks_ensure(ctx, e) < 0)
		return -1;
	if (ctx->plan->shared_nbd_addr) {
		_cleanup_free_ char *what = xasprintf("nbd://%s:%d/%s on %s",
						      ctx->plan->shared_nbd_addr,
						      ctx->plan->shared_nbd_port, PLAN_NBD_EXPORT,
						      ctx->sites[0].name);

		step_begin(&s, &ctx->run, "shared.serve", what);
		if (step_end(&s, shared_serve(ctx, e), e) < 0)
			return -1;
	}
	if (hosts_bring_up(ctx, e) < 0)
		return -1;
	if (db_lab_upsert(ctx->db, ctx->spec->lab, ctx->spec->path, ctx->spec->sha256,
			  ctx->subnet, lab_state_name(LAB_UP), e) < 0)
		return -1;
	ctx->res->up = true;
	ctx->res->bringup_ms = now_ms() - ctx->run.t0_ms;
	if (ctx->o->no_guests || ctx->o->no_tests || !ctx->spec->n_tests)
		return 0;
	return labtest_run_all(ctx->spec, ctx->plan, &ctx->dirs, &ctx->run, e);
}

/* A stopped lab is started, not brought up: `up` would boot its hosts and
 * find the spec's guests, but not the guests made by hand, and would then
 * call the lab up with them missing. Say which command does it. */
static int up_allowed(struct db *db, const char *lab, struct xerr *e)
{
	enum lab_state from, to;

	if (lab_state_get(db, lab, &from, e) < 0)
		return -1;
	return lab_state_next(lab, from, LAB_EV_UP, &to, e);
}

int lab_up_spec(struct spec *spec, const struct up_opts *o, struct up_result *res,
		struct xerr *e)
{
	struct up_result ignore_res;
	struct up_ctx ctx = { .o = o, .spec = spec, .res = res ? res : &ignore_res,
			      .shared_mu = PTHREAD_MUTEX_INITIALIZER,
			      .shared_cv = PTHREAD_COND_INITIALIZER };
	int lock = -1, rc = -1;
	bool run_started = false;

	*ctx.res = (struct up_result){ 0 };
	lock = lab_lock(ctx.spec->lab, "up", e);
	if (lock < 0)
		goto out;
	if (db_open_default(&ctx.db, e) < 0)
		goto out;
	/* Refused before a run is recorded: nothing was tried. */
	if (up_allowed(ctx.db, ctx.spec->lab, e) < 0)
		goto out;
	if (ctx.spec->subnet && subnet_clash(ctx.db, ctx.spec, e) < 0)
		goto out;
	if (db_runs_mark_interrupted(ctx.db, ctx.spec->lab, e) < 0)
		goto out;
	if (run_begin(&ctx.run, ctx.db, ctx.spec->lab, "up", ctx.spec->sha256, e) < 0)
		goto out;
	run_started = true;
	ctx.res->run_id = ctx.run.id;
	/* A stop asked before the first step: nothing is made. */
	rc = stop_requested() ? -1 : up_steps(&ctx, e);
	if (rc == 0)
		run_say(&ctx.run, NULL, "lab '%s' is up (run %" PRId64 "); `xlab list %s` shows it",
			ctx.spec->lab, ctx.run.id, ctx.spec->lab);
out:
	if (run_started) {
		if (stop_requested()) {
			xerr_set(e, XERR_INTERRUPTED,
				 "interrupted; run `xlab up %s` to finish or `xlab down %s` to clean up",
				 ctx.spec->path, ctx.spec->lab);
			run_end(&ctx.run, "interrupted", e->msg);
		} else {
			run_end(&ctx.run, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
		}
	}
	if (ctx.plan)
		plan_free(ctx.plan);
	images_free(&ctx);
	sites_free(&ctx);
	if (ctx.db)
		db_close(ctx.db);
	lab_dirs_free(&ctx.dirs);
	free(ctx.accel);
	free(ctx.agent_path);
	lab_unlock(lock);
	return rc;
}

int lab_up(const char *spec_path, const struct up_opts *o, struct xerr *e)
{
	struct spec *spec = NULL;
	struct spec_diags diags = { 0 };
	int rc;

	if (spec_load(spec_path, &spec, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		spec_diags_free(&diags);
		return -1;
	}
	spec_diags_free(&diags);
	rc = lab_up_spec(spec, o, NULL, e);
	spec_free(spec);
	return rc;
}
