/* The tables of what is built on labs: matrices and their cells, classes
 * and their copies, migration experiment rounds. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

/* ---- matrices ---- */

int db_matrix_begin(struct db *db, const struct db_matrix *m, int64_t *id, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st,
		       "INSERT INTO matrices (spec_path, spec_sha256, tests, xlab_version, status,"
		       " pid, started) VALUES (?, ?, ?, ?, 'running', ?, ?)",
		       e, "ssssis", m->spec_path, m->spec_sha256, m->tests, m->xlab_version,
		       (int64_t)getpid(), now) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_matrix_end(struct db *db, int64_t id, const char *status, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st, "UPDATE matrices SET status = ?, ended = ? WHERE id = ?", e,
		       "ssi", status, now, id) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_matrix_cell_add(struct db *db, const struct db_matrix_cell *c, int64_t *id,
		       struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "INSERT INTO matrix_cells (matrix_id, xen, lab, image, image_sha256, status,"
		       " guest_type) VALUES (?, ?, ?, ?, ?, ?, ?)",
		       e, "issssss", c->matrix_id, c->xen, c->lab, c->image, c->image_sha256,
		       c->status, c->guest_type) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_matrix_cell_update(struct db *db, const struct db_matrix_cell *c, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "UPDATE matrix_cells SET run_id = nullif(?, 0), image = ?, image_sha256 = ?,"
		       " xen_version = ?, kernel_version = ?, bringup_ms = ?, status = ?,"
		       " message = ? WHERE id = ?",
		       e, "issssissi", c->run_id, c->image, c->image_sha256, c->xen_version,
		       c->kernel_version, c->bringup_ms, c->status, c->message, c->id) < 0)
		return -1;
	return db_done(db, st, e);
}

static void matrix_fill(sqlite3_stmt *st, void *p)
{
	struct db_matrix *m = p;

	m->id = sqlite3_column_int64(st, 0);
	m->spec_path = col_dup(st, 1);
	m->spec_sha256 = col_dup(st, 2);
	m->tests = col_dup(st, 3);
	m->xlab_version = col_dup(st, 4);
	m->status = col_dup(st, 5);
	m->started = col_dup(st, 6);
	m->ended = col_dup(st, 7);
	m->pid = sqlite3_column_int(st, 8);
}

/* A matrix whose process died (killed, machine rebooted) would say
 * "running" forever: the first reader records it as interrupted, with every
 * cell that had not finished. */
static int matrix_reap_if_dead(struct db *db, struct db_matrix *m, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	if (strcmp(m->status, "running") != 0 || m->pid <= 0 ||
	    !(kill(m->pid, 0) < 0 && errno == ESRCH))
		return 0;
	now_iso8601(now);
	if (db_prepare(db, &st,
		       "UPDATE matrices SET status = 'interrupted', ended = ? WHERE id = ?"
		       " AND status = 'running'",
		       e, "si", now, m->id) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	if (db_prepare(db, &st,
		       "UPDATE matrix_cells SET status = 'interrupted', message = coalesce(message,"
		       " 'the matrix process died') WHERE matrix_id = ? AND status = 'running'",
		       e, "i", m->id) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	FREE_CONST(m->status);
	FREE_CONST(m->ended);
	m->status = xstrdup("interrupted");
	m->ended = xstrdup(now);
	return 0;
}

int db_matrix_get(struct db *db, int64_t id, struct db_matrix **out, struct xerr *e)
{
	sqlite3_stmt *st;
	size_t n = 0;

	*out = NULL;
	if (db_prepare(db, &st,
		       "SELECT id, spec_path, spec_sha256, tests, xlab_version, status, started,"
		       " ended, pid FROM matrices WHERE id = ?",
		       e, "i", id) < 0 ||
	    rows_collect(db, st, sizeof(**out), matrix_fill, (void **)out, &n, e) < 0)
		return -1;
	if (!n) {
		free(*out);
		*out = NULL;
		return xerr_set(e, XERR_FAIL, "no matrix %" PRId64 " in the store", id);
	}
	return matrix_reap_if_dead(db, *out, e);
}

void db_matrix_free(struct db_matrix *m)
{
	if (!m)
		return;
	FREE_CONST(m->spec_path);
	FREE_CONST(m->spec_sha256);
	FREE_CONST(m->tests);
	FREE_CONST(m->xlab_version);
	FREE_CONST(m->status);
	FREE_CONST(m->started);
	FREE_CONST(m->ended);
	free(m);
}

#define CELL_SELECT                                                                         \
	"SELECT id, matrix_id, xen, lab, coalesce(run_id, 0), image, image_sha256,"         \
	" xen_version, kernel_version, coalesce(bringup_ms, 0), status, message,"           \
	" guest_type FROM matrix_cells"

static void cell_fill(sqlite3_stmt *st, void *p)
{
	struct db_matrix_cell *c = p;

	c->id = sqlite3_column_int64(st, 0);
	c->matrix_id = sqlite3_column_int64(st, 1);
	c->xen = col_dup(st, 2);
	c->lab = col_dup(st, 3);
	c->run_id = sqlite3_column_int64(st, 4);
	c->image = col_dup(st, 5);
	c->image_sha256 = col_dup(st, 6);
	c->xen_version = col_dup(st, 7);
	c->kernel_version = col_dup(st, 8);
	c->bringup_ms = sqlite3_column_int64(st, 9);
	c->status = col_dup(st, 10);
	c->message = col_dup(st, 11);
	c->guest_type = col_dup(st, 12);
}

int db_matrix_cells_list(struct db *db, int64_t matrix_id, struct db_matrix_cell **out,
			 size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, CELL_SELECT " WHERE matrix_id = ? ORDER BY id", e, "i",
		       matrix_id) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), cell_fill, (void **)out, n, e);
}

