/* xlab snapshot / revert / snapshot rm: a whole running lab kept and brought
 * back. Every host is paused before the first is saved and resumed after the
 * last, so the lab's hosts (and the guests migrating between them, the
 * packets on its network) are kept at one moment, not host by host. libvirt
 * keeps each host's part as an internal snapshot, memory included, in the
 * host's qcow2 disks (virt_snapshot.c says why internal); the store keeps
 * the lab's guest rows beside it (db_snapshots.c). */
#include "snapshot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labnet.h"
#include "labop.h"
#include "names.h"
#include "nodestate.h"
#include "sharednbd.h"
#include "util.h"

/* How far a reverted dom0's clock may be from the controller's once set. */
#define DOM0_CLOCK_SLACK_S 3

static int64_t since(int64_t t0)
{
	return now_ms() - t0;
}

static int name_check(const char *lab, const char *name, struct xerr *e)
{
	if (names_snapshot_valid(name))
		return 0;
	return xerr_set(e, XERR_USAGE,
			"snapshot name '%s' of lab '%s': use 1-63 of a-z, 0-9, '.' and '-', "
			"starting with a letter or digit",
			name, lab);
}

static char *host_domain(struct labop *p, const struct db_host *h, struct xerr *e)
{
	char *dom = NULL;

	if (lab_domain_name(p->lab, h->name, &dom, e) < 0)
		return NULL;
	return dom;
}

/* The libvirt of p->hosts[i]. */
static struct virt *host_virt(const struct labop *p, size_t i)
{
	return labop_host_virt(p, p->hosts[i].name);
}

/* ---- snapshot ---- */

/* A host's part of a snapshot the store has no row of: what a snapshot cut
 * between its saves and its row (killed, or the store failing) leaves. */
static int leftover_remove(struct labop *p, const struct db_host *h, const char *dom,
			   const char *name, struct xerr *e)
{
	bool has;

	if (virt_snapshot_has(labop_host_virt(p, h->name), dom, &p->own, name, &has, e) < 0)
		return -1;
	if (!has)
		return 0;
	run_say(&p->run, h->name, "a snapshot '%s' the store does not know (one cut short): removed",
		name);
	return virt_snapshot_delete(labop_host_virt(p, h->name), dom, &p->own, name, e);
}

/* Everything that would make the snapshot fail halfway, found first. */
static int snapshot_preflight(struct labop *p, const char *name, struct xerr *e)
{
	struct db_snapshot *old = NULL;
	int rc = db_snapshot_get(p->db, p->lab, name, &old, e);

	if (rc > 0) {
		xerr_set(e, XERR_CONFLICT,
			 "lab '%s' already has a snapshot '%s' (taken %s); `xlab snapshot rm %s "
			 "%s` first, or choose another name",
			 p->lab, name, old->created, p->lab, name);
		db_snapshots_free(old, 1);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (p->n_hosts == 0)
		return xerr_set(e, XERR_CONFLICT, "lab '%s' has no hosts to snapshot", p->lab);
	for (size_t i = 0; i < p->n_hosts; i++) {
		_cleanup_free_ char *dom = host_domain(p, &p->hosts[i], e);
		_cleanup_free_ char *blocker = NULL;
		struct virt_dom_info info;

		if (!dom || virt_domain_info(host_virt(p, i), dom, &info, e) < 0)
			return -1;
		if (!info.exists || !info.running)
			return xerr_set(e, XERR_CONFLICT,
					"host '%s' of lab '%s' is not running (`xlab status %s` "
					"shows it); a snapshot keeps running hosts",
					p->hosts[i].name, p->lab, p->lab);
		if (virt_snapshot_check(host_virt(p, i), dom, &p->own, &blocker, e) < 0 ||
		    leftover_remove(p, &p->hosts[i], dom, name, e) < 0)
			return -1;
		if (blocker)
			return xerr_set(e, XERR_USAGE,
					"host '%s' of lab '%s': its disk %s is writable and not "
					"qcow2 (the lab's `storage.shared` disk is raw, written by "
					"every host), and QEMU keeps an internal snapshot in every "
					"writable disk: a lab with shared storage cannot be "
					"snapshotted",
					p->hosts[i].name, p->lab, blocker);
	}
	return 0;
}

/* Pauses hosts [0, n); on failure resumes those it paused. */
static int hosts_pause(struct labop *p, char **doms, size_t n, struct xerr *e)
{
	for (size_t i = 0; i < n; i++)
		if (virt_domain_pause(host_virt(p, i), doms[i], &p->own, e) < 0) {
			struct xerr ignore = { 0 };
			size_t failed = i;

			while (i--)
				virt_domain_resume(host_virt(p, i), doms[i], &p->own, &ignore);
			return xerr_prefix(e, "host '%s'", p->hosts[failed].name);
		}
	return 0;
}

/* Every host resumed, even after one fails: a lab is never left half paused. */
static int hosts_resume(struct labop *p, char **doms, size_t n, struct xerr *e)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct xerr one = { 0 };

		if (virt_domain_resume(host_virt(p, i), doms[i], &p->own, &one) < 0) {
			xerr_prefix(&one, "host '%s'", p->hosts[i].name);
			if (rc == 0)
				*e = one;
			rc = -1;
		}
	}
	return rc;
}

