/* xlab down LAB|FILE: remove every domain, network, disk and file the lab
 * owns. Works on a half-made lab too: what exists is found through libvirt's
 * xlab metadata and the store, not through the spec. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "lab.h"
#include "run.h"
#include "util.h"
#include "virt.h"

/* Every guest died with its host. The store forgets guests made by hand
 * (`xlab guest create`) and marks the spec's removed, so the next `up`
 * starts from the spec alone and makes them again. */
static int down_guests(struct db *db, const char *lab, struct xerr *e)
{
	struct db_guest *guests = NULL;
	size_t n = 0;
	int rc = 0;

	if (db_guests_list(db, lab, &guests, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (guests[i].made_by && strcmp(guests[i].made_by, "hand") == 0)
			rc = db_guest_delete(db, lab, guests[i].name, e);
	db_guests_free(guests, n);
	return rc < 0 ? -1 : db_guests_set_state(db, lab, NULL, "removed", e);
}

static int down_domains(struct virt *v, struct run *r, const char *lab, struct db *db,
			struct xerr *e)
{
	_cleanup_strv_ char **names = NULL;
	struct db_host *hosts = NULL;
	size_t n = 0;
	int rc = 0;

	if (virt_lab_domains(v, lab, &names, e) < 0)
		return -1;
	for (char **p = names; p && *p && rc == 0; p++) {
		struct step s;

		step_begin(&s, r, "host.remove", *p);
		rc = step_end(&s, virt_domain_remove(v, *p, lab, e), e);
	}
	if (rc < 0 || db_hosts_list(db, lab, &hosts, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct db_host h = hosts[i];

		h.state = "removed";
		rc = db_host_upsert(db, &h, e);
	}
	db_hosts_free(hosts, n);
	return rc < 0 ? -1 : down_guests(db, lab, e);
}

static int down_lab(const char *lab, const char *connect, struct xerr *e)
{
	_cleanup_free_ char *net = xasprintf("xlab-%s", lab);
	struct lab_dirs dirs = { 0 };
	struct db *db = NULL;
	struct virt *v = NULL;
	struct run r;
	struct step s;
	int lock, rc = -1;
	bool started = false;

	lock = lab_lock(lab, "down", e);
	if (lock < 0)
		return -1;
	/* Finish even when the user presses Ctrl-C again: half a down is worse. */
	signal(SIGINT, SIG_IGN);
	if (db_open_default(&db, e) < 0 || db_runs_mark_interrupted(db, lab, e) < 0)
		goto out;
	if (run_begin(&r, db, lab, "down", NULL, e) < 0)
		goto out;
	started = true;
	if (virt_open(virt_default_uri(connect, NULL), &v, e) < 0)
		goto out;
	if (down_domains(v, &r, lab, db, e) < 0)
		goto out;
	step_begin(&s, &r, "network.remove", net);
	if (step_end(&s, virt_network_remove(v, net, e), e) < 0)
		goto out;
	if (lab_dirs_get(lab, &dirs, e) < 0)
		goto out;
	step_begin(&s, &r, "files.remove", dirs.dir);
	if (step_end(&s, rm_rf(dirs.dir, e), e) < 0)
		goto out;
	if (db_lab_set_state(db, lab, "down", e) < 0)
		goto out;
	run_say(&r, NULL, "lab '%s' is down: no domain, network or file of it is left", lab);
	rc = 0;
out:
	if (started)
		run_end(&r, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
	lab_dirs_free(&dirs);
	if (v)
		virt_close(v);
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
	int rc = -1;

	if (db_open_default(&db, e) < 0)
		return -1;
	if (db_lab_get(db, lab, &l, e) < 0)
		goto out;
	rc = 0;
	if (l)
		goto out;
	if (virt_open(virt_default_uri(connect, NULL), &v, e) == 0 &&
	    virt_lab_domains(v, lab, &names, e) == 0 && names && names[0])
		goto out;
	rc = lab_unknown(db, lab, e);
out:
	if (v)
		virt_close(v);
	db_lab_free(l);
	db_close(db);
	return rc;
}

int cmd_down(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *connect = NULL;
	_cleanup_free_ char *lab = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'c')
			return cmd_usage_error(e, "down", "unknown option");
		connect = optarg;
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "down", "expected one lab name or spec file");
	if (lab_name_from_arg(argv[optind], &lab, e) < 0 || down_known(lab, connect, e) < 0)
		return -1;
	return down_lab(lab, connect, e);
}
