/* Runs, their steps and test results: what each command did, step by step. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_int.h"

int db_run_begin(struct db *db, const char *lab, const char *command, const char *spec_sha256,
		 int64_t *id, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st,
		       "INSERT INTO runs (lab, command, spec_sha256, status, pid, started, t0_ms)"
		       " VALUES (?, ?, ?, 'running', ?, ?, ?)",
		       e, "sssisi", lab, command, spec_sha256, (int64_t)getpid(), now, now_ms()) < 0)
		return -1;
	if (db_done(db, st, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_run_end(struct db *db, int64_t id, const char *status, const char *message,
	       struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st,
		       "UPDATE runs SET status = ?, message = ?, ended = ?, duration_ms = ? - t0_ms"
		       " WHERE id = ?",
		       e, "sssii", status, message, now, now_ms(), id) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_runs_mark_interrupted(struct db *db, const char *lab, struct xerr *e)
{
	sqlite3_stmt *st;

	/* Called with the lab's lock held: any run of it still "running" is dead. */
	if (db_prepare(db, &st,
		       "UPDATE runs SET status = 'interrupted', message = coalesce(message,"
		       " 'the process ended without finishing the run') WHERE lab = ? AND"
		       " status = 'running'",
		       e, "s", lab) < 0)
		return -1;
	if (db_done(db, st, e) < 0)
		return -1;
	if (db_prepare(db, &st,
		       "UPDATE steps SET status = 'interrupted' WHERE status = 'running' AND"
		       " run_id IN (SELECT id FROM runs WHERE lab = ?)",
		       e, "s", lab) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_step_begin(struct db *db, int64_t run_id, const char *name, const char *target,
		  int64_t *id, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st,
		       "INSERT INTO steps (run_id, name, target, status, started, t0_ms)"
		       " VALUES (?, ?, ?, 'running', ?, ?)",
		       e, "isssi", run_id, name, target, now, now_ms()) < 0)
		return -1;
	if (db_done(db, st, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_step_end(struct db *db, int64_t id, const char *status, const char *message,
		struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "UPDATE steps SET status = ?, message = ?, duration_ms = ? - t0_ms"
		       " WHERE id = ?",
		       e, "ssii", status, message, now_ms(), id) < 0)
		return -1;
	return db_done(db, st, e);
}

#define RUN_SELECT                                                                          \
	"SELECT r.id, r.lab, r.command, r.spec_sha256, r.status, r.message, r.started,"     \
	" r.ended, coalesce(r.duration_ms, -1), coalesce(r.pid, 0),"                        \
	" (SELECT count(*) FROM steps s WHERE s.run_id = r.id),"                            \
	" (SELECT count(*) FROM steps s WHERE s.run_id = r.id AND s.status = 'failed'),"    \
	" (SELECT count(*) FROM test_results t WHERE t.run_id = r.id),"                     \
	" (SELECT count(*) FROM test_results t WHERE t.run_id = r.id AND NOT t.passed)"     \
	" FROM runs r"

static void run_fill(sqlite3_stmt *st, void *p)
{
	struct db_run *r = p;

	r->id = sqlite3_column_int64(st, 0);
	r->lab = col_dup(st, 1);
	r->command = col_dup(st, 2);
	r->spec_sha256 = col_dup(st, 3);
	r->status = col_dup(st, 4);
	r->message = col_dup(st, 5);
	r->started = col_dup(st, 6);
	r->ended = col_dup(st, 7);
	r->duration_ms = sqlite3_column_int64(st, 8);
	r->pid = sqlite3_column_int(st, 9);
	r->steps = sqlite3_column_int(st, 10);
	r->steps_failed = sqlite3_column_int(st, 11);
	r->tests = sqlite3_column_int(st, 12);
	r->tests_failed = sqlite3_column_int(st, 13);
}

int db_runs_list(struct db *db, const char *lab, int limit, struct db_run **out, size_t *n,
		 struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, RUN_SELECT " WHERE ?1 IS NULL OR r.lab = ?1 ORDER BY r.id DESC"
					   " LIMIT ?2",
		       e, "si", lab, (int64_t)(limit > 0 ? limit : -1)) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), run_fill, (void **)out, n, e);
}

int db_run_get(struct db *db, int64_t id, struct db_run **out, struct xerr *e)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if (db_prepare(db, &st, RUN_SELECT " WHERE r.id = ?", e, "i", id) < 0)
		return -1;
	if (rows_collect(db, st, sizeof(**out), run_fill, (void **)out, &n, e) < 0)
		return -1;
	if (n == 0) {
		free(*out);
		*out = NULL;
		return xerr_set(e, XERR_FAIL, "no run %" PRId64 " in the store; `xlab runs` "
				"lists them", id);
	}
	return 0;
}

