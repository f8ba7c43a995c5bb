/* Taking a lab down: remove every domain, network, disk and file the lab
 * owns. Works on a half-made lab too: what exists is found through libvirt's
 * xlab metadata and the store, not through the spec. */
#include "down.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "lab.h"
#include "labnet.h"
#include "lifecycle.h"
#include "names.h"
#include "run.h"
#include "server_images.h"
#include "servers.h"
#include "sharednbd.h"
#include "serverspec.h"
#include "util.h"
#include "virt.h"

/* Only this store's domains of the lab: another store's lab of the same
 * name has its own (names_domain() carries the store id, the metadata too). */
static int down_domains(struct virt *v, struct run *r, const struct virt_owner *own,
			struct xerr *e)
{
	_cleanup_strv_ char **names = NULL;
	int rc = 0;

	if (virt_lab_domains(v, own, &names, e) < 0)
		return -1;
	for (char **p = names; p && *p && rc == 0; p++) {
		struct step s;

		step_begin(&s, r, "host.remove", *p);
		rc = step_end(&s, virt_domain_remove(v, *p, own, e), e);
	}
	return rc;
}

/* Domains of this lab that an xlab older than store ids made carry no store
 * in their metadata: no command of this store touches them, so removing the
 * lab's files would pull the disks from under QEMUs that still run them. */
static int refuse_older_xlabs_domains(struct virt *v, const char *lab, struct xerr *e)
{
	_cleanup_strv_ char **stores = NULL;

	if (virt_lab_stores(v, lab, &stores, e) < 0)
		return -1;
	for (char **p = stores; *p; p++)
		if (!**p)
			return xerr_set(e, XERR_FAIL,
					"libvirt has domains of lab '%s' made by an older xlab (no "
					"store id in their metadata); xlab leaves them and the lab's "
					"files alone: remove them with `virsh destroy` and `virsh "
					"undefine` (`virsh list --all | grep xlab-%s-`), then run "
					"`xlab down %s` again",
					lab, lab, lab);
	return 0;
}

/* A lab on another server: its hosts' disks are volumes of the server's
 * pool, each named after the lab's network and a dot (plan.c host_paths). */
