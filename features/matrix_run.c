/* xlab matrix: expand, check images, bring copies up (in parallel when they
 * fit), record each cell, take copies down, render. A copy that does not
 * come up is a failed column, never the end of the matrix. */
#include "matrix_run.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_ops.h"
#include "db.h"
#include "down.h"
#include "executor.h"
#include "hostconn.h"
#include "image.h"
#include "lab.h"
#include "lifecycle.h"
#include "matrix.h"
#include "matrix_store.h"
#include "matrix_view.h"
#include "placement.h"
#include "servers.h"
#include "spec.h"
#include "stop.h"
#include "up.h"
#include "util.h"
#include "virt.h"
#include "version.h"

struct cell_work {
	const char *xen;     /* the cell's name: a version, or an image with --image */
	bool by_image;
	const char *type;    /* every guest's type with --types, else NULL (the spec's) */
	char lab[SPEC_NAME_MAX + 1];
	char subnet[20];
	struct spec *spec;
	struct image *img;
	int64_t cell_id;
	bool stale; /* a copy of this name is still recorded (an earlier --keep) */
};

struct matrix_ctx {
	const struct matrix_opts *o;
	struct db *db;
	int64_t id;
	char *agent_path;
	struct cell_work *cells;
	size_t n;
	/* --servers: their names, and how many cells each runs at once. */
	char **servers;
	int *caps;
};

/* "Xen 4.17" for a version's cell, the image's name for an image's, and
 * the guest type after it ("Xen 4.17 pvh"). */
#define XEN_OF(w) (w)->by_image ? "" : "Xen ", (w)->xen, (w)->type ? " " : "", \
		  (w)->type ? (w)->type : ""
#define XEN_FMT "%s%s%s%s"


/* A cell as a job of the executor: it runs in a process of its own, with
 * its own store handle. */
struct cell_job {
	struct matrix_ctx *m;
	struct cell_work *w;
	const struct exec_job *job; /* its slot: the server it runs on (--servers) */
};

static uint64_t mem_available(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			return (uint64_t)kb * 1024;
	return 0;
}

/* Every image first: a missing one is an error before any VM starts. */
static int images_open(struct matrix_ctx *m, struct xerr *e)
{
	struct buf msg = { 0 };
	int rc = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct cell_work *w = &m->cells[i];
		_cleanup_free_ char *name = w->by_image ? xstrdup(w->xen) : image_name_for_xen(w->xen);
		struct xerr ie = { 0 };

		if (image_open(name, &m->cells[i].img, &ie) < 0)
			buf_printf(&msg, "\n  %s%s: %s", w->by_image ? "" : "Xen ", w->xen, ie.msg);
	}
	if (msg.data)
		rc = xerr_set(e, XERR_FAIL,
			      "the matrix needs images that are not usable; nothing was started:%s",
			      msg.data);
	buf_free(&msg);
	return rc;
}

/* Name, subnet and spec of every copy. A copy still recorded (--keep last
 * time) keeps its subnet and is replaced; others take free ones. */
static int copies_make(struct matrix_ctx *m, const struct spec *base, const char *data,
		       size_t len, struct xerr *e)
{
	_cleanup_strv_ char **used = NULL;
	size_t n_used, cap;

	if (db_subnets_in_use(m->db, &used, e) < 0)
		return -1;
	n_used = strv_len(used);
	cap = n_used + 1;
	for (size_t i = 0; i < m->n; i++) {
		struct cell_work *w = &m->cells[i];
		struct db_lab *lab = NULL;

		/* A lab of the copy's name made otherwise (a user's `LAB-x4-17`)
		 * is neither taken down nor adopted: the claim refuses it. */
		if (matrix_lab_name(base->lab, w->xen, w->type, w->lab, e) < 0)
			return -1;
		/* xen-4.20 and 4.20, mine.1 and mine-1: one copy name, two cells. */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->cells[j].lab, w->lab))
				return xerr_set(e, XERR_USAGE,
						"%s and %s would both be the copy '%s'; list one of "
						"them", m->cells[j].xen, w->xen, w->lab);
		if (db_lab_claim(m->db, w->lab, "matrix", e) < 0 ||
		    db_lab_get(m->db, w->lab, &lab, e) < 0)
			return -1;
		w->stale = lab && lab_state_parse(lab->state) != LAB_DOWN;
		if (w->stale && lab->subnet && *lab->subnet) {
			snprintf(w->subnet, sizeof(w->subnet), "%s", lab->subnet);
		} else if (matrix_subnet_pick(base, w->lab, used, n_used, w->subnet, e) < 0) {
			db_lab_free(lab);
			return -1;
		}
		db_lab_free(lab);
		xgrow((void **)&used, &cap, n_used + 1, sizeof(char *));
		used[n_used++] = xstrdup(w->subnet);
		used[n_used] = NULL;
		if (matrix_spec_copy(base, data, len, w->xen, w->type, w->by_image ? w->xen : NULL,
				     w->subnet, &w->spec, e) < 0)
			return -1;
	}
	return 0;
}

