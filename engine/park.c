/* xlab stop / xlab start: park a lab without destroying it, and bring it
 * back as it was. Stop shuts every guest down in its dom0, powers each dom0
 * off and keeps what `down` would remove: host domains (defined, shut off),
 * their disks, the guests' LVs and the xl configs the agent kept in each
 * dom0, the store's rows. Start boots the hosts again and recreates each
 * guest's domain from its kept config, so no filesystem is made again and
 * guests made by hand (`xlab guest create`) come back like the spec's. */
#include "park.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_ops.h"
#include "db.h"
#include "guest_agent.h"
#include "hostconn.h"
#include "labnet.h"
#include "labop.h"
#include "nodestate.h"
#include "sharednbd.h"
#include "run.h"
#include "sshc.h"
#include "util.h"
#include "virt.h"

/* How long guests get to shut down inside their dom0, and a dom0 to power
 * itself off once asked, before xlab forces them. */
#define PARK_GUESTS_S 120
#define PARK_DOM0_S 90
#define PARK_ACPI_S 30

static int host_state(struct labop *p, const struct db_host *h, enum node_event ev,
		      struct xerr *e)
{
	return node_record_host(p->db, h, ev, e);
}

/* A guest that never came up (a refused or failed `guest create` leaves a
 * row "failed") has no domain to stop or bring back: only the guests that
 * were up are parked, and only parked ones are started. */
static bool guest_parked(const struct db_guest *g, const char *host)
{
	enum node_state s = node_state_parse(g->state);

	return strcmp(g->host, host) == 0 && (s == NODE_UP || s == NODE_STOPPED);
}

static int guests_state(struct labop *p, const char *host, enum node_event ev, struct xerr *e)
{
	for (size_t i = 0; i < p->n_guests; i++)
		if (guest_parked(&p->guests[i], host) &&
		    node_record_guest(p->db, &p->guests[i], ev, e) < 0)
			return -1;
	return 0;
}

/* ---- stop ---- */

static int guests_shutdown(struct labop *p, const struct db_host *h, struct sshc *c,
			   struct xerr *e)
{
	_cleanup_free_ char *agent_path = NULL;
	struct agent_shutdown_out out = { 0 };
	struct agent *ag = NULL;
	bool pushed;
	int rc;

	if (agent_local_path(&agent_path, e) < 0 || agent_open(c, agent_path, &ag, &pushed, e) < 0)
		return -1;
	rc = agent_guests_shutdown(ag, PARK_GUESTS_S, &out, e);
	for (size_t i = 0; rc == 0 && out.destroyed[i]; i++)
		run_say(&p->run, h->name,
			"warning: guest '%s' ignored the shutdown request: synced and destroyed%s%s",
			out.destroyed[i], out.xl_said ? "; " : "", out.xl_said ? out.xl_said : "");
	agent_shutdown_out_free(&out);
	agent_close(ag);
	return rc;
}

/* Inside the running dom0: every guest shut down (their filesystems clean),
 * then the dom0 asked to power off through its init (SIGUSR2 to
 * /sbin/xlab-init: sync, poweroff). The image's dom0 has no ACPI daemon, so
 * libvirt's shutdown alone would only ever end in a destroy. */
static int dom0_park(struct labop *p, const struct db_host *h, struct xerr *e)
{
	static const char *const poweroff[] = { "kill", "-USR2", "1", NULL };
	struct sshc *c = NULL;
	struct step s;
	int status, rc;

	step_begin(&s, &p->run, "guests.shutdown", h->name);
	rc = lab_host_connect(&p->dirs, h->name, h->ip, &c, e) < 0 ? -1 :
		guests_shutdown(p, h, c, e);
	/* The session may die with the dom0 before kill's status arrives. */
	if (step_end(&s, rc, e) == 0 && sshc_exec(c, poweroff, NULL, &status, NULL, NULL, e) < 0)
		xerr_clear(e);
	sshc_free(c);
	return rc;
}