void db_runs_free(struct db_run *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].lab);
		FREE_CONST(v[i].command);
		FREE_CONST(v[i].spec_sha256);
		FREE_CONST(v[i].status);
		FREE_CONST(v[i].message);
		FREE_CONST(v[i].started);
		FREE_CONST(v[i].ended);
	}
	free(v);
}

static void step_fill(sqlite3_stmt *st, void *p)
{
	struct db_step *s = p;

	s->id = sqlite3_column_int64(st, 0);
	s->run_id = sqlite3_column_int64(st, 1);
	s->name = col_dup(st, 2);
	s->target = col_dup(st, 3);
	s->status = col_dup(st, 4);
	s->message = col_dup(st, 5);
	s->started = col_dup(st, 6);
	s->duration_ms = sqlite3_column_int64(st, 7);
	s->offset_ms = sqlite3_column_int64(st, 8);
}

int db_steps_list(struct db *db, int64_t run_id, struct db_step **out, size_t *n,
		  struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT s.id, s.run_id, s.name, s.target, s.status, s.message, s.started,"
		       " coalesce(s.duration_ms, -1), s.t0_ms - r.t0_ms FROM steps s"
		       " JOIN runs r ON r.id = s.run_id WHERE s.run_id = ? ORDER BY s.id",
		       e, "i", run_id) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), step_fill, (void **)out, n, e);
}

void db_steps_free(struct db_step *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].target);
		FREE_CONST(v[i].status);
		FREE_CONST(v[i].message);
		FREE_CONST(v[i].started);
	}
	free(v);
}

int db_test_result_add(struct db *db, const struct db_test_result *t, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "INSERT INTO test_results (run_id, name, kind, target, passed, duration_ms,"
		       " output) VALUES (?, ?, ?, ?, ?, ?, ?)",
		       e, "isssiis", t->run_id, t->name, t->kind, t->target, (int64_t)t->passed,
		       t->duration_ms, t->output) < 0)
		return -1;
	return db_done(db, st, e);
}

static void test_fill(sqlite3_stmt *st, void *p)
{
	struct db_test_result *t = p;

	t->run_id = sqlite3_column_int64(st, 0);
	t->name = col_dup(st, 1);
	t->kind = col_dup(st, 2);
	t->target = col_dup(st, 3);
	t->passed = sqlite3_column_int(st, 4) != 0;
	t->duration_ms = sqlite3_column_int64(st, 5);
	t->output = col_dup(st, 6);
}

int db_test_results_list(struct db *db, int64_t run_id, struct db_test_result **out,
			 size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT run_id, name, kind, target, passed, coalesce(duration_ms, 0),"
		       " output FROM test_results WHERE run_id = ? ORDER BY id",
		       e, "i", run_id) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), test_fill, (void **)out, n, e);
}

int db_action_step_add(struct db *db, const struct db_action_step *s, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "INSERT INTO action_steps (run_id, test, round, step, ok, duration_ms)"
		       " VALUES (?, ?, ?, ?, ?, ?)",
		       e, "isisii", s->run_id, s->test, (int64_t)s->round, s->step, (int64_t)s->ok,
		       s->duration_ms) < 0)
		return -1;
	return db_done(db, st, e);
}

static void action_step_fill(sqlite3_stmt *st, void *p)
{
	struct db_action_step *s = p;

	s->run_id = sqlite3_column_int64(st, 0);
	s->test = col_dup(st, 1);
	s->round = sqlite3_column_int(st, 2);
	s->step = col_dup(st, 3);
	s->ok = sqlite3_column_int(st, 4) != 0;
	s->duration_ms = sqlite3_column_int64(st, 5);
}

int db_action_steps_list(struct db *db, int64_t run_id, struct db_action_step **out, size_t *n,
			 struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT run_id, test, round, step, ok, coalesce(duration_ms, 0)"
		       " FROM action_steps WHERE run_id = ? ORDER BY id",
		       e, "i", run_id) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), action_step_fill, (void **)out, n, e);
}

void db_action_steps_free(struct db_action_step *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].test);
		FREE_CONST(v[i].step);
	}
	free(v);
}

void db_test_results_free(struct db_test_result *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].kind);
		FREE_CONST(v[i].target);
		FREE_CONST(v[i].output);
	}
	free(v);
}

