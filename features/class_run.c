/* xlab class up: copies up in parallel through the executor (one process
 * per copy, its output prefixed with the copy's name). Each copy is a lab of its own that
 * `lab_up_spec` brings up. Reset, down, status and the sheet of a recorded
 * class are in class_ops.c. */
#include "class_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "class_int.h"
#include "executor.h"
#include "lifecycle.h"
#include "lab.h"
#include "paths.h"
#include "placement.h"
#include "servers.h"
#include "serverspec.h"
#include "snapshot.h"
#include "up.h"
#include "virt.h"

void class_ctx_free(struct class_ctx *c)
{
	spec_free(c->base);
	free(c->path);
	free(c->data);
	class_copies_free(c->copies, c->n);
	if (c->db)
		db_close(c->db);
}

int class_spec_read(struct class_ctx *c, const char *path, struct xerr *e)
{
	struct spec_diags diags = { 0 };

	c->path = realpath(path, NULL);
	if (!c->path)
		return xerr_errno(e, XERR_USAGE, "%s", path);
	if (file_read_all(c->path, SPEC_MAX_BYTES, &c->data, &c->len, e) < 0)
		return -1;
	if (spec_load_buffer(path, c->data, c->len, &c->base, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		spec_diags_free(&diags);
		return -1;
	}
	spec_diags_free(&diags);
	/* Copies go to servers by placement (--servers), each whole on one. */
	if (spec_any_server(c->base))
		return xerr_set(e, XERR_USAGE,
				"%s: a class places its copies itself (`class up --servers "
				"local,%s`), each whole on one server; drop `server:` from the spec",
				path, spec_any_server(c->base));
	return 0;
}

/* The spec checked its students' path for '/' and ".."; a symlink next to
 * the spec could still lead out, so the resolved file must lie below the
 * spec's resolved directory, and be a regular file (no FIFO to wait on). */
static int students_inside(const char *dir, const char *path, struct xerr *e)
{
	_cleanup_free_ char *rdir = realpath(dir, NULL), *rpath = realpath(path, NULL);
	struct stat st;
	size_t n;

	if (!rdir || !rpath || stat(rpath, &st) < 0)
		return xerr_errno(e, XERR_IO, "the students' list %s", path);
	n = strlen(rdir);
	if (strncmp(rpath, rdir, n) != 0 || rpath[n] != '/')
		return xerr_set(e, XERR_USAGE,
				"the students' list %s is outside the spec's directory %s; pass "
				"--students FILE to use it", path, rdir);
	if (!S_ISREG(st.st_mode))
		return xerr_set(e, XERR_USAGE, "the students' list %s is not a regular file",
				path);
	return 0;
}

/* --students, else class.students (relative to the spec's directory). */
static int students_read(struct class_ctx *c, char ***names, struct xerr *e)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	const char *given = c->o->students ? c->o->students : c->base->class_students;
	size_t len;

	*names = NULL;
	if (!given)
		return 0;
	if (c->o->students) {
		path = xstrdup(given);
	} else {
		_cleanup_free_ char *dir = xstrdup(c->path);

		*strrchr(dir, '/') = '\0';
		path = xasprintf("%s/%s", dir, given);
		if (students_inside(dir, path, e) < 0)
			return -1;
	}
	if (file_read_all(path, CLASS_STUDENTS_MAX_BYTES, &data, &len, e) < 0)
		return xerr_prefix(e, "the students' list");
	return class_students_parse(path, data, len, names, e);
}

/* A copy still recorded (and not down) keeps its subnet; the others get
 * free ones, one after the other. */
static int subnets_assign(struct class_ctx *c, struct xerr *e)
{
	struct db_class_copy *rows = NULL;
	_cleanup_strv_ char **used = NULL;
	size_t nr = 0;
	int rc;

	if (db_class_copies_list(c->db, c->base->lab, &rows, &nr, e) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < nr; j++)
			if (!strcmp(rows[j].lab, c->copies[i].lab) && rows[j].subnet &&
			    strcmp(rows[j].state, "down") != 0)
				snprintf(c->copies[i].subnet, sizeof(c->copies[i].subnet), "%s",
					 rows[j].subnet);
	db_class_copies_free(rows, nr);
	if (db_subnets_in_use(c->db, &used, e) < 0)
		return -1;
	rc = class_subnets_allocate(c->copies, c->n, used, strv_len(used), e);
	return rc;
}

static bool lab_is_up(struct db *db, const char *lab)
{
	struct db_lab *l = NULL;
	struct xerr e = { 0 };
	bool up;

	if (db_lab_get(db, lab, &l, &e) < 0 || !l)
		return false;
	up = lab_state_parse(l->state) == LAB_UP;
	db_lab_free(l);
	return up;
}