/* What `xl info` says inside the copy's first host: the versions that
 * really ran, not the image's label. */
static int cell_facts(struct matrix_ctx *m, struct db *db, struct cell_work *w, char **xen,
		      char **kernel, struct xerr *e)
{
	struct lab_dirs dirs = { 0 };
	struct db_host *hosts = NULL;
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	struct agent_facts f = { 0 };
	const char *host = w->spec->hosts[0].name, *ip = NULL;
	size_t n = 0;
	int rc = -1;

	if (db_hosts_list(db, w->lab, &hosts, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(hosts[i].name, host))
			ip = hosts[i].ip;
	if (!ip) {
		xerr_set(e, XERR_FAIL, "host '%s' of lab '%s' has no address in the store",
			 host, w->lab);
		goto out;
	}
	if (lab_dirs_get(w->lab, &dirs, e) < 0 || lab_host_connect(&dirs, host, ip, &c, e) < 0 ||
	    agent_open(c, m->agent_path, &ag, NULL, e) < 0 || agent_facts(ag, &f, e) < 0)
		goto out;
	*xen = f.xen_version;
	*kernel = f.kernel_version;
	f.xen_version = f.kernel_version = NULL;
	rc = 0;
out:
	agent_facts_free(&f);
	agent_close(ag);
	sshc_free(c);
	lab_dirs_free(&dirs);
	db_hosts_free(hosts, n);
	return rc;
}

/* The same down as `xlab down`, called here: each call has its own lock,
 * store and libvirt connections, so cells may take theirs at once. */
static int cell_down(struct matrix_ctx *m, const char *lab, struct xerr *e)
{
	return lab_down(lab, m->o->connect, e);
}

/* One cell, in its own process: a fresh copy up, what really ran, its row
 * in the store, the copy down unless --keep. */
static int cell_run(void *arg)
{
	struct cell_job *j = arg;
	struct matrix_ctx *m = j->m;
	struct cell_work *w = j->w;
	struct db *db = NULL;
	struct up_opts uo = {
		.connect = m->o->connect,
		.accel = m->o->accel,
		.boot_timeout_s = m->o->boot_timeout_s,
		.made_by = "matrix",
	};
	struct up_result res = { 0 };
	struct xerr ue = { 0 }, fe = { 0 }, de = { 0 };
	_cleanup_free_ char *xen = NULL, *kernel = NULL;
	struct db_matrix_cell row;
	int64_t t0;
	int rc;

	/* The server the executor gave this cell's slot. */
	if (m->servers) {
		free(w->spec->server);
		w->spec->server = xstrdup(m->servers[j->job->slot]);
	}
	fprintf(stderr, "xlab: matrix %" PRId64 ": " XEN_FMT " as lab '%s' on %s%s%s\n", m->id,
		XEN_OF(w), w->lab, w->subnet, m->servers ? ", server " : "",
		m->servers ? m->servers[j->job->slot] : "");
	/* Every cell starts from a fresh copy: an `up` of a copy kept from an
	 * earlier matrix would find it up and skip the bring-up being measured. */
	if (w->stale && cell_down(m, w->lab, &de) < 0)
		fprintf(stderr, "xlab: warning: removing the earlier '%s': %s\n", w->lab, de.msg);
	t0 = now_ms();
	rc = lab_up_spec(w->spec, &uo, &res, &ue);
	if (db_open_default(&db, &fe) < 0) {
		xerr_print(&fe, "xlab: warning");
	} else if (res.up && cell_facts(m, db, w, &xen, &kernel, &fe) < 0) {
		fprintf(stderr, "xlab: warning: " XEN_FMT ": no facts from the host: %s\n", XEN_OF(w),
			fe.msg);
	}
	row = (struct db_matrix_cell){
		.id = w->cell_id,
		.run_id = res.run_id,
		/* A bring-up that failed took this long to fail. */
		.bringup_ms = res.up ? res.bringup_ms : now_ms() - t0,
		.image = w->img->name,
		.image_sha256 = w->img->manifest_sha256,
		.xen_version = xen,
		.kernel_version = kernel,
		.status = !res.up ? "bringup-failed" : rc == 0 ? "passed" : "failed",
		.message = rc == 0 ? NULL : ue.msg,
	};
	if (!m->o->keep && cell_down(m, w->lab, &de) < 0)
		fprintf(stderr, "xlab: warning: taking '%s' down: %s\n", w->lab, de.msg);
	if (db && db_matrix_cell_update(db, &row, &fe) < 0)
		xerr_print(&fe, "xlab: warning");
	db_close(db);
	fprintf(stderr, "xlab: matrix %" PRId64 ": " XEN_FMT ": %s%s%s\n", m->id, XEN_OF(w), row.status,
		m->o->keep ? "; kept up as " : "", m->o->keep ? w->lab : "");
	return rc;
}

/* --servers: each server runs as many cells at once as its memory left
 * holds (a cell needs what the spec's hosts take); refused with the figures
 * when no server can hold one. */
static int servers_choose(struct matrix_ctx *m, const struct spec *base, struct xerr *e)
{
	struct place_server *ps = NULL;
	uint64_t need = 0, disk = 0;
	size_t ns, where;
	int total = 0, rc = -1;

	if (m->o->jobs > 0)
		return xerr_set(e, XERR_USAGE, "--jobs and --servers: one or the other (with "
				"--servers each server runs what its memory holds)");
	if (servers_parse_list(m->o->servers, &m->servers, e) < 0 ||
	    servers_measure(m->servers, &ps, e) < 0)
		goto out;
	ns = strv_len(m->servers);
	m->caps = xcalloc(ns + 1, sizeof(*m->caps));
	for (size_t i = 0; i < base->n_hosts; i++) {
		need += base->hosts[i].memory;
		disk += base->hosts[i].data_disk;
	}
	for (size_t k = 0; k < ns; k++) {
		uint64_t fit = need ? ps[k].mem_free / need : m->n;

		m->caps[k] = (int)(fit < m->n ? fit : m->n);
		total += m->caps[k];
	}
	/* None fits: the placement's own refusal, with every server's figures. */
	if (total == 0 && place_copies(ps, ns, 1, need, disk, false, &where, e) < 0)
		goto out;
	for (size_t k = 0; k < ns; k++)
		fprintf(stderr, "xlab: matrix: server %s runs up to %d cell(s) at once\n",
			m->servers[k], m->caps[k]);
	rc = 0;
out:
	servers_measure_free(ps, strv_len(m->servers));
	return rc;
}

static int jobs_choose(const struct matrix_ctx *m, const struct spec *base)
{
	char why[256];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int jobs;

	if (m->o->jobs > 0) {
		jobs = m->o->jobs < (int)m->n ? m->o->jobs : (int)m->n;
		fprintf(stderr, "xlab: matrix %" PRId64 ": %zu cell(s), %d at a time (--jobs)\n",
			m->id, m->n, jobs);
		return jobs;
	}
	jobs = matrix_jobs_fit(mem_available(), ncpu > 0 ? (int)ncpu : 1, base, m->n, why,
			       sizeof(why));
	fprintf(stderr, "xlab: matrix %" PRId64 ": %zu cell(s), %s; --jobs N overrides\n",
		m->id, m->n, why);
	return jobs;
}

static char *tests_json(const struct spec *s)
{
	struct json_object *a = json_object_new_array();
	char *r;

	for (size_t i = 0; i < s->n_tests; i++)
		json_object_array_add(a, json_object_new_string(s->tests[i].name));
	r = xstrdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return r;
}

static int cells_record(struct matrix_ctx *m, const struct spec *base, struct xerr *e)
{
	_cleanup_free_ char *tests = tests_json(base);
	struct db_matrix row = {
		.spec_path = base->path,
		.spec_sha256 = base->sha256,
		.tests = tests,
		.xlab_version = XLAB_VERSION,
	};

	if (db_matrix_begin(m->db, &row, &m->id, e) < 0)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		struct db_matrix_cell c = {
			.matrix_id = m->id,
			.xen = m->cells[i].xen,
			.lab = m->cells[i].lab,
			.guest_type = m->cells[i].type,
			.image = m->cells[i].img->name,
			.image_sha256 = m->cells[i].img->manifest_sha256,
			.status = "running",
		};

		if (db_matrix_cell_add(m->db, &c, &m->cells[i].cell_id, e) < 0)
			return -1;
	}
	return 0;
}