static char **host_domains(struct labop *p, struct xerr *e)
{
	char **doms = xcalloc(p->n_hosts + 1, sizeof(*doms));

	for (size_t i = 0; i < p->n_hosts; i++)
		if (!(doms[i] = host_domain(p, &p->hosts[i], e))) {
			strv_free(doms);
			return NULL;
		}
	return doms;
}

static char *hosts_csv(struct labop *p)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < p->n_hosts; i++)
		buf_printf(&b, "%s%s", i ? "," : "", p->hosts[i].name);
	return buf_steal(&b);
}

/* Each host saved while all are paused; those saved are deleted again when
 * a later one fails, so a failed snapshot leaves nothing behind. */
static int hosts_save(struct labop *p, char **doms, const char *name, struct xerr *e)
{
	for (size_t i = 0; i < p->n_hosts; i++) {
		struct step s;

		step_begin(&s, &p->run, "host.snapshot", p->hosts[i].name);
		if (step_end(&s, virt_snapshot_create(host_virt(p, i), doms[i], &p->own, name, e), e) <
		    0) {
			struct xerr ignore = { 0 };

			while (i--)
				virt_snapshot_delete(host_virt(p, i), doms[i], &p->own, name, &ignore);
			return -1;
		}
	}
	return 0;
}

int lab_snapshot(const char *lab, const char *name, const char *connect,
		 struct snapshot_timing *t, struct xerr *e)
{
	_cleanup_strv_ char **doms = NULL;
	_cleanup_free_ char *hosts = NULL;
	struct snapshot_timing tm = { 0 };
	int64_t t0 = now_ms(), paused;
	char created[32];
	struct labop p;
	struct step s;
	int rc = -1, saved;