static int fit_check(struct class_ctx *c, const bool *start, struct xerr *e)
{
	_cleanup_free_ char *meminfo = NULL, *home = NULL;
	struct class_fit f = {
		.mem_per_copy = class_spec_memory(c->base),
		.disk_per_copy = class_spec_disk(c->base),
	};
	struct statvfs sv;
	size_t len;

	for (size_t i = 0; i < c->n; i++)
		f.want += start[i] && !lab_is_up(c->db, c->copies[i].lab);
	if (file_read_all("/proc/meminfo", 1 << 20, &meminfo, &len, e) < 0)
		return -1;
	f.mem_avail = class_meminfo_available(meminfo);
	if (xlab_home(&home, e) < 0)
		return -1;
	if (statvfs(home, &sv) < 0)
		return xerr_errno(e, XERR_IO, "statvfs %s", home);
	f.disk_free = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (class_fit_check(&f, c->o->overcommit, e) < 0)
		return -1;
	if (f.want > f.max_fit)
		fprintf(stderr, "xlab: class %s: %d copies to start, %d fit: overcommitting "
				"(--overcommit)\n",
			c->base->lab, f.want, f.max_fit);
	return 0;
}

/* Where a copy that is not down already is: its lab's record ("local"
 * when it runs here), or NULL for a copy to place. */
static char *copy_recorded_server(struct db *db, const char *lab)
{
	struct lab_dirs d;
	struct xerr ig = { 0 };
	enum lab_state st;
	char *name = NULL;

	if (lab_state_get(db, lab, &st, &ig) < 0 || st == LAB_NONE || st == LAB_DOWN)
		return NULL;
	if (lab_dirs_get(lab, &d, &ig) == 0)
		name = xstrdup(d.server ? d.server : SERVER_LOCAL);
	lab_dirs_free(&d);
	return name;
}

/* --servers: every copy to start that is not on a server already placed
 * by memory left, said copy by copy; its spec then names the server. */
static int copies_place(struct class_ctx *c, const bool *start, struct spec **specs,
			struct xerr *e)
{
	_cleanup_strv_ char **names = NULL;
	struct place_server *ps = NULL;
	size_t *where = xcalloc(c->n + 1, sizeof(*where)), *todo = xcalloc(c->n + 1, sizeof(*todo));
	size_t n = 0;
	int rc = -1;

	if (servers_parse_list(c->o->servers, &names, e) < 0 ||
	    servers_measure(names, &ps, e) < 0)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		_cleanup_free_ char *was = start[i] ? copy_recorded_server(c->db, c->copies[i].lab)
						   : NULL;

		if (!start[i])
			continue;
		if (was) {
			fprintf(stderr, "xlab: class %s: %s stays on %s, where it is\n", c->base->lab,
				c->copies[i].lab, was);
			free(specs[i]->server);
			specs[i]->server = steal_ptr(was);
			continue;
		}
		todo[n++] = i;
	}
	if (place_copies(ps, strv_len(names), n, class_spec_memory(c->base),
			 class_spec_disk(c->base), c->o->overcommit, where, e) < 0)
		goto out;
	for (size_t k = 0; k < n; k++) {
		struct spec *sp = specs[todo[k]];

		free(sp->server);
		sp->server = xstrdup(names[where[k]]);
		fprintf(stderr, "xlab: class %s: %s on %s\n", c->base->lab, sp->lab, sp->server);
	}
	rc = 0;
out:
	servers_measure_free(ps, strv_len(names));
	free(where);
	free(todo);
	return rc;
}

/* Rows for the class and every copy to start; each copy's lab is recorded
 * with its subnet at once, so no other lab takes it meanwhile. */
static int class_record(struct class_ctx *c, const bool *start, struct xerr *e)
{
	if (db_class_upsert(c->db, c->base->lab, c->path, c->base->sha256, (int)c->n, "starting",
			    e) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		const struct class_copy *cp = &c->copies[i];
		struct db_class_copy row = {
			.lab = cp->lab,
			.class_name = c->base->lab,
			.student = cp->student,
			.subnet = cp->subnet,
			.idx = cp->idx,
			.state = start[i] ? "starting" : "allocated",
		};
		struct db_class_copy *old = NULL;
		size_t n_old = 0;

		/* A lab of that name made otherwise (a user's `LAB-01`) is never
		 * adopted as a copy, so `class down` never removes it. */
		if (db_lab_claim(c->db, cp->lab, "class", e) < 0)
			return xerr_prefix(e, "class %s, copy %d", c->base->lab, cp->idx);
		if (!start[i]) {
			/* Not started this time: keep what it is, only make sure it exists. */
			if (db_class_copies_list(c->db, c->base->lab, &old, &n_old, e) < 0)
				return -1;
			for (size_t j = 0; j < n_old; j++)
				if (!strcmp(old[j].lab, cp->lab))
					row.state = NULL;
			db_class_copies_free(old, n_old);
			if (!row.state)
				continue;
		}
		if (db_class_copy_upsert(c->db, &row, e) < 0)
			return -1;
		if (start[i] && !lab_is_up(c->db, cp->lab) &&
		    db_lab_upsert(c->db, cp->lab, c->path, c->base->sha256, cp->subnet, "partial",
				  e) < 0)
			return -1;
	}
	return 0;
}

