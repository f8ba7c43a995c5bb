/* A recorded class: reset one copy (its hosts' keys kept, so students'
 * known_hosts stay true), take every copy down (lab_down), status, and the
 * students' sheet. */
#include "class_run.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_int.h"
#include "down.h"
#include "lab.h"
#include "nodestate.h"
#include "servers.h"
#include "serverspec.h"
#include "snapshot.h"
#include "table.h"
#include "up.h"
#include "virt.h"

/* ---- the recorded class ---- */

struct class_rec {
	struct db *db;
	struct db_class *cls;
	struct db_class_copy *rows;
	size_t n;
};

static void rec_free(struct class_rec *r)
{
	if (r->cls)
		db_classes_free(r->cls, 1);
	db_class_copies_free(r->rows, r->n);
	if (r->db)
		db_close(r->db);
}

static int rec_load(const char *name, struct class_rec *r, struct xerr *e)
{
	memset(r, 0, sizeof(*r));
	if (db_open_default(&r->db, e) < 0 || db_class_get(r->db, name, &r->cls, e) < 0)
		return -1;
	if (!r->cls)
		return xerr_set(e, XERR_FAIL, "no class '%s' (`xlab class status` lists them)",
				name);
	return db_class_copies_list(r->db, name, &r->rows, &r->n, e);
}

static int rec_find(const struct class_rec *r, const char *sel, size_t *idx, struct xerr *e)
{
	struct class_copy *v = xcalloc(r->n ? r->n : 1, sizeof(*v));
	int rc;

	for (size_t i = 0; i < r->n; i++) {
		v[i].idx = r->rows[i].idx;
		snprintf(v[i].lab, sizeof(v[i].lab), "%s", r->rows[i].lab);
		v[i].student = r->rows[i].student ? xstrdup(r->rows[i].student) : NULL;
	}
	rc = class_copy_find(v, r->n, sel, idx, e);
	class_copies_free(v, r->n);
	return rc;
}

/* ---- reset ---- */

/* A host's directory without its disks: its SSH host key stays, so the
 * copy comes back with the keys the students already trust. */
static int host_dir_clean(const char *dir, struct xerr *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : xerr_errno(e, XERR_IO, "%s", dir);
	while ((de = readdir(d)) && rc == 0) {
		_cleanup_free_ char *p = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strncmp(de->d_name, "ssh_host_ed25519_key", 20))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		rc = rm_rf(p, e);
	}
	closedir(d);
	return rc;
}

static int copy_wipe(struct db *db, struct spec *s, const struct class_opts *o,
		     struct xerr *e)
{
	_cleanup_strv_ char **doms = NULL;
	struct lab_dirs dirs = { 0 };
	struct virt *v = NULL;
	struct virt_owner own;
	struct db_host *hosts = NULL;
	size_t nh = 0;
	int lock, rc = -1;

	lock = lab_lock(s->lab, "class reset", e);
	if (lock < 0)
		return -1;
	/* A copy on another server is rebuilt there (its disks are made new
	 * by `up`); its record names the server. */
	if (lab_owner(s->lab, &own, e) < 0 || lab_dirs_get(s->lab, &dirs, e) < 0)
		goto out;
	if ((dirs.server ? server_open_named(dirs.server, &v, e)
			 : virt_open(virt_default_uri(o->connect, s->libvirt_uri), &v, e)) < 0 ||
	    virt_lab_domains(v, &own, &doms, e) < 0)
		goto out;
	for (char **p = doms; p && *p; p++)
		if (virt_domain_remove(v, *p, &own, e) < 0)
			goto out;
	free(s->server);
	s->server = dirs.server ? xstrdup(dirs.server) : NULL;
	for (size_t i = 0; i < s->n_hosts; i++) {
		_cleanup_free_ char *hd = names_host_dir(dirs.dir, s->hosts[i].name);

		if (host_dir_clean(hd, e) < 0)
			goto out;
	}
	/* The snapshots lived in the disks just removed. */
	if (db_snapshot_delete(db, s->lab, NULL, e) < 0 || db_hosts_list(db, s->lab, &hosts, &nh, e) < 0)
		goto out;
	for (size_t i = 0; i < nh; i++)
		if (node_record_host(db, &hosts[i], NODE_EV_REMOVE, e) < 0)
			goto out;
	rc = 0;
out:
	db_hosts_free(hosts, nh);
	lab_dirs_free(&dirs);
	if (v)
		virt_close(v);
	lab_unlock(lock);
	return rc;
}