int db_matrix_cell_of_run(struct db *db, int64_t run_id, struct db_matrix_cell **out,
			  struct xerr *e)
{
	sqlite3_stmt *st;
	size_t n = 0;

	*out = NULL;
	if (db_prepare(db, &st, CELL_SELECT " WHERE run_id = ? ORDER BY id LIMIT 1", e, "i",
		       run_id) < 0 ||
	    rows_collect(db, st, sizeof(**out), cell_fill, (void **)out, &n, e) < 0)
		return -1;
	if (!n) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

void db_matrix_cells_free(struct db_matrix_cell *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].xen);
		FREE_CONST(v[i].lab);
		FREE_CONST(v[i].image);
		FREE_CONST(v[i].image_sha256);
		FREE_CONST(v[i].xen_version);
		FREE_CONST(v[i].kernel_version);
		FREE_CONST(v[i].status);
		FREE_CONST(v[i].message);
		FREE_CONST(v[i].guest_type);
	}
	free(v);
}

/* ---- classes ---- */

int db_class_upsert(struct db *db, const char *name, const char *spec_path,
		    const char *sha256, int copies, const char *state, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st,
		       "INSERT INTO classes (name, spec_path, spec_sha256, copies, state, created,"
		       " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (name) DO UPDATE"
		       " SET spec_path = ?2, spec_sha256 = ?3, copies = ?4, state = ?5,"
		       " updated = ?6",
		       e, "sssiss", name, spec_path, sha256, (int64_t)copies, state, now) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_class_set_state(struct db *db, const char *name, const char *state, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st, "UPDATE classes SET state = ?, updated = ? WHERE name = ?", e,
		       "sss", state, now, name) < 0)
		return -1;
	return db_done(db, st, e);
}

#define CLASS_COLS "name, spec_path, spec_sha256, copies, state, updated"

static void class_fill(sqlite3_stmt *st, void *p)
{
	struct db_class *c = p;

	c->name = col_dup(st, 0);
	c->spec_path = col_dup(st, 1);
	c->spec_sha256 = col_dup(st, 2);
	c->copies = sqlite3_column_int(st, 3);
	c->state = col_dup(st, 4);
	c->updated = col_dup(st, 5);
}

int db_class_get(struct db *db, const char *name, struct db_class **out, struct xerr *e)
{
	sqlite3_stmt *st;
	size_t n = 0;

	*out = NULL;
	if (db_prepare(db, &st, "SELECT " CLASS_COLS " FROM classes WHERE name = ?", e, "s",
		       name) < 0)
		return -1;
	if (rows_collect(db, st, sizeof(**out), class_fill, (void **)out, &n, e) < 0)
		return -1;
	if (n == 0) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

int db_classes_list(struct db *db, struct db_class **out, size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "SELECT " CLASS_COLS " FROM classes ORDER BY name", e, "") < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), class_fill, (void **)out, n, e);
}

void db_classes_free(struct db_class *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].spec_path);
		FREE_CONST(v[i].spec_sha256);
		FREE_CONST(v[i].state);
		FREE_CONST(v[i].updated);
	}
	free(v);
}