/* A cell whose process was killed (the OOM killer) recorded nothing and
 * may have left its copy up: both are done here. */
static void cell_killed(struct matrix_ctx *m, struct cell_work *w, int sig)
{
	_cleanup_free_ char *why = xasprintf("the cell's process was killed (signal %d)", sig);
	struct db_matrix_cell row = {
		.id = w->cell_id,
		.image = w->img->name,
		.image_sha256 = w->img->manifest_sha256,
		.status = "bringup-failed",
		.message = why,
	};
	struct xerr e = { 0 };

	fprintf(stderr, "xlab: matrix %" PRId64 ": " XEN_FMT ": %s\n", m->id, XEN_OF(w), why);
	if (db_matrix_cell_update(m->db, &row, &e) < 0)
		xerr_print(&e, "xlab: warning");
	if (!m->o->keep && cell_down(m, w->lab, &e) < 0)
		fprintf(stderr, "xlab: warning: taking '%s' down: %s\n", w->lab, e.msg);
}

/* Cells as jobs of the executor, `jobs` at a time; a stop request starts no
 * further cell. The store handle is closed meanwhile: it must not cross a
 * fork, and each cell opens its own. A cell the executor could not start
 * stays unrun in the table; -1 only when the store cannot be opened again. */
static int cells_run(struct matrix_ctx *m, int jobs, struct xerr *e)
{
	struct cell_job *cj = xcalloc(m->n, sizeof(*cj));
	struct exec_job *ej = xcalloc(m->n, sizeof(*ej));
	struct xerr xe = { 0 };

	for (size_t i = 0; i < m->n; i++) {
		cj[i] = (struct cell_job){ .m = m, .w = &m->cells[i], .job = &ej[i] };
		ej[i] = (struct exec_job){ .label = m->cells[i].lab, .run = cell_run, .arg = &cj[i] };
	}
	db_close(m->db);
	m->db = NULL;
	if ((m->servers ? executor_run_slots(ej, m->n, m->caps, strv_len(m->servers), NULL, NULL,
					     &xe)
			: executor_run(ej, m->n, jobs, NULL, NULL, &xe)) < 0)
		xerr_print(&xe, "xlab: warning: matrix");
	if (db_open_default(&m->db, e) < 0) {
		free(ej);
		free(cj);
		return -1;
	}
	for (size_t i = 0; i < m->n; i++)
		if (exec_job_killed(&ej[i]))
			cell_killed(m, &m->cells[i], WTERMSIG(ej[i].status));
	free(ej);
	free(cj);
	return 0;
}

