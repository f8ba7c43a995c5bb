/* xlab class up: copies up in parallel, one process per copy, its output
 * prefixed with the copy's name. Each copy is a lab of its own that
 * `lab_up_spec` brings up. Reset, down, status and the sheet of a recorded
 * class are in class_ops.c. */
#include "class_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "class_int.h"
#include "lifecycle.h"
#include "paths.h"
#include "stop.h"
#include "up.h"

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

	if (class_spec_read(&c, spec_path, e) < 0 || students_read(&c, &students, e) < 0)
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
	class_ctx_free(&c);
	return rc;
}