	if (name_check(lab, name, e) < 0)
		return -1;
	if (labop_open(&p, lab, connect, LAB_EV_SNAPSHOT, NULL, e) < 0)
		goto out;
	if (snapshot_preflight(&p, name, e) < 0 || !(doms = host_domains(&p, e)))
		goto out;
	now_iso8601(created);
	step_begin(&s, &p.run, "hosts.pause", NULL);
	if (step_end(&s, hosts_pause(&p, doms, p.n_hosts, e), e) < 0)
		goto out;
	paused = now_ms();
	/* Saved, then recorded, then resumed: a snapshot that exists has its
	 * row whatever the resume does, and one that is not recorded is
	 * deleted again before the hosts run on. */
	hosts = hosts_csv(&p);
	saved = hosts_save(&p, doms, name, e);
	if (saved == 0 &&
	    db_snapshot_add(p.db,
			    &(struct db_snapshot){ .lab = lab, .name = name, .hosts = hosts,
						   .created = created,
						   .duration_ms = since(t0) },
			    e) < 0) {
		struct xerr ignore = { 0 };

		for (size_t i = 0; i < p.n_hosts; i++)
			virt_snapshot_delete(host_virt(&p, i), doms[i], &p.own, name, &ignore);
		saved = -1;
	}
	step_begin(&s, &p.run, "hosts.resume", NULL);
	if (saved < 0) {
		struct xerr ignore = { 0 };

		hosts_resume(&p, doms, p.n_hosts, &ignore);
		step_end(&s, 0, &ignore);
		goto out;
	}
	if (step_end(&s, hosts_resume(&p, doms, p.n_hosts, e), e) < 0) {
		xerr_prefix(e, "snapshot '%s' was taken, but a host stays paused (`xlab start %s` "
			       "resumes it)", name, lab);
		goto out;
	}
	tm.paused_ms = since(paused);
	tm.total_ms = since(t0);
	if (lab_state_advance(p.db, lab, LAB_EV_SNAPSHOT, e) < 0)
		goto out;
	run_say(&p.run, NULL,
		"snapshot '%s' of lab '%s': %zu host(s), %zu guest(s), in %.1f s (hosts paused "
		"%.1f s); `xlab revert %s %s` goes back to it",
		name, lab, p.n_hosts, p.n_guests, tm.total_ms / 1000.0, tm.paused_ms / 1000.0, lab,
		name);
	if (t)
		*t = tm;
	rc = 0;
out:
	labop_close(&p, rc, e);
	return rc;
}

/* ---- revert ---- */

