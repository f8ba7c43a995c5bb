/* xlab class: copies up in parallel (one process per copy, its output
 * prefixed with the copy's name), reset, down, status, the sheet. Each copy is
 * a lab of its own: `lab_up_spec` brings it up, `xlab down` takes it down. */
#include "class_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "class.h"
#include "db.h"
#include "down.h"
#include "lab.h"
#include "lifecycle.h"
#include "names.h"
#include "paths.h"
#include "spec.h"
#include "stop.h"
#include "table.h"
#include "up.h"
#include "util.h"
#include "virt.h"

struct class_ctx {
	const struct class_opts *o;
	struct spec *base;
	char *path; /* the spec, absolute: reset runs from anywhere */
	char *data;
	size_t len;
	struct class_copy *copies;
	size_t n;
	struct db *db;
};

static void ctx_free(struct class_ctx *c)
{
	spec_free(c->base);
	free(c->path);
	free(c->data);
	class_copies_free(c->copies, c->n);
	if (c->db)
		db_close(c->db);
}

static int spec_read(struct class_ctx *c, const char *path, struct xerr *e)
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

struct child {
	pid_t pid;
	int fd;
	size_t idx;
	struct buf line;
	int status;
};

/* The child: one copy, all output into the pipe, its result into the store. */
static void __attribute__((noreturn))
child_run(struct class_ctx *c, struct spec *spec, size_t i, int fd)
{
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

	/* A forked copy is a process of its own: its start is its entry point. */
	stop_on_signals(STOP_AT_SAFE_POINT);
	signal(SIGPIPE, SIG_DFL);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = lab_up_spec(spec, &uo, &res, &e);
	if (rc < 0)
		xerr_print(&e, "xlab");
	if (db_open_default(&db, &de) == 0) {
		/* The store keeps the first line: the full story is in `xlab runs`. */
		e.msg[strcspn(e.msg, "\n")] = '\0';
		db_class_copy_set_state(db, c->copies[i].lab, rc == 0 ? "up" : "failed",
					rc == 0 ? NULL : e.msg,
					rc == 0 ? now_ms() - t0 : 0, 0, &de);
		db_close(db);
	}
	fflush(NULL);
	_exit(rc == 0 ? 0 : 1);
}

static void child_lines(struct child *ch, const char *lab, const char *data, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (data[k] != '\n') {
			buf_append(&ch->line, &data[k], 1);
			continue;
		}
		fprintf(stderr, "[%s] %s\n", lab, ch->line.data ? ch->line.data : "");
		buf_free(&ch->line);
	}
}