/* The copy as it first came up, kept for `class reset` to go back to in
 * seconds rather than rebuild. A copy that cannot be kept (shared storage)
 * is rebuilt by reset as before. */
void class_copy_keep_start(const char *cls, const struct spec *s, const char *connect,
			    int64_t up_ms)
{
	struct snapshot_timing t = { 0 };
	struct xerr e = { 0 };

	if (s->shared_vg) {
		fprintf(stderr, "xlab: class %s: %s: up in %.1f s; no start snapshot (a lab with "
				"shared storage cannot be snapshotted): `class reset` rebuilds it\n",
			cls, s->lab, up_ms / 1000.0);
		return;
	}
	if (lab_snapshot(s->lab, CLASS_START_SNAPSHOT, connect, &t, &e) < 0) {
		fprintf(stderr, "xlab: warning: class %s: %s: no start snapshot (%s): `class "
				"reset` rebuilds it\n",
			cls, s->lab, e.msg);
		return;
	}
	fprintf(stderr, "xlab: class %s: %s: up in %.1f s; kept as snapshot '%s' in %.1f s\n",
		cls, s->lab, up_ms / 1000.0, CLASS_START_SNAPSHOT, t.total_ms / 1000.0);
}

struct copy_job {
	struct class_ctx *c;
	struct spec *spec;
	size_t idx;
};

/* A copy, in its own process (engine/executor.h): its bring-up, its result
 * into the store. */
static int copy_run(void *arg)
{
	struct copy_job *j = arg;
	struct class_ctx *c = j->c;
	struct up_opts uo = {
		.connect = c->o->connect,
		.accel = c->o->accel,
		.boot_timeout_s = c->o->boot_timeout_s,
		.made_by = "class",
	};
	struct up_result res = { 0 };
	struct xerr e = { 0 }, de = { 0 };
	struct db *db = NULL;
	int64_t t0 = now_ms();
	int rc;

	rc = lab_up_spec(j->spec, &uo, &res, &e);
	if (rc < 0)
		xerr_print(&e, "xlab");
	else
		class_copy_keep_start(c->base->lab, j->spec, c->o->connect, now_ms() - t0);
	if (db_open_default(&db, &de) == 0) {
		/* The store keeps the first line: the full story is in `xlab runs`. */
		e.msg[strcspn(e.msg, "\n")] = '\0';
		db_class_copy_set_state(db, c->copies[j->idx].lab, rc == 0 ? "up" : "failed",
					rc == 0 ? NULL : e.msg,
					rc == 0 ? now_ms() - t0 : 0, 0, &de);
		db_close(db);
	}
	return rc;
}

static void copy_started(const struct exec_job *job, void *ctx)
{
	const struct copy_job *j = job->arg;
	const struct class_copy *cp = &j->c->copies[j->idx];

	(void)ctx;
	fprintf(stderr, "xlab: class %s: %s%s%s on %s: starting (pid %d)\n", j->c->base->lab,
		cp->lab, cp->student ? " for " : "", cp->student ? cp->student : "", cp->subnet,
		(int)job->pid);
}

/* A copy that could not record its own end (killed, or never started
 * after a stop request): say why for status. */
static void copy_failed_record(const char *lab, const char *why)
{
	struct db *db = NULL;
	struct xerr ig = { 0 };

	if (db_open_default(&db, &ig) == 0) {
		db_class_copy_set_state(db, lab, "failed", why, 0, 0, &ig);
		db_close(db);
	}
}

/* Every copy to start at once, each a job of the executor: a copy's failure
 * or crash stays its own, and each has its own lock, libvirt connection and
 * store handle. */
static int copies_start(struct class_ctx *c, const bool *start, struct spec **specs,
			struct xerr *e)
{
	struct copy_job *cj = xcalloc(c->n, sizeof(*cj));
	struct exec_job *jobs = xcalloc(c->n, sizeof(*jobs));
	struct buf failed = { 0 };
	size_t n = 0, n_failed = 0, n_unstarted = 0;
	int rc;