/* Back to the snapshot `class up` took, when the copy has one: true when
 * it is. A copy that cannot go back is rebuilt (said, not an error). */
static bool copy_revert(struct db *db, const char *cls, const char *lab,
			const struct class_opts *o)
{
	struct db_snapshot *snap = NULL;
	struct xerr e = { 0 };
	int has = db_snapshot_get(db, lab, CLASS_START_SNAPSHOT, &snap, &e);

	if (snap)
		db_snapshots_free(snap, 1);
	if (has <= 0)
		return false;
	if (lab_revert(lab, CLASS_START_SNAPSHOT, o->connect, o->boot_timeout_s, NULL, &e) == 0)
		return true;
	fprintf(stderr, "xlab: warning: class %s: %s: could not go back to its start snapshot "
			"(%s); rebuilding it\n",
		cls, lab, e.msg);
	return false;
}

int class_reset(const char *name, const char *copy, const struct class_opts *o,
		struct xerr *e)
{
	struct class_rec r;
	struct class_ctx c = { .o = o };
	struct class_copy cp = { 0 };
	struct spec *s = NULL;
	struct up_opts uo = {
		.connect = o->connect,
		.accel = o->accel,
		.boot_timeout_s = o->boot_timeout_s,
		.made_by = "class",
	};
	size_t i;
	int64_t t0 = now_ms(), ms;
	int rc = -1;

	if (rec_load(name, &r, e) < 0 || rec_find(&r, copy, &i, e) < 0 ||
	    class_spec_read(&c, r.cls->spec_path, e) < 0)
		goto out;
	if (strcmp(c.base->sha256, r.cls->spec_sha256) != 0)
		fprintf(stderr, "xlab: warning: %s changed since `class up`; the copy is reset to "
				"what it says now\n",
			c.path);
	cp.idx = r.rows[i].idx;
	snprintf(cp.lab, sizeof(cp.lab), "%s", r.rows[i].lab);
	snprintf(cp.subnet, sizeof(cp.subnet), "%s", r.rows[i].subnet ? r.rows[i].subnet : "");
	if (class_spec_copy(c.path, c.data, c.len, &cp, &s, e) < 0)
		goto out;
	fprintf(stderr, "xlab: class %s: resetting %s (%s)\n", name, cp.lab, cp.subnet);
	if (db_class_copy_set_state(r.db, cp.lab, "resetting", NULL, 0, 0, e) < 0)
		goto fail;
	if (strcmp(c.base->sha256, r.cls->spec_sha256) == 0 && copy_revert(r.db, name, cp.lab, o)) {
		ms = now_ms() - t0;
		db_class_copy_set_state(r.db, cp.lab, "up", NULL, 0, ms, e);
		printf("%s reset in %.1f s (back to its start snapshot)\n", cp.lab,
		       (double)ms / 1000.0);
		rc = 0;
		goto out;
	}
	if (copy_wipe(r.db, s, o, e) < 0)
		goto fail;
	fprintf(stderr, "xlab: class %s: %s: domains and disks gone after %.1f s; bringing it "
			"up again\n",
		name, cp.lab, (double)(now_ms() - t0) / 1000.0);
	if (lab_up_spec(s, &uo, NULL, e) < 0)
		goto fail;
	ms = now_ms() - t0;
	db_class_copy_set_state(r.db, cp.lab, "up", NULL, 0, ms, e);
	printf("%s reset in %.1f s\n", cp.lab, (double)ms / 1000.0);
	class_copy_keep_start(name, s, o->connect, ms);
	rc = 0;
	goto out;
fail: {
	struct xerr ig = { 0 };
	_cleanup_free_ char *first = xstrndup(e->msg, strcspn(e->msg, "\n"));

	db_class_copy_set_state(r.db, cp.lab, "failed", first, 0, 0, &ig);
}
out:
	spec_free(s);
	class_ctx_free(&c);
	rec_free(&r);
	return rc;
}