/* Table or JSON on stdout, JUnit when asked; -1 unless every cell passed. */
static int render(struct db *db, int64_t id, const char *junit, bool json, struct xerr *e)
{
	struct mx_view v;
	int rc = 0;

	if (mx_view_load(db, id, &v, e) < 0)
		return -1;
	if (junit && mx_junit_write(&v, junit, e) < 0) {
		mx_view_free(&v);
		return -1;
	}
	if (json) {
		struct json_object *o = mx_json(&v);

		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (!junit || strcmp(junit, "-") != 0) {
		struct buf b = { 0 };

		mx_table_render(&v, &b);
		fputs(b.data, stdout);
		buf_free(&b);
	}
	fflush(stdout);
	if (!mx_view_passed(&v)) {
		size_t failed = 0, total = 0;

		for (size_t i = 0; i < v.n_cols; i++) {
			total += v.n_rows + 1;
			failed += !v.cols[i].up;
			for (size_t r = 0; r < v.n_rows; r++)
				failed += v.cols[i].cells[r].state != MX_PASS;
		}
		rc = xerr_set(e, XERR_FAIL,
			      "matrix %" PRId64 ": %zu of %zu cell(s) failed or did not run "
			      "(`xlab report --matrix %" PRId64 "`)",
			      id, failed, total, id);
	}
	mx_view_free(&v);
	return rc;
}

static int spec_read(const char *path, char **data, size_t *len, struct spec **out,
		     struct xerr *e)
{
	struct spec_diags diags = { 0 };

	if (file_read_all(path, SPEC_MAX_BYTES, data, len, e) < 0)
		return xerr_prefix(e, "reading the spec");
	if (spec_load_buffer(path, *data, *len, out, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		spec_diags_free(&diags);
		return -1;
	}
	spec_diags_free(&diags);
	/* Cells are placed by `matrix --servers`, each whole on one server. */
	if (spec_any_server(*out)) {
		xerr_set(e, XERR_USAGE,
			 "%s: a matrix places its cells itself (`matrix --servers local,%s`), "
			 "each whole on one server; drop `server:` from the spec",
			 path, spec_any_server(*out));
		spec_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int matrix_run(const char *spec_path, const struct matrix_opts *o, struct xerr *e)
{
	struct matrix_ctx m = { .o = o };
	struct spec *base = NULL;
	_cleanup_free_ char *data = NULL;
	_cleanup_strv_ char **versions = NULL, **types = NULL;
	size_t len = 0, n_types;
	int rc = -1;

	/* Its cells are forked workers using libvirt (virt.h). */
	virt_event_loop_defer(true);
	if (spec_read(spec_path, &data, &len, &base, e) < 0)
		return -1;
	if (!base->xen && !base->image) {
		/* A host's own `xen:` stays in every cell (the old side of a
		 * migrupgrade); with every host pinned, nothing would vary. */
		xerr_set(e, XERR_USAGE,
			 "every host of %s names its own xen or image, so the matrix has nothing "
			 "to vary: give the lab a `xen:` and leave it off the hosts the matrix "
			 "should change",
			 spec_path);
		goto out;
	}
	if (o->images) {
		if (matrix_images_parse(o->images, &versions, e) < 0)
			goto out;
	} else if (o->xen) {
		if (matrix_versions_parse(o->xen, &versions, e) < 0)
			goto out;
	} else if (base->matrix_xen) {
		size_t n = strv_len(base->matrix_xen);

		versions = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			versions[i] = xstrdup(base->matrix_xen[i]);
	} else {
		xerr_set(e, XERR_USAGE,
			 "%s has no matrix.xen; give the versions with --xen 4.17,4.20", spec_path);
		goto out;
	}
	if (o->types && matrix_types_parse(o->types, &types, e) < 0)
		goto out;
	/* Versions x types, a version's types side by side. */
	n_types = types ? strv_len(types) : 1;
	m.n = strv_len(versions) * n_types;
	m.cells = xcalloc(m.n + 1, sizeof(*m.cells));
	for (size_t i = 0; i < m.n; i++) {
		m.cells[i].xen = versions[i / n_types];
		m.cells[i].by_image = o->images != NULL;
		m.cells[i].type = types ? types[i % n_types] : NULL;
	}
	if (images_open(&m, e) < 0 || agent_local_path(&m.agent_path, e) < 0 ||
	    db_open_default(&m.db, e) < 0 || copies_make(&m, base, data, len, e) < 0)
		goto out;
	/* Asked to stop while setting up: no matrix is recorded at all. */
	if (stop_requested()) {
		xerr_set(e, XERR_INTERRUPTED, "interrupted before any cell began; nothing recorded");
		goto out;
	}
	/* Servers measured before anything is recorded: a refusal leaves none. */
	if (o->servers && servers_choose(&m, base, e) < 0)
		goto out;
	if (cells_record(&m, base, e) < 0)
		goto out;
	if (cells_run(&m, o->servers ? 0 : jobs_choose(&m, base), e) < 0)
		goto out;
	{
		struct xerr ignore = { 0 };
		int r = render(m.db, m.id, o->junit, o->json, e);

		db_matrix_end(m.db, m.id,
			      r == 0 ? "passed" : stop_requested() ? "interrupted" : "failed",
			      &ignore);
		rc = r;
	}
out:
	for (size_t i = 0; m.cells && i < m.n; i++) {
		spec_free(m.cells[i].spec);
		if (m.cells[i].img)
			image_free(m.cells[i].img);
	}
	free(m.cells);
	free(m.agent_path);
	strv_free(m.servers);
	free(m.caps);
	db_close(m.db);
	spec_free(base);
	return rc;
}

int matrix_report(int64_t id, const char *junit, bool json, struct xerr *e)
{
	struct db *db = NULL;
	int rc;

	if (db_open_default(&db, e) < 0)
		return -1;
	rc = render(db, id, junit, json, e);
	db_close(db);
	return rc;
}

int matrix_compare(int64_t a, int64_t b, bool json, struct xerr *e)
{
	struct db *db = NULL;
	struct mx_view va = { 0 }, vb = { 0 };
	struct buf out = { 0 };
	size_t news;
	int rc = -1;

	if (db_open_default(&db, e) < 0)
		return -1;
	if (mx_view_load(db, a, &va, e) < 0 || mx_view_load(db, b, &vb, e) < 0)
		goto out;
	news = mx_compare_render(&va, &vb, &out);
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "from", mx_json(&va));
		json_object_object_add(o, "to", mx_json(&vb));
		json_object_object_add(o, "new_failures", json_object_new_int64((int64_t)news));
		json_object_object_add(o, "summary", json_object_new_string(out.data));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		fputs(out.data, stdout);
	}
	rc = news ? xerr_set(e, XERR_FAIL, "%zu new failure(s) from matrix %" PRId64
						" to %" PRId64, news, a, b) : 0;
out:
	buf_free(&out);
	mx_view_free(&va);
	mx_view_free(&vb);
	db_close(db);
	return rc;
}