	/* The children open their own; a handle must not cross a fork. */
	db_close(c->db);
	c->db = NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (!start[i])
			continue;
		cj[n] = (struct copy_job){ .c = c, .spec = specs[i], .idx = i };
		jobs[n] = (struct exec_job){ .label = c->copies[i].lab, .run = copy_run,
					     .arg = &cj[n] };
		n++;
	}
	rc = executor_run(jobs, n, 0, copy_started, NULL, e);
	for (size_t k = 0; k < n; k++) {
		const struct class_copy *cp = &c->copies[cj[k].idx];
		bool ok = exec_job_ok(&jobs[k]);

		if (!jobs[k].started) {
			copy_failed_record(cp->lab,
					   rc < 0 ? e->msg : "interrupted before it started");
			n_unstarted++;
			continue;
		}
		fprintf(stderr, "xlab: class %s: %s: %s\n", c->base->lab, cp->lab,
			ok ? "up" : "FAILED");
		if (ok)
			continue;
		buf_printf(&failed, "%s%s", n_failed++ ? ", " : "", cp->lab);
		if (exec_job_killed(&jobs[k]))
			copy_failed_record(cp->lab, "the copy's process was killed");
	}
	if (rc == 0 && n_unstarted)
		rc = xerr_set(e, XERR_INTERRUPTED,
			      "interrupted: %zu of %zu cop%s did not start; `xlab class up %s` "
			      "again brings up the rest",
			      n_unstarted, n, n == 1 ? "y" : "ies", c->path);
	else if (rc == 0 && n_failed)
		rc = xerr_set(e, XERR_FAIL,
			      "%zu of %zu cop%s failed: %s; retry one with `xlab class up %s --only "
			      "COPY` (`xlab class status %s` shows why)",
			      n_failed, n, n == 1 ? "y" : "ies", failed.data, c->path, c->base->lab);
	buf_free(&failed);
	free(jobs);
	free(cj);
	return rc;
}

static int copies_plan(struct class_ctx *c, bool *start, struct spec **specs, struct xerr *e)
{
	size_t only = 0;

	if (c->o->only && class_copy_find(c->copies, c->n, c->o->only, &only, e) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		start[i] = !c->o->only || i == only;
		if (start[i] &&
		    class_spec_copy(c->path, c->data, c->len, &c->copies[i], &specs[i], e) < 0)
			return -1;
	}
	return 0;
}

int class_up(const char *spec_path, const struct class_opts *o, struct xerr *e)
{
	struct class_ctx c = { .o = o };
	_cleanup_strv_ char **students = NULL;
	bool *start = NULL;
	struct spec **specs = NULL;
	int rc = -1;

	/* Its copies are forked workers using libvirt (virt.h). */
	virt_event_loop_defer(true);
	/* A bad --servers is said before anything is read or made. */
	if (o->servers) {
		_cleanup_strv_ char **names = NULL;

		if (servers_parse_list(o->servers, &names, e) < 0)
			goto out;
	}
	if (class_spec_read(&c, spec_path, e) < 0 || students_read(&c, &students, e) < 0)
		goto out;
	if (class_copies_make(c.base->lab, o->copies ? o->copies : c.base->class_copies,
			      students, &c.copies, &c.n, e) < 0)
		goto out;
	start = xcalloc(c.n, sizeof(*start));
	specs = xcalloc(c.n, sizeof(*specs));
	if (db_open_default(&c.db, e) < 0 || subnets_assign(&c, e) < 0 ||
	    copies_plan(&c, start, specs, e) < 0 ||
	    (o->servers ? copies_place(&c, start, specs, e) : fit_check(&c, start, e)) < 0 ||
	    class_record(&c, start, e) < 0)
		goto out;
	rc = copies_start(&c, start, specs, e);
	{
		struct xerr ig = { 0 };

		if (db_open_default(&c.db, &ig) == 0)
			db_class_set_state(c.db, c.base->lab, rc == 0 ? "up" : "partial", &ig);
	}
	if (rc == 0)
		fprintf(stderr, "xlab: class %s: %zu cop%s up; `xlab class sheet %s` for the "
				"students' access sheet\n",
			c.base->lab, c.n, c.n == 1 ? "y is" : "ies are", c.base->lab);
out:
	for (size_t i = 0; specs && i < c.n; i++)
		spec_free(specs[i]);
	free(specs);
	free(start);
	class_ctx_free(&c);
	return rc;
}