static int host_stop(struct labop *p, const struct db_host *h, struct xerr *e)
{
	_cleanup_free_ char *dom = NULL;
	struct virt_dom_info info;
	struct step s;
	bool forced = false;
	int self_s = 0;

	struct virt *v = labop_host_virt(p, h->name);

	if (lab_domain_name(p->lab, h->name, &dom, e) < 0 || virt_domain_info(v, dom, &info, e) < 0)
		return -1;
	if (info.exists && virt_owner_check("domain", dom, &info.owner, &p->own, e) < 0)
		return -1;
	if (info.running) {
		struct xerr why = { 0 };

		/* An unreachable dom0 still has to stop: libvirt does it, and says so. */
		if (dom0_park(p, h, &why) == 0)
			self_s = PARK_DOM0_S;
		else
			run_say(&p->run, h->name,
				"warning: could not shut its guests down from the dom0 (%s); "
				"stopping the host from libvirt",
				why.msg);
	}
	step_begin(&s, &p->run, "host.stop", h->name);
	if (!info.exists)
		step_skip(&s, "libvirt has no domain of it (`xlab status` shows the drift)");
	else if (!info.running)
		step_skip(&s, "already shut off");
	else if (step_end(&s, virt_domain_shutdown(v, dom, &p->own, self_s, PARK_ACPI_S,
						   &forced, e),
			  e) < 0)
		return -1;
	if (forced)
		run_say(&p->run, h->name,
			"warning: did not power off within %d s; destroyed (its disks are kept)",
			self_s + PARK_ACPI_S);
	if (guests_state(p, h->name, NODE_EV_STOP, e) < 0)
		return -1;
	return host_state(p, h, NODE_EV_STOP, e);
}

int lab_stop(const char *lab, const char *connect, struct xerr *e)
{
	struct labop p;
	int rc = -1;

	if (labop_open(&p, lab, connect, LAB_EV_STOP, NULL, e) < 0)
		goto out;
	for (size_t i = 0; i < p.n_hosts; i++)
		if (host_stop(&p, &p.hosts[i], e) < 0) {
			xerr_prefix(e, "host '%s'", p.hosts[i].name);
			goto out;
		}
	/* The network stays defined and active: it holds no state worth
	 * freeing (a bridge, a dnsmasq), and keeping it keeps the lab's
	 * addresses claimed on this libvirt while the lab is parked. */
	if (lab_state_advance(p.db, lab, LAB_EV_STOP, e) < 0)
		goto out;
	run_say(&p.run, NULL,
		"lab '%s' is stopped: its hosts are shut off, disks and guests kept; "
		"`xlab start %s` brings it back",
		lab, lab);
	rc = 0;
out:
	labop_close(&p, rc, e);
	return rc;
}

/* ---- start ---- */

static int host_power_on(struct labop *p, const struct db_host *h, struct xerr *e)
{
	_cleanup_free_ char *dom = NULL;
	struct virt_dom_info info;
	struct step s;

	struct virt *v = labop_host_virt(p, h->name);

	if (lab_domain_name(p->lab, h->name, &dom, e) < 0 || virt_domain_info(v, dom, &info, e) < 0)
		return -1;
	if (!info.exists)
		return xerr_set(e, XERR_FAIL,
				"libvirt has no domain '%s' any more, so its disks cannot be "
				"started as they were; `xlab down %s` then `xlab up` remakes the lab",
				dom, p->lab);
	if (virt_owner_check("domain", dom, &info.owner, &p->own, e) < 0)
		return -1;
	step_begin(&s, &p->run, "host.start", h->name);
	if (info.running) {
		/* A host left paused (a snapshot or revert cut short) runs on. */
		if (virt_domain_resume(v, dom, &p->own, e) < 0)
			return step_end(&s, -1, e);
		step_skip(&s, "already running");
		return 0;
	}
	return step_end(&s, virt_domain_start(v, dom, e), e);
}

static int guest_bring_back(struct labop *p, struct agent *ag, const struct db_guest *g,
			    struct xerr *e)
{
	enum spec_guest_type type = SPEC_GUEST_PV;
	bool hvm = false;
	struct step s;