/* Reads every child's output until all have ended. */
static void children_wait(struct class_ctx *c, struct child *ch, size_t n)
{
	struct pollfd *p = xcalloc(n, sizeof(*p));
	size_t open_fds = n;

	while (open_fds) {
		for (size_t k = 0; k < n; k++)
			p[k] = (struct pollfd){ .fd = ch[k].fd, .events = POLLIN };
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t k = 0; k < n; k++) {
			char data[4096];
			ssize_t r;

			if (ch[k].fd < 0 || !(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(ch[k].fd, data, sizeof(data));
			if (r > 0) {
				child_lines(&ch[k], c->copies[ch[k].idx].lab, data, (size_t)r);
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (ch[k].line.data)
				child_lines(&ch[k], c->copies[ch[k].idx].lab, "\n", 1);
			close(ch[k].fd);
			ch[k].fd = -1;
			open_fds--;
		}
	}
	for (size_t k = 0; k < n; k++)
		if (waitpid(ch[k].pid, &ch[k].status, 0) < 0)
			ch[k].status = -1;
	free(p);
}

/* One process per copy: a copy's failure or crash stays its own, and each
 * has its own lock, libvirt connection and store handle. */
static int copies_start(struct class_ctx *c, const bool *start, struct spec **specs,
			struct xerr *e)
{
	struct child *ch = xcalloc(c->n, sizeof(*ch));
	struct buf failed = { 0 };
	size_t n = 0, n_failed = 0;
	int rc = 0;

	/* Ctrl-C reaches the children, which end their runs cleanly; this
	 * process stays to collect what they say. */
	signal(SIGINT, SIG_IGN);
	db_close(c->db);
	c->db = NULL;
	fflush(NULL);
	for (size_t i = 0; i < c->n; i++) {
		int fds[2];

		if (!start[i])
			continue;
		if (pipe2(fds, O_CLOEXEC) < 0) {
			rc = xerr_errno(e, XERR_IO, "pipe");
			break;
		}
		ch[n] = (struct child){ .fd = fds[0], .idx = i };
		ch[n].pid = fork();
		if (ch[n].pid < 0) {
			close(fds[0]);
			close(fds[1]);
			rc = xerr_errno(e, XERR_IO, "fork");
			break;
		}
		if (ch[n].pid == 0) {
			close(fds[0]);
			child_run(c, specs[i], i, fds[1]);
		}
		close(fds[1]);
		fprintf(stderr, "xlab: class %s: %s%s%s on %s: starting (pid %d)\n", c->base->lab,
			c->copies[i].lab, c->copies[i].student ? " for " : "",
			c->copies[i].student ? c->copies[i].student : "", c->copies[i].subnet,
			(int)ch[n].pid);
		n++;
	}
	children_wait(c, ch, n);
	for (size_t k = 0; k < n; k++) {
		const struct class_copy *cp = &c->copies[ch[k].idx];
		bool ok = ch[k].status >= 0 && WIFEXITED(ch[k].status) &&
			  WEXITSTATUS(ch[k].status) == 0;

		fprintf(stderr, "xlab: class %s: %s: %s\n", c->base->lab, cp->lab,
			ok ? "up" : "FAILED");
		if (!ok) {
			buf_printf(&failed, "%s%s", n_failed++ ? ", " : "", cp->lab);
			if (!WIFEXITED(ch[k].status) && c->db == NULL) {
				/* Killed before it could record: say so for status. */
				struct db *db = NULL;
				struct xerr ig = { 0 };

				if (db_open_default(&db, &ig) == 0) {
					db_class_copy_set_state(db, cp->lab, "failed",
								"the copy's process was killed", 0,
								0, &ig);
					db_close(db);
				}
			}
		}
		buf_free(&ch[k].line);
	}
	signal(SIGINT, SIG_DFL);
	if (rc == 0 && n_failed)
		rc = xerr_set(e, XERR_FAIL,
			      "%zu of %zu cop%s failed: %s; retry one with `xlab class up %s --only "
			      "COPY` (`xlab class status %s` shows why)",
			      n_failed, n, n == 1 ? "y" : "ies", failed.data, c->path, c->base->lab);
	buf_free(&failed);
	free(ch);
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

	if (spec_read(&c, spec_path, e) < 0 || students_read(&c, &students, e) < 0)
		goto out;
	if (class_copies_make(c.base->lab, o->copies ? o->copies : c.base->class_copies,
			      students, &c.copies, &c.n, e) < 0)
		goto out;
	start = xcalloc(c.n, sizeof(*start));
	specs = xcalloc(c.n, sizeof(*specs));
	if (db_open_default(&c.db, e) < 0 || subnets_assign(&c, e) < 0 ||
	    copies_plan(&c, start, specs, e) < 0 || fit_check(&c, start, e) < 0 ||
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
	ctx_free(&c);
	return rc;
}

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

static int copy_wipe(struct db *db, const struct spec *s, const struct class_opts *o,
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
	if (lab_owner(s->lab, &own, e) < 0 ||
	    virt_open(virt_default_uri(o->connect, s->libvirt_uri), &v, e) < 0 ||
	    virt_lab_domains(v, &own, &doms, e) < 0)
		goto out;
	for (char **p = doms; p && *p; p++)
		if (virt_domain_remove(v, *p, &own, e) < 0)
			goto out;
	if (lab_dirs_get(s->lab, &dirs, e) < 0)
		goto out;
	for (size_t i = 0; i < s->n_hosts; i++) {
		_cleanup_free_ char *hd = names_host_dir(dirs.dir, s->hosts[i].name);

		if (host_dir_clean(hd, e) < 0)
			goto out;
	}
	if (db_hosts_list(db, s->lab, &hosts, &nh, e) < 0)
		goto out;
	for (size_t i = 0; i < nh; i++) {
		struct db_host h = hosts[i];

		h.state = "removed";
		if (db_host_upsert(db, &h, e) < 0)
			goto out;
	}
	rc = 0;
out:
	db_hosts_free(hosts, nh);
	lab_dirs_free(&dirs);
	if (v)
		virt_close(v);
	lab_unlock(lock);
	return rc;
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
	    spec_read(&c, r.cls->spec_path, e) < 0)
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
	if (db_class_copy_set_state(r.db, cp.lab, "resetting", NULL, 0, 0, e) < 0 ||
	    copy_wipe(r.db, s, o, e) < 0)
		goto fail;
	fprintf(stderr, "xlab: class %s: %s: domains and disks gone after %.1f s; bringing it "
			"up again\n",
		name, cp.lab, (double)(now_ms() - t0) / 1000.0);
	if (lab_up_spec(s, &uo, NULL, e) < 0)
		goto fail;
	ms = now_ms() - t0;
	db_class_copy_set_state(r.db, cp.lab, "up", NULL, 0, ms, e);
	printf("%s reset in %.1f s\n", cp.lab, (double)ms / 1000.0);
	rc = 0;
	goto out;
fail: {
	struct xerr ig = { 0 };
	_cleanup_free_ char *first = xstrndup(e->msg, strcspn(e->msg, "\n"));

	db_class_copy_set_state(r.db, cp.lab, "failed", first, 0, 0, &ig);
}
out:
	spec_free(s);
	ctx_free(&c);
	rec_free(&r);
	return rc;
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

static struct json_object *copy_json(struct db *db, struct virt *v,
				     const struct db_class_copy *row)
{
	struct json_object *o = json_object_new_object(), *hs = json_object_new_array();
	struct db_host *hosts = NULL;
	size_t nh = 0;
	struct xerr e = { 0 };

	json_object_object_add(o, "copy", json_object_new_string(row->lab));
	json_object_object_add(o, "index", json_object_new_int(row->idx));
	json_object_object_add(o, "student",
			       row->student ? json_object_new_string(row->student) : NULL);
	json_object_object_add(o, "subnet",
			       row->subnet ? json_object_new_string(row->subnet) : NULL);
	json_object_object_add(o, "state", json_object_new_string(copy_state(v, row)));
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
	struct table *t = TABLE_NEW("  ", "COPY", "STUDENT", "SUBNET", "STATE", "UP", "RESET",
				    "HOSTS");
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
	size_t n;
};

static void sheet_data_free(struct sheet_data *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->hosts[i]);
		db_hosts_free(s->db_hosts[i], s->n_db_hosts[i]);
		lab_dirs_free(&s->dirs[i]);
	}
	free(s->copies);
	free(s->hosts);
	free(s->db_hosts);
	free(s->n_db_hosts);
	free(s->dirs);
}

static int sheet_copy_fill(struct sheet_data *s, size_t i, struct db *db, struct virt *v,
			   const struct db_class_copy *row, struct xerr *e)
{
	struct sheet_copy *c = &s->copies[i];

	if (lab_dirs_get(row->lab, &s->dirs[i], e) < 0 ||
	    db_hosts_list(db, row->lab, &s->db_hosts[i], &s->n_db_hosts[i], e) < 0)
		return -1;
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
	*c = (struct sheet_copy){
		.lab = row->lab,
		.student = row->student,
		.key = s->dirs[i].key,
		.known_hosts = s->dirs[i].known_hosts,
		.hosts = s->hosts[i],
		.n_hosts = s->n_db_hosts[i],
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
	if (virt_open(virt_default_uri(o->connect, NULL), &v, &ve) < 0)
		v = NULL;
	for (size_t i = 0; i < r.n; i++) {
		if (!strcmp(r.rows[i].state, "down"))
			continue;
		s.n = k + 1;
		if (sheet_copy_fill(&s, k, r.db, v, &r.rows[i], e) < 0)
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