/* ---- snapshot, revert ---- */

typedef int (*copy_op)(const char *lab, const char *snap, const struct class_opts *o,
		       struct snapshot_timing *t, struct xerr *e);

static int copy_snapshot(const char *lab, const char *snap, const struct class_opts *o,
			 struct snapshot_timing *t, struct xerr *e)
{
	return lab_snapshot(lab, snap, o->connect, t, e);
}

static int copy_back(const char *lab, const char *snap, const struct class_opts *o,
		     struct snapshot_timing *t, struct xerr *e)
{
	return lab_revert(lab, snap, o->connect, o->boot_timeout_s, t, e);
}

/* Copy by copy, every one tried: one copy's failure is its own. */
static int copies_each(const char *name, const char *snap, const struct class_opts *o,
		       copy_op op, const char *done, struct xerr *e)
{
	struct class_rec r;
	struct buf failed = { 0 };
	int64_t t0 = now_ms();
	size_t n_failed = 0;
	int rc = -1;

	if (rec_load(name, &r, e) < 0)
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		struct snapshot_timing t = { 0 };
		struct xerr one = { 0 };

		if (op(r.rows[i].lab, snap, o, &t, &one) < 0) {
			xerr_print(&one, "xlab");
			buf_printf(&failed, "%s%s", n_failed++ ? ", " : "", r.rows[i].lab);
			continue;
		}
		printf("%s %s '%s' in %.1f s\n", r.rows[i].lab, done, snap, t.total_ms / 1000.0);
	}
	if (n_failed) {
		xerr_set(e, XERR_FAIL, "class %s: %zu of %zu copies failed: %s", name, n_failed, r.n,
			 failed.data);
		goto out;
	}
	printf("class %s: %zu copies %s '%s' in %.1f s\n", name, r.n, done, snap,
	       (now_ms() - t0) / 1000.0);
	rc = 0;
out:
	buf_free(&failed);
	rec_free(&r);
	return rc;
}

int class_snapshot(const char *name, const char *snap, const struct class_opts *o,
		   struct xerr *e)
{
	return copies_each(name, snap, o, copy_snapshot, "kept as", e);
}

int class_revert(const char *name, const char *snap, const struct class_opts *o,
		 struct xerr *e)
{
	return copies_each(name, snap, o, copy_back, "back at", e);
}

/* ---- down ---- */

int class_down(const char *name, const struct class_opts *o, struct xerr *e)
{
	struct class_rec r;
	struct buf failed = { 0 };
	int rc = -1;

	if (rec_load(name, &r, e) < 0)
		goto out;
	/* The same down as any lab's, copy by copy. */
	for (size_t i = 0; i < r.n; i++) {
		struct xerr de = { 0 };

		fprintf(stderr, "xlab: class %s: taking %s down\n", name, r.rows[i].lab);
		if (lab_down(r.rows[i].lab, o->connect, &de) < 0) {
			buf_printf(&failed, "\n  %s: %s", r.rows[i].lab, de.msg);
			db_class_copy_set_state(r.db, r.rows[i].lab, "failed", de.msg, 0, 0, &de);
		} else {
			db_class_copy_set_state(r.db, r.rows[i].lab, "down", NULL, 0, 0, &de);
		}
	}
	if (failed.data) {
		xerr_set(e, XERR_FAIL, "class %s: some copies did not go down:%s", name,
			 failed.data);
		goto out;
	}
	if (db_class_set_state(r.db, name, "down", e) < 0)
		goto out;
	fprintf(stderr, "xlab: class %s is down: %zu cop%s, no domain, network or file left\n",
		name, r.n, r.n == 1 ? "y" : "ies");
	rc = 0;
out:
	buf_free(&failed);
	rec_free(&r);
	return rc;
}

/* ---- status ---- */

/* "up" as recorded is checked against libvirt: a copy whose domains are
 * not all running is "broken". */