int db_class_copy_upsert(struct db *db, const struct db_class_copy *c, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st,
		       "INSERT INTO class_copies (lab, class, idx, student, subnet, state, message,"
		       " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (lab) DO"
		       " UPDATE SET class = ?2, idx = ?3, student = ?4, subnet = ?5, state = ?6,"
		       " message = ?7, updated = ?8",
		       e, "ssisssss", c->lab, c->class_name, (int64_t)c->idx, c->student, c->subnet,
		       c->state, c->message, now) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_class_copy_set_state(struct db *db, const char *lab, const char *state,
			    const char *message, int64_t up_ms, int64_t reset_ms, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st,
		       "UPDATE class_copies SET state = ?, message = ?,"
		       " up_ms = coalesce(nullif(?, 0), up_ms),"
		       " reset_ms = coalesce(nullif(?, 0), reset_ms), updated = ? WHERE lab = ?",
		       e, "ssiiss", state, message, up_ms, reset_ms, now, lab) < 0)
		return -1;
	return db_done(db, st, e);
}

static void class_copy_fill(sqlite3_stmt *st, void *p)
{
	struct db_class_copy *c = p;

	c->lab = col_dup(st, 0);
	c->class_name = col_dup(st, 1);
	c->idx = sqlite3_column_int(st, 2);
	c->student = col_dup(st, 3);
	c->subnet = col_dup(st, 4);
	c->state = col_dup(st, 5);
	c->message = col_dup(st, 6);
	c->up_ms = sqlite3_column_int64(st, 7);
	c->reset_ms = sqlite3_column_int64(st, 8);
	c->updated = col_dup(st, 9);
}

int db_class_copies_list(struct db *db, const char *class_name, struct db_class_copy **out,
			 size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT lab, class, idx, student, subnet, state, message,"
		       " coalesce(up_ms, 0), coalesce(reset_ms, 0), updated FROM class_copies"
		       " WHERE class = ? ORDER BY idx",
		       e, "s", class_name) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), class_copy_fill, (void **)out, n, e);
}

void db_class_copies_free(struct db_class_copy *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].lab);
		FREE_CONST(v[i].class_name);
		FREE_CONST(v[i].student);
		FREE_CONST(v[i].subnet);
		FREE_CONST(v[i].state);
		FREE_CONST(v[i].message);
		FREE_CONST(v[i].updated);
	}
	free(v);
}

/* ---- migration experiments ---- */

int db_experiment_round_add(struct db *db, const struct db_experiment_round *r, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st,
		       "INSERT INTO experiment_rounds (run_id, experiment, round, guest, src, dst,"
		       " ok, wall_ms, downtime_ms, came_back, host_after, pings_sent,"
		       " pings_answered, message, started)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       e, "isisssiiiisiiss", r->run_id, r->experiment, (int64_t)r->round, r->guest,
		       r->src, r->dst, (int64_t)r->ok, r->wall_ms, r->downtime_ms,
		       (int64_t)r->came_back, r->host_after, r->pings_sent, r->pings_answered,
		       r->message, now) < 0)
		return -1;
	return db_done(db, st, e);
}

static void experiment_round_fill(sqlite3_stmt *st, void *p)
{
	struct db_experiment_round *r = p;

	r->run_id = sqlite3_column_int64(st, 0);
	r->experiment = col_dup(st, 1);
	r->round = sqlite3_column_int(st, 2);
	r->guest = col_dup(st, 3);
	r->src = col_dup(st, 4);
	r->dst = col_dup(st, 5);
	r->ok = sqlite3_column_int(st, 6) != 0;
	r->wall_ms = sqlite3_column_int64(st, 7);
	r->downtime_ms = sqlite3_column_int64(st, 8);
	r->came_back = sqlite3_column_int(st, 9) != 0;
	r->host_after = col_dup(st, 10);
	r->pings_sent = sqlite3_column_int64(st, 11);
	r->pings_answered = sqlite3_column_int64(st, 12);
	r->message = col_dup(st, 13);
	r->started = col_dup(st, 14);
}

int db_experiment_rounds_list(struct db *db, int64_t run_id, struct db_experiment_round **out,
			      size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT run_id, experiment, round, guest, src, dst, ok, coalesce(wall_ms, 0),"
		       " coalesce(downtime_ms, 0), came_back, host_after, coalesce(pings_sent, 0),"
		       " coalesce(pings_answered, 0), message, started FROM experiment_rounds"
		       " WHERE run_id = ? ORDER BY id",
		       e, "i", run_id) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), experiment_round_fill, (void **)out, n, e);
}

void db_experiment_rounds_free(struct db_experiment_round *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].experiment);
		FREE_CONST(v[i].guest);
		FREE_CONST(v[i].src);
		FREE_CONST(v[i].dst);
		FREE_CONST(v[i].host_after);
		FREE_CONST(v[i].message);
		FREE_CONST(v[i].started);
	}
	free(v);
}