static int snapshot_require(struct labop *p, const char *name, struct db_snapshot **snap,
			    struct xerr *e)
{
	struct db_snapshot *all = NULL;
	struct buf b = { 0 };
	size_t n = 0;
	int rc = db_snapshot_get(p->db, p->lab, name, snap, e);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (db_snapshots_list(p->db, p->lab, &all, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", all[i].name);
	db_snapshots_free(all, n);
	xerr_set(e, XERR_NOTFOUND, "lab '%s' has no snapshot '%s'; %s%s", p->lab, name,
		 n ? "its snapshots: " : "it has none (`xlab snapshot LAB NAME` takes one)",
		 n ? b.data : "");
	buf_free(&b);
	return -1;
}

/* The lab's hosts must be the snapshot's: a host added or remade since has
 * no part of it (a remade one lost its snapshots with its disks). */
/* Whether the lab's hosts are exactly those of csv ("h1,h2"), in any order. */
static bool hosts_are(const struct labop *p, const char *csv)
{
	_cleanup_free_ char *dup = xstrdup(csv);
	char *save = NULL;
	size_t n = 0;

	for (char *h = strtok_r(dup, ",", &save); h; h = strtok_r(NULL, ",", &save), n++) {
		size_t i = 0;

		while (i < p->n_hosts && strcmp(p->hosts[i].name, h) != 0)
			i++;
		if (i == p->n_hosts)
			return false;
	}
	return n > 0 && n == p->n_hosts;
}

static int revert_preflight(struct labop *p, const struct db_snapshot *snap, char **doms,
			    struct xerr *e)
{
	_cleanup_free_ char *now = hosts_csv(p);

	/* A host the store lost since would keep its guests' rows with no host. */
	if (!hosts_are(p, snap->hosts))
		return xerr_set(e, XERR_CONFLICT,
				"lab '%s' has host(s) %s now, snapshot '%s' holds %s: it cannot "
				"bring the lab back whole; `xlab snapshot rm %s %s` forgets it",
				p->lab, *now ? now : "none", snap->name, snap->hosts, p->lab,
				snap->name);
	for (size_t i = 0; i < p->n_hosts; i++) {
		bool has;

		if (virt_snapshot_has(host_virt(p, i), doms[i], &p->own, snap->name, &has, e) < 0)
			return xerr_prefix(e, "host '%s'", p->hosts[i].name);
		if (!has)
			return xerr_set(e, XERR_CONFLICT,
					"host '%s' of lab '%s' has no part of snapshot '%s' (it "
					"was added or remade after %s, the snapshot's hosts: %s); "
					"`xlab snapshot rm %s %s` forgets the snapshot",
					p->hosts[i].name, p->lab, snap->name, snap->created,
					snap->hosts, p->lab, snap->name);
	}
	return 0;
}

/* What revert and rm start with: the lab opened for ev, its snapshot of
 * that name (or the names it has), its hosts' domain names. */
static int snapshot_open(struct labop *p, const char *lab, const char *name, const char *connect,
			 enum lab_event ev, const char *command, struct db_snapshot **snap,
			 char ***doms, struct xerr *e)
{
	*snap = NULL;
	*doms = NULL;
	if (name_check(lab, name, e) < 0) {
		*p = (struct labop){ .lock = -1 };
		return -1;
	}
	if (labop_open(p, lab, connect, ev, command, e) < 0 ||
	    snapshot_require(p, name, snap, e) < 0 || !(*doms = host_domains(p, e)))
		return -1;
	return 0;
}

static int hosts_revert(struct labop *p, char **doms, const char *name, struct xerr *e)
{
	for (size_t i = 0; i < p->n_hosts; i++) {
		struct step s;

		step_begin(&s, &p->run, "host.revert", p->hosts[i].name);
		if (step_end(&s, virt_snapshot_revert(host_virt(p, i), doms[i], &p->own, name, e), e) < 0)
			return xerr_prefix(e, "host '%s'", p->hosts[i].name);
	}
	return 0;
}

/* The dom0's clock, as seconds since the epoch; -1 when it cannot be read. */
static int64_t dom0_clock(struct sshc *c)
{
	static const char *const argv[] = { "date", "-u", "+%s", NULL };
	_cleanup_free_ char *out = NULL;
	struct xerr ignore = { 0 };
	int status = -1;

	if (sshc_exec(c, argv, NULL, &status, &out, NULL, &ignore) < 0 || status != 0 || !out)
		return -1;
	return strtoll(out, NULL, 10);
}

/* The dom0's clock went back with its memory: set it to the controller's
 * (wall clock, not now_ms's monotonic one), so what it logs and records
 * from now on has today's time, and read it back. The guests keep the time
 * they had (Xen's system time is the saved one). */
static void dom0_clock_set(struct labop *p, const struct db_host *h, struct sshc *c)
{
	char at[32];
	const char *argv[] = { "date", "-u", "-s", at, NULL };
	struct xerr why = { 0 };
	int64_t have;
	int status = 0;

	snprintf(at, sizeof(at), "@%lld", (long long)time(NULL));
	if (sshc_exec(c, argv, NULL, &status, NULL, NULL, &why) < 0 || status != 0) {
		run_say(&p->run, h->name, "warning: could not set its clock (%s)",
			why.msg[0] ? why.msg : "date failed");
		return;
	}
	have = dom0_clock(c);
	if (have < 0 || llabs(have - (int64_t)time(NULL)) > DOM0_CLOCK_SLACK_S)
		run_say(&p->run, h->name, "warning: its clock reads %" PRId64 " after being set to %s",
			have, at + 1);
}

static int hosts_answer(struct labop *p, int timeout_s, struct xerr *e)
{
	for (size_t i = 0; i < p->n_hosts; i++) {
		struct sshc *c = NULL;
		struct step s;

		step_begin(&s, &p->run, "host.ssh", p->hosts[i].name);
		if (step_end(&s, labop_host_wait_ssh(p, &p->hosts[i], timeout_s, &c, e), e) < 0)
			return xerr_prefix(e, "host '%s'", p->hosts[i].name);
		dom0_clock_set(p, &p->hosts[i], c);
		sshc_free(c);
		if (node_record_host(p->db, &p->hosts[i], NODE_EV_UP, e) < 0)
			return -1;
	}
	return 0;
}

static int network_start(struct labop *p, struct xerr *e)
{
	_cleanup_free_ char *net = NULL;
	struct labnet_names names;
	struct step s;

	if (lab_network_name(p->lab, &net, e) < 0)
		return -1;
	for (size_t i = 0; labop_server_virt(p, i); i++) {
		step_begin(&s, &p->run, "network.start", p->server_names[1] ? p->server_names[i] : net);
		if (step_end(&s, virt_network_start(labop_server_virt(p, i), net, &p->own, e), e) < 0)
			return -1;
	}
	if (!p->server_names[1])
		return 0;
	labnet_names_of(p->own.store, p->lab, &names);
	step_begin(&s, &p->run, "network.join", names.vxlan);
	if (step_end(&s, labnet_rejoin(&p->dirs, &names, e), e) < 0)
		return -1;
	/* Before any host that attaches the shared disk runs again. */
	step_begin(&s, &p->run, "shared.serve", p->server_names[0]);
	return step_end(&s, sharednbd_lab_serve(&p->dirs, net, e), e);
}

int lab_revert(const char *lab, const char *name, const char *connect, int timeout_s,
	       struct snapshot_timing *t, struct xerr *e)
{
	_cleanup_strv_ char **doms = NULL;
	struct db_snapshot *snap = NULL;
	struct snapshot_timing tm = { 0 };
	int64_t t0 = now_ms(), paused;
	struct labop p;
	struct step s;
	int rc = -1;

	if (snapshot_open(&p, lab, name, connect, LAB_EV_REVERT, NULL, &snap, &doms, e) < 0 ||
	    revert_preflight(&p, snap, doms, e) < 0 || network_start(&p, e) < 0)
		goto out;
	paused = now_ms();
	if (hosts_revert(&p, doms, name, e) < 0) {
		struct xerr ignore = { 0 };

		/* Those reverted already run the snapshot's state, the rest their
		 * own: neither is the lab any more; say so rather than leave it
		 * paused. */
		hosts_resume(&p, doms, p.n_hosts, &ignore);
		xerr_prefix(e, "revert of lab '%s' stopped halfway (`xlab revert %s %s` again, or "
			       "`xlab down %s`)", lab, lab, name, lab);
		goto out;
	}
	step_begin(&s, &p.run, "hosts.resume", NULL);
	if (step_end(&s, hosts_resume(&p, doms, p.n_hosts, e), e) < 0)
		goto out;
	tm.paused_ms = since(paused);
	if (db_snapshot_restore_guests(p.db, lab, name, e) < 0 || hosts_answer(&p, timeout_s, e) < 0 ||
	    lab_state_advance(p.db, lab, LAB_EV_REVERT, e) < 0)
		goto out;
	tm.total_ms = since(t0);
	run_say(&p.run, NULL,
		"lab '%s' is back at snapshot '%s' (taken %s) in %.1f s; its %d guest(s) run as "
		"they did then",
		lab, name, snap->created, tm.total_ms / 1000.0, snap->guests);
	if (t)
		*t = tm;
	rc = 0;
out:
	if (snap)
		db_snapshots_free(snap, 1);
	labop_close(&p, rc, e);
	return rc;
}

/* ---- rm ---- */

int lab_snapshot_rm(const char *lab, const char *name, const char *connect, struct xerr *e)
{
	_cleanup_strv_ char **doms = NULL;
	struct db_snapshot *snap = NULL;
	struct labop p;
	int rc = -1;

	/* Any state the lab can have snapshots in: as a revert may be made. */
	if (snapshot_open(&p, lab, name, connect, LAB_EV_REVERT, "snapshot rm", &snap, &doms, e) <
	    0)
		goto out;
	for (size_t i = 0; i < p.n_hosts; i++) {
		struct step s;

		step_begin(&s, &p.run, "host.snapshot.rm", p.hosts[i].name);
		if (step_end(&s, virt_snapshot_delete(host_virt(&p, i), doms[i], &p.own, name, e), e) < 0) {
			xerr_prefix(e, "host '%s'", p.hosts[i].name);
			goto out;
		}
	}
	if (db_snapshot_delete(p.db, lab, name, e) < 0)
		goto out;
	run_say(&p.run, NULL, "snapshot '%s' of lab '%s' removed", name, lab);
	rc = 0;
out:
	if (snap)
		db_snapshots_free(snap, 1);
	labop_close(&p, rc, e);
	return rc;
}