static const char *copy_state(struct virt *v, const struct db_class_copy *row)
{
	_cleanup_strv_ char **doms = NULL;
	struct virt_owner own;
	struct xerr e = { 0 };

	if (strcmp(row->state, "up") != 0 || !v)
		return row->state;
	if (lab_owner(row->lab, &own, &e) < 0 || virt_lab_domains(v, &own, &doms, &e) < 0 ||
	    !doms || !doms[0])
		return "broken";
	for (char **p = doms; *p; p++) {
		struct virt_dom_info info;

		if (virt_domain_info(v, *p, &info, &e) < 0 || !info.exists || !info.running)
			return "broken";
	}
	return "up";
}

/* The server a copy runs on, as its lab's record says: NULL here. */
static char *copy_server(const char *lab)
{
	struct lab_dirs d;
	struct xerr ig = { 0 };
	char *name = NULL;

	if (lab_dirs_get(lab, &d, &ig) == 0 && d.server)
		name = xstrdup(d.server);
	lab_dirs_free(&d);
	return name;
}

static struct json_object *copy_json(struct db *db, struct virt *here,
				     const struct db_class_copy *row)
{
	struct json_object *o = json_object_new_object(), *hs = json_object_new_array();
	_cleanup_free_ char *server = copy_server(row->lab);
	struct db_host *hosts = NULL;
	struct virt *v = here, *there = NULL;
	size_t nh = 0;
	struct xerr e = { 0 };

	/* A copy on another server is asked there; unanswered, as recorded. */
	if (server && strcmp(row->state, "up") == 0) {
		v = server_open_named(server, &there, &e) == 0 ? there : NULL;
		xerr_clear(&e);
	}
	json_object_object_add(o, "server", json_object_new_string(server ? server : SERVER_LOCAL));
	json_object_object_add(o, "copy", json_object_new_string(row->lab));
	json_object_object_add(o, "index", json_object_new_int(row->idx));
	json_object_object_add(o, "student",
			       row->student ? json_object_new_string(row->student) : NULL);
	json_object_object_add(o, "subnet",
			       row->subnet ? json_object_new_string(row->subnet) : NULL);
	json_object_object_add(o, "state", json_object_new_string(copy_state(v, row)));
	if (there)
		virt_close(there);
	json_object_object_add(o, "message",
			       row->message ? json_object_new_string(row->message) : NULL);
	json_object_object_add(o, "up_ms", json_object_new_int64(row->up_ms));
	json_object_object_add(o, "reset_ms", json_object_new_int64(row->reset_ms));
	if (db_hosts_list(db, row->lab, &hosts, &nh, &e) == 0)
		for (size_t i = 0; i < nh; i++) {
			struct json_object *h = json_object_new_object();

			json_object_object_add(h, "name", json_object_new_string(hosts[i].name));
			json_object_object_add(h, "ip", json_object_new_string(hosts[i].ip));
			json_object_object_add(h, "state",
					       json_object_new_string(hosts[i].state));
			json_object_array_add(hs, h);
		}
	db_hosts_free(hosts, nh);
	json_object_object_add(o, "hosts", hs);
	return o;
}

static struct json_object *class_json(struct db *db, struct virt *v, const struct db_class *cls,
				      struct xerr *e)
{
	struct json_object *o = json_object_new_object(), *cs = json_object_new_array();
	struct db_class_copy *rows = NULL;
	size_t n = 0;

	if (db_class_copies_list(db, cls->name, &rows, &n, e) < 0) {
		json_object_put(o);
		json_object_put(cs);
		return NULL;
	}
	json_object_object_add(o, "class", json_object_new_string(cls->name));
	json_object_object_add(o, "spec", json_object_new_string(cls->spec_path));
	json_object_object_add(o, "state", json_object_new_string(cls->state));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(cs, copy_json(db, v, &rows[i]));
	json_object_object_add(o, "copies", cs);
	db_class_copies_free(rows, n);
	return o;
}

/* A copy's hosts, "h1=10.0.0.10 h2=...", for its row. */
static char *copy_hosts(struct json_object *hs)
{
	struct buf h = { 0 };

	for (size_t k = 0; k < json_object_array_length(hs); k++) {
		struct json_object *x = json_object_array_get_idx(hs, k);

		buf_printf(&h, "%s%s=%s", k ? " " : "",
			   json_object_get_string(json_object_object_get(x, "name")),
			   json_object_get_string(json_object_object_get(x, "ip")));
	}
	return h.data ? buf_steal(&h) : xstrdup("");
}