	step_begin(&s, &p->run, "guest.start", g->name);
	if (step_end(&s, agent_guest_start(ag, g->name, &hvm, e), e) < 0)
		return -1;
	/* The store has no type: the agent read it from the kept config. */
	if (hvm)
		type = SPEC_GUEST_HVM;
	step_begin(&s, &p->run, "guest.boot", g->name);
	if (step_end(&s, guest_agent_wait(ag, g->name, type, e), e) < 0)
		return -1;
	run_say(&p->run, g->name, "up on %s at %s, its filesystem as it was", g->host, g->ip);
	return 0;
}

static int host_bring_back(struct labop *p, const struct db_host *h, int timeout_s,
			   struct xerr *e)
{
	_cleanup_free_ char *agent_path = NULL;
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	struct step s;
	bool pushed;
	int rc = -1;

	step_begin(&s, &p->run, "host.boot", h->name);
	if (step_end(&s, labop_host_wait_ssh(p, h, timeout_s, &c, e), e) < 0)
		goto out;
	if (host_state(p, h, NODE_EV_UP, e) < 0)
		goto out;
	step_begin(&s, &p->run, "agent.push", h->name);
	if (step_end(&s, agent_local_path(&agent_path, e) < 0 ? -1 :
			 agent_open(c, agent_path, &ag, &pushed, e), e) < 0)
		goto out;
	for (size_t i = 0; i < p->n_guests; i++) {
		struct xerr ignore = { 0 };

		if (!guest_parked(&p->guests[i], h->name))
			continue;
		if (guest_bring_back(p, ag, &p->guests[i], e) < 0) {
			node_record_guest(p->db, &p->guests[i], NODE_EV_FAIL, &ignore);
			goto out;
		}
		if (node_record_guest(p->db, &p->guests[i], NODE_EV_UP, e) < 0)
			goto out;
	}
	rc = 0;
out:
	agent_close(ag);
	sshc_free(c);
	return rc;
}

int lab_start(const char *lab, const char *connect, int boot_timeout_s, struct xerr *e)
{
	_cleanup_free_ char *net = NULL;
	struct labop p;
	struct step s;
	int rc = -1;

	if (labop_open(&p, lab, connect, LAB_EV_START, NULL, e) < 0)
		goto out;
	if (lab_network_name(lab, &net, e) < 0)
		goto out;
	for (size_t i = 0; labop_server_virt(&p, i); i++) {
		step_begin(&s, &p.run, "network.start", p.server_names[1] ? p.server_names[i] : net);
		if (step_end(&s, virt_network_start(labop_server_virt(&p, i), net, &p.own, e), e) < 0)
			goto out;
	}
	/* A server that restarted lost the VXLAN device with its bridge. */
	if (p.server_names[1]) {
		struct labnet_names names;

		labnet_names_of(p.own.store, lab, &names);
		step_begin(&s, &p.run, "network.join", names.vxlan);
		if (step_end(&s, labnet_rejoin(&p.dirs, &names, e), e) < 0)
			goto out;
	}
	/* Before any host that attaches the shared disk starts. */
	if (p.server_names[1]) {
		step_begin(&s, &p.run, "shared.serve", p.server_names[0]);
		if (step_end(&s, sharednbd_lab_serve(&p.dirs, net, e), e) < 0)
			goto out;
	}
	/* Every host first: they boot side by side while the first is waited for. */
	for (size_t i = 0; i < p.n_hosts; i++)
		if (host_power_on(&p, &p.hosts[i], e) < 0) {
			xerr_prefix(e, "host '%s'", p.hosts[i].name);
			goto out;
		}
	for (size_t i = 0; i < p.n_hosts; i++)
		if (host_bring_back(&p, &p.hosts[i], boot_timeout_s, e) < 0) {
			xerr_prefix(e, "host '%s'", p.hosts[i].name);
			goto out;
		}
	if (lab_state_advance(p.db, lab, LAB_EV_START, e) < 0)
		goto out;
	run_say(&p.run, NULL, "lab '%s' is up again (run %" PRId64 "); `xlab list %s` shows it",
		lab, p.run.id, lab);
	rc = 0;
out:
	labop_close(&p, rc, e);
	return rc;
}