static int down_volumes(struct virt *v, const char *net, struct xerr *e)
{
	_cleanup_free_ char *prefix = xasprintf("%s.", net);
	struct virt_vol *vols = NULL;
	size_t n = 0;
	int rc = 0;

	if (virt_pool_volumes(v, SERVER_POOL, &vols, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (strncmp(vols[i].name, prefix, strlen(prefix)) == 0)
			rc = virt_vol_delete(v, SERVER_POOL, vols[i].name, e);
	virt_vols_free(vols, n);
	return rc;
}

/* What of the lab is on one server (v, taken): its domains, its lab
 * network (and a lab across servers' VXLAN device there), the volumes of
 * a server that is not this machine. */
static int down_there(const char *server, struct virt *v, bool spread,
		      const struct virt_owner *own, const char *net, struct run *r,
		      struct xerr *e)
{
	bool here = strcmp(server, SERVER_LOCAL) == 0;
	_cleanup_free_ char *what = xasprintf("%s on %s", net, server);
	struct lab_via via = { 0 };
	struct step s;
	bool named = false;
	int rc = -1;

	if (refuse_older_xlabs_domains(v, own->lab, e) < 0 || down_domains(v, r, own, e) < 0)
		goto out;
	step_begin(&s, r, "network.remove", spread ? what : net);
	if (step_end(&s, virt_network_remove(v, net, own, e), e) < 0)
		goto out;
	if (spread) {
		struct labnet_site site = { .name = server };
		struct labnet_names names;

		labnet_names_of(own->store, own->lab, &names);
		/* These name the server in their errors already. */
		named = true;
		if (!here && server_via_named(server, &via, e) < 0)
			goto out;
		site.via = here ? NULL : &via;
		step_begin(&s, r, "network.leave", server);
		if (step_end(&s, labnet_leave(names.vxlan, &site, e), e) < 0)
			goto out;
		named = false;
	}
	if (!here) {
		step_begin(&s, r, "volumes.remove", server);
		if (step_end(&s, down_volumes(v, net, e), e) < 0)
			goto out;
	}
	rc = 0;
out:
	lab_via_free(&via);
	virt_close(v);
	/* A lab all here has one place: no need to name it. */
	if (rc < 0 && !named && (spread || !here))
		return xerr_prefix(e, "server '%s'", server);
	return rc;
}

static int down_on_server(const char *server, bool spread, const char *connect,
			  const struct virt_owner *own, const char *net, struct run *r,
			  struct xerr *e)
{
	struct virt *v = NULL;

	if (strcmp(server, SERVER_LOCAL) != 0) {
		/* Its errors name the server already. */
		if (server_open_named(server, &v, e) < 0)
			return -1;
	} else if (virt_open(virt_default_uri(connect, NULL), &v, e) < 0) {
		return spread ? xerr_prefix(e, "server '%s'", server) : -1;
	}
	return down_there(server, v, spread, own, net, r, e);
}

/* Every server of the lab, each as far as it goes: one that cannot be
 * reached keeps the lab's records (a later `down` finishes it), and the
 * error lists what is left where. */
static int down_servers(const struct lab_dirs *dirs, const char *connect,
			const struct virt_owner *own, const char *net, struct run *r,
			struct xerr *e)
{
	_cleanup_strv_ char **servers = lab_servers(dirs);
	bool spread = servers[0] && servers[1];
	struct buf left = { 0 };
	bool own_failed = false;
	size_t failed = 0;
	int rc = 0;

	for (char **p = servers; *p; p++) {
		struct xerr one = { 0 };

		if (down_on_server(*p, spread, connect, own, net, r, &one) == 0)
			continue;
		if (!spread) {
			*e = one;
			return -1;
		}
		buf_printf(&left, "\n  %s", one.msg);
		own_failed = own_failed || p == servers;
		failed++;
	}
	/* The shared disk's server, once no host uses it any more (one that
	 * did not answer is listed already). */
	if (spread && !own_failed) {
		struct xerr one = { 0 };
		struct step s;

		step_begin(&s, r, "shared.stop", servers[0]);
		if (step_end(&s, sharednbd_lab_stop(dirs, net, &one), &one) < 0) {
			buf_printf(&left, "\n  the shared disk's qemu-nbd: %s", one.msg);
			failed++;
		}
	}
	if (failed)
		rc = xerr_set(e, XERR_FAIL,
			      "lab '%s' is not down: what is left of it was not removed:%s\nits "
			      "records are kept; `xlab down %s` again removes the rest once the "
			      "server answers",
			      own->lab, left.data, own->lab);
	buf_free(&left);
	return rc;
}

static int down_lab(const char *lab, const char *connect, struct xerr *e)
{
	_cleanup_free_ char *net = NULL;
	struct virt_owner own;
	struct lab_dirs dirs = { 0 };
	struct db *db = NULL;
	struct run r;
	struct step s;
	int lock, rc = -1;
	bool started = false;

	lock = lab_lock(lab, "down", e);
	if (lock < 0)
		return -1;
	if (db_open_default(&db, e) < 0 || db_runs_mark_interrupted(db, lab, e) < 0)
		goto out;
	if (run_begin(&r, db, lab, "down", NULL, e) < 0)
		goto out;
	started = true;
	if (lab_owner(lab, &own, e) < 0 || lab_network_name(lab, &net, e) < 0 ||
	    lab_dirs_get(lab, &dirs, e) < 0)
		goto out;
	if (down_servers(&dirs, connect, &own, net, &r, e) < 0)
		goto out;
	/* Every guest died with its host; the lab's rows go with them, so a
	 * later lab of this name, from any spec, starts from its own alone.
	 * Its snapshots lived in the hosts' disks and libvirt's metadata of
	 * them, both gone with the domains: their rows go too. */
	if (db_lab_forget_nodes(db, lab, e) < 0)
		goto out;
	step_begin(&s, &r, "files.remove", dirs.dir);
	if (step_end(&s, rm_rf(dirs.dir, e), e) < 0)
		goto out;
	if (lab_state_advance(db, lab, LAB_EV_DOWN, e) < 0)
		goto out;
	run_say(&r, NULL, "lab '%s' is down: no domain, network or file of it is left", lab);
	rc = 0;
out:
	if (started)
		run_end(&r, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
	lab_dirs_free(&dirs);
	if (db)
		db_close(db);
	lab_unlock(lock);
	return rc;
}

/* A lab the store never had is a typo, not a lab to take down: refuse it
 * before anything is locked or recorded. One whose store rows are gone but
 * whose domains libvirt still has (xlab metadata) is still taken down. */
static int down_known(const char *lab, const char *connect, struct xerr *e)
{
	_cleanup_strv_ char **names = NULL;
	struct db *db = NULL;
	struct db_lab *l = NULL;
	struct virt *v = NULL;
	struct virt_owner own;
	struct lab_dirs dirs = { 0 };
	int rc = -1;

	if (db_open_default(&db, e) < 0)
		return -1;
	if (db_lab_get(db, lab, &l, e) < 0)
		goto out;
	rc = 0;
	if (l)
		goto out;
	if (lab_owner(lab, &own, e) == 0 && lab_dirs_get(lab, &dirs, e) == 0 &&
	    lab_virt_open(&dirs, connect, &v, e) == 0 &&
	    virt_lab_domains(v, &own, &names, e) == 0 && names && names[0])
		goto out;
	rc = lab_unknown(db, lab, e);
out:
	if (v)
		virt_close(v);
	lab_dirs_free(&dirs);
	db_lab_free(l);
	db_close(db);
	return rc;
}

int lab_down(const char *lab, const char *connect, struct xerr *e)
{
	if (down_known(lab, connect, e) < 0)
		return -1;
	return down_lab(lab, connect, e);
}