static void class_print(struct json_object *o)
{
	struct json_object *cs = json_object_object_get(o, "copies");
	struct table *t = TABLE_NEW("  ", "COPY", "STUDENT", "SERVER", "SUBNET", "STATE", "UP",
				    "RESET", "HOSTS");
	struct buf msgs = { 0 };

	printf("class %s (%s): %s\n", json_object_get_string(json_object_object_get(o, "class")),
	       json_object_get_string(json_object_object_get(o, "spec")),
	       json_object_get_string(json_object_object_get(o, "state")));
	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		struct json_object *c = json_object_array_get_idx(cs, i);
		const char *copy = json_object_get_string(json_object_object_get(c, "copy"));
		const char *msg = json_object_get_string(json_object_object_get(c, "message"));
		char up[16] = "-", rs[16] = "-";
		int64_t up_ms = json_object_get_int64(json_object_object_get(c, "up_ms"));
		int64_t rs_ms = json_object_get_int64(json_object_object_get(c, "reset_ms"));
		_cleanup_free_ char *hosts = copy_hosts(json_object_object_get(c, "hosts"));

		if (up_ms)
			snprintf(up, sizeof(up), "%.0fs", (double)up_ms / 1000.0);
		if (rs_ms)
			snprintf(rs, sizeof(rs), "%.0fs", (double)rs_ms / 1000.0);
		TABLE_ROW(t, copy, json_object_get_string(json_object_object_get(c, "student")),
			  json_object_get_string(json_object_object_get(c, "server")),
			  json_object_get_string(json_object_object_get(c, "subnet")),
			  json_object_get_string(json_object_object_get(c, "state")), up, rs, hosts);
		/* Messages below the table: in it they would widen every row. */
		if (msg)
			buf_printf(&msgs, "  %s: %s\n", copy, msg);
	}
	table_print(t, stdout);
	if (msgs.data)
		fputs(msgs.data, stdout);
	buf_free(&msgs);
	table_free(t);
}

int class_status(const char *name, bool json, const struct class_opts *o, struct xerr *e)
{
	struct db *db = NULL;
	struct virt *v = NULL;
	struct db_class *cls = NULL;
	struct json_object *all = json_object_new_array();
	struct xerr ve = { 0 };
	size_t n = 0;
	int rc = -1;

	if (db_open_default(&db, e) < 0)
		goto out;
	if (name) {
		if (db_class_get(db, name, &cls, e) < 0)
			goto out;
		if (!cls) {
			xerr_set(e, XERR_FAIL, "no class '%s'", name);
			goto out;
		}
		n = 1;
	} else if (db_classes_list(db, &cls, &n, e) < 0) {
		goto out;
	}
	/* Without libvirt the recorded states are still worth showing. */
	if (virt_open(virt_default_uri(o->connect, NULL), &v, &ve) < 0)
		v = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = class_json(db, v, &cls[i], e);

		if (!c)
			goto out;
		json_object_array_add(all, c);
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(name ? json_object_array_get_idx(all, 0) : all,
							     JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (n == 0)
		printf("no classes\n");
	else
		for (size_t i = 0; i < n; i++)
			class_print(json_object_array_get_idx(all, i));
	rc = 0;
out:
	json_object_put(all);
	if (cls)
		db_classes_free(cls, n ? n : 1);
	if (v)
		virt_close(v);
	if (db)
		db_close(db);
	return rc;
}

/* ---- sheet ---- */

struct sheet_data {
	struct sheet_copy *copies;
	struct sheet_host **hosts;
	struct db_host **db_hosts;
	size_t *n_db_hosts;
	struct lab_dirs *dirs;
	char **jumps;
	size_t n;
};

static void sheet_data_free(struct sheet_data *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->hosts[i]);
		db_hosts_free(s->db_hosts[i], s->n_db_hosts[i]);
		lab_dirs_free(&s->dirs[i]);
		free(s->jumps[i]);
	}
	free(s->jumps);
	free(s->copies);
	free(s->hosts);
	free(s->db_hosts);
	free(s->n_db_hosts);
	free(s->dirs);
}

/* A copy on another server is reached through that server's sshd: the
 * class's jump account on it (the same user), or the login of its URI. */
static char *server_jump(const struct lab_dirs *d, const char *class_jump)
{
	const char *at = class_jump ? strchr(class_jump, '@') : NULL;
	_cleanup_free_ char *user = at ? xstrndup(class_jump, (size_t)(at - class_jump))
				       : xstrdup(d->via.user ? d->via.user : "root");

	if (d->via.port && d->via.port != 22)
		return xasprintf("%s@%s:%d", user, d->via.addr, d->via.port);
	return xasprintf("%s@%s", user, d->via.addr);
}

static int sheet_copy_fill(struct sheet_data *s, size_t i, struct db *db, struct virt *here,
			   const struct db_class_copy *row, const char *class_jump, struct xerr *e)
{
	struct sheet_copy *c = &s->copies[i];
	struct virt *v = here, *there = NULL;

	if (lab_dirs_get(row->lab, &s->dirs[i], e) < 0 ||
	    db_hosts_list(db, row->lab, &s->db_hosts[i], &s->n_db_hosts[i], e) < 0)
		return -1;
	if (s->dirs[i].server) {
		struct xerr ig = { 0 };

		v = server_open_named(s->dirs[i].server, &there, &ig) == 0 ? there : NULL;
		s->jumps[i] = server_jump(&s->dirs[i], class_jump);
	}
	s->hosts[i] = xcalloc(s->n_db_hosts[i] + 1, sizeof(struct sheet_host));
	for (size_t k = 0; k < s->n_db_hosts[i]; k++) {
		const struct db_host *h = &s->db_hosts[i][k];
		_cleanup_free_ char *dom = NULL;
		struct virt_dom_info info = { 0 };
		struct xerr ig = { 0 };

		s->hosts[i][k].name = h->name;
		s->hosts[i][k].ip = h->ip;
		if (v && lab_domain_name(row->lab, h->name, &dom, &ig) == 0 &&
		    virt_domain_info(v, dom, &info, &ig) == 0 && info.running)
			s->hosts[i][k].vnc_port = info.vnc_port;
	}
	if (there)
		virt_close(there);
	*c = (struct sheet_copy){
		.lab = row->lab,
		.student = row->student,
		.key = s->dirs[i].key,
		.known_hosts = s->dirs[i].known_hosts,
		.hosts = s->hosts[i],
		.n_hosts = s->n_db_hosts[i],
		.jump = s->jumps[i],
	};
	return 0;
}

int class_sheet(const char *name, enum sheet_format fmt, const char *jump,
		const struct class_opts *o, struct xerr *e)
{
	struct class_rec r;
	struct sheet_data s = { 0 };
	struct virt *v = NULL;
	struct xerr ve = { 0 };
	struct buf out = { 0 };
	size_t k = 0;
	int rc = -1;

	if (rec_load(name, &r, e) < 0)
		goto out;
	s.copies = xcalloc(r.n + 1, sizeof(*s.copies));
	s.hosts = xcalloc(r.n + 1, sizeof(*s.hosts));
	s.db_hosts = xcalloc(r.n + 1, sizeof(*s.db_hosts));
	s.n_db_hosts = xcalloc(r.n + 1, sizeof(*s.n_db_hosts));
	s.dirs = xcalloc(r.n + 1, sizeof(*s.dirs));
	s.jumps = xcalloc(r.n + 1, sizeof(*s.jumps));
	if (virt_open(virt_default_uri(o->connect, NULL), &v, &ve) < 0)
		v = NULL;
	for (size_t i = 0; i < r.n; i++) {
		if (!strcmp(r.rows[i].state, "down"))
			continue;
		s.n = k + 1;
		if (sheet_copy_fill(&s, k, r.db, v, &r.rows[i], jump, e) < 0)
			goto out;
		k++;
	}
	if (k == 0) {
		xerr_set(e, XERR_FAIL, "class '%s' has no copy that is not down", name);
		goto out;
	}
	if (class_sheet_render(name, s.copies, k, fmt, jump, &out, e) < 0)
		goto out;
	fputs(out.data, stdout);
	rc = 0;
out:
	buf_free(&out);
	sheet_data_free(&s);
	if (v)
		virt_close(v);
	rec_free(&r);
	return rc;
}
