/* sqlite store. Each statement is prepared, bound with parameters (never
 * formatted into SQL) and finalized on one path. Single-statement writes are
 * atomic in sqlite; the migrations run in one transaction each. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"

struct db {
	sqlite3 *h;
	char *path;
};

/* Forward migrations: index i takes user_version i to i + 1. Never edit a
 * shipped entry; append a new one. */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE labs ("
	"  name TEXT PRIMARY KEY, spec_path TEXT, spec_sha256 TEXT, subnet TEXT,"
	"  state TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE hosts ("
	"  lab TEXT NOT NULL, name TEXT NOT NULL, mac TEXT, ip TEXT, libvirt_uuid TEXT,"
	"  image TEXT, image_sha256 TEXT, state TEXT, definition_sha256 TEXT,"
	"  updated TEXT NOT NULL, PRIMARY KEY (lab, name));"
	"CREATE TABLE guests ("
	"  lab TEXT NOT NULL, host TEXT NOT NULL, name TEXT NOT NULL, mac TEXT, ip TEXT,"
	"  state TEXT, made_by TEXT, updated TEXT NOT NULL, PRIMARY KEY (lab, name));"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY, lab TEXT NOT NULL, command TEXT NOT NULL,"
	"  spec_sha256 TEXT, status TEXT NOT NULL, message TEXT, pid INTEGER,"
	"  started TEXT NOT NULL, ended TEXT, t0_ms INTEGER NOT NULL, duration_ms INTEGER);"
	"CREATE INDEX runs_lab ON runs (lab, id);"
	"CREATE TABLE steps ("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id),"
	"  name TEXT NOT NULL, target TEXT, status TEXT NOT NULL, message TEXT,"
	"  started TEXT NOT NULL, t0_ms INTEGER NOT NULL, duration_ms INTEGER);"
	"CREATE INDEX steps_run ON steps (run_id);"
	"CREATE TABLE test_results ("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id),"
	"  name TEXT NOT NULL, kind TEXT, target TEXT, passed INTEGER NOT NULL,"
	"  duration_ms INTEGER, output TEXT);"
	"CREATE INDEX test_results_run ON test_results (run_id);",
	/* 2: Xen-version matrices: one row per `xlab matrix`, one cell per version */
	"CREATE TABLE matrices ("
	"  id INTEGER PRIMARY KEY, spec_path TEXT, spec_sha256 TEXT, tests TEXT,"
	"  xlab_version TEXT, status TEXT NOT NULL, pid INTEGER, started TEXT NOT NULL,"
	"  ended TEXT);"
	"CREATE TABLE matrix_cells ("
	"  id INTEGER PRIMARY KEY, matrix_id INTEGER NOT NULL REFERENCES matrices (id),"
	"  xen TEXT NOT NULL, lab TEXT NOT NULL, run_id INTEGER, image TEXT, image_sha256 TEXT,"
	"  xen_version TEXT, kernel_version TEXT, bringup_ms INTEGER, status TEXT NOT NULL,"
	"  message TEXT);"
	"CREATE INDEX matrix_cells_matrix ON matrix_cells (matrix_id, id);",
	/* 3: teaching classes: one row per `xlab class up` lab, one per copy */
	"CREATE TABLE classes ("
	"  name TEXT PRIMARY KEY, spec_path TEXT, spec_sha256 TEXT, copies INTEGER NOT NULL,"
	"  state TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE class_copies ("
	"  lab TEXT PRIMARY KEY, class TEXT NOT NULL, idx INTEGER NOT NULL, student TEXT,"
	"  subnet TEXT, state TEXT NOT NULL, message TEXT, up_ms INTEGER, reset_ms INTEGER,"
	"  updated TEXT NOT NULL);"
	"CREATE INDEX class_copies_class ON class_copies (class, idx);",
	/* 4: live-migration experiments: one row per round */
	"CREATE TABLE experiment_rounds ("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id),"
	"  experiment TEXT NOT NULL, round INTEGER NOT NULL, guest TEXT NOT NULL,"
	"  src TEXT NOT NULL, dst TEXT NOT NULL, ok INTEGER NOT NULL, wall_ms INTEGER,"
	"  downtime_ms INTEGER, came_back INTEGER NOT NULL, host_after TEXT,"
	"  pings_sent INTEGER, pings_answered INTEGER, message TEXT, started TEXT NOT NULL);"
	"CREATE INDEX experiment_rounds_run ON experiment_rounds (run_id, id);",
	/* 5: what made each lab (spec, matrix, class); rows of hosts and guests
	 * `down` marked removed are forgotten, as `down` does from now on */
	"ALTER TABLE labs ADD COLUMN made_by TEXT;"
	"DELETE FROM hosts WHERE state = 'removed';"
	"DELETE FROM guests WHERE state = 'removed';",
};

static int db_fail(struct db *db, struct xerr *e, const char *what)
{
	return xerr_set(e, XERR_FAIL, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

static int db_exec(struct db *db, const char *sql, struct xerr *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		xerr_set(e, XERR_FAIL, "%s: %s", db->path, msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int db_schema_latest(void)
{
	return (int)ARRAY_SIZE(migrations);
}

int db_schema_version(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int db_migrate(struct db *db, struct xerr *e)
{
	int have = db_schema_version(db);
	int want = (int)ARRAY_SIZE(migrations);

	if (have < 0)
		return db_fail(db, e, "reading the schema version");
	if (have > want)
		return xerr_set(e, XERR_FAIL,
				"%s: schema version %d is newer than this xlab knows (%d); "
				"use a newer xlab or another XLAB_HOME",
				db->path, have, want);
	for (int v = have; v < want; v++) {
		char pragma[64];

		/* IMMEDIATE: two processes opening a fresh store migrate one at a time. */
		if (db_exec(db, "BEGIN IMMEDIATE", e) < 0)
			return -1;
		if (db_schema_version(db) > v) { /* someone else migrated meanwhile */
			db_exec(db, "ROLLBACK", e);
			continue;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (db_exec(db, migrations[v], e) < 0 || db_exec(db, pragma, e) < 0) {
			struct xerr ignore = { 0 };

			db_exec(db, "ROLLBACK", &ignore);
			return xerr_prefix(e, "migrating the store to version %d", v + 1);
		}
		if (db_exec(db, "COMMIT", e) < 0)
			return -1;
	}
	return 0;
}

/* Runs, test output and lab details are root's: the store and its -wal and
 * -shm files are 0600, also when an older xlab made them world-readable.
 * By path, never through a descriptor of our own: closing any descriptor of
 * the file drops every POSIX lock this process holds on it, the locks of
 * another thread's open connection included (a matrix runs its cells as
 * threads), and sqlite's locking then lets two writers corrupt the store. */
static int db_make_private(const char *path, struct xerr *e)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };

	if (strcmp(path, ":memory:") == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
		_cleanup_free_ char *p = xasprintf("%s%s", path, suffix[i]);

		if (chmod(p, 0600) < 0 && !(i > 0 && errno == ENOENT))
			return xerr_errno(e, XERR_IO, "cannot make the store %s private", p);
	}
	return 0;
}

int db_open(const char *path, struct db **out, struct xerr *e)
{
	struct db *db = xcalloc(1, sizeof(*db));

	db->path = xstrdup(path);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						  SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		db_fail(db, e, "cannot open the store");
		db_close(db);
		return -1;
	}
	if (db_make_private(path, e) < 0) {
		db_close(db);
		return -1;
	}
	/* Concurrent xlab processes (two labs at once) wait instead of failing. */
	sqlite3_busy_timeout(db->h, 10000);
	if (db_exec(db, "PRAGMA journal_mode = WAL", e) < 0 ||
	    db_exec(db, "PRAGMA synchronous = NORMAL", e) < 0 ||
	    db_exec(db, "PRAGMA foreign_keys = ON", e) < 0 || db_migrate(db, e) < 0) {
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int db_open_default(struct db **out, struct xerr *e)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *path = NULL;

	if (xlab_dir(&dir, e, NULL) < 0)
		return -1;
	path = xasprintf("%s/xlab.db", dir);
	return db_open(path, out, e);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

char *db_integrity_check(struct db *db)
{
	sqlite3_stmt *st = NULL;
	char *r = NULL;

	if (sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		r = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return r ? r : xstrdup(sqlite3_errmsg(db->h));
}

/* Binds NULL-or-text and int64 arguments described by fmt ('s', 'i'). */
static int db_prepare(struct db *db, sqlite3_stmt **st, const char *sql, struct xerr *e,
		      const char *fmt, ...)
{
	va_list ap;
	int idx = 1;

	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(db, e, "preparing a query");
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, idx++) {
		if (*f == 's') {
			const char *s = va_arg(ap, const char *);

			if (s)
				sqlite3_bind_text(*st, idx, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(*st, idx);
		} else {
			sqlite3_bind_int64(*st, idx, va_arg(ap, int64_t));
		}
	}
	va_end(ap);
	return 0;
}

static int db_done(struct db *db, sqlite3_stmt *st, struct xerr *e)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, "writing");

	sqlite3_finalize(st);
	return rc;
}

static const char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

#define FREE_CONST(p) free((void *)(p))

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

int db_lab_upsert(struct db *db, const char *lab, const char *spec_path, const char *sha256,
		  const char *subnet, const char *state, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st,
		       "INSERT INTO labs (name, spec_path, spec_sha256, subnet, state, created,"
		       " updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (name) DO UPDATE"
		       " SET spec_path = ?2, spec_sha256 = ?3, subnet = ?4, state = ?5,"
		       " updated = ?6",
		       e, "ssssss", lab, spec_path, sha256, subnet, state, now) < 0)
		return -1;
	return db_done(db, st, e);
}

static const char *made_by_what(const char *made_by)
{
	if (!strcmp(made_by, "matrix"))
		return "`xlab matrix`";
	if (!strcmp(made_by, "class"))
		return "`xlab class up`";
	return "`xlab up` of a spec";
}

int db_lab_claim(struct db *db, const char *lab, const char *made_by, struct xerr *e)
{
	_cleanup_free_ char *have = NULL;
	sqlite3_stmt *st;
	char now[32];
	int r;

	now_iso8601(now);
	/* One statement: a lab that is down, or already made_by's, is taken; any
	 * other keeps its maker, and the read below tells. */
	if (db_prepare(db, &st,
		       "INSERT INTO labs (name, state, made_by, created, updated)"
		       " VALUES (?1, 'down', ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE"
		       " SET made_by = ?2 WHERE labs.state = 'down'"
		       " OR COALESCE(labs.made_by, 'spec') = ?2",
		       e, "sss", lab, made_by, now) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	if (db_prepare(db, &st, "SELECT COALESCE(made_by, 'spec') FROM labs WHERE name = ?", e,
		       "s", lab) < 0)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		have = (char *)col_dup(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return db_fail(db, e, "reading labs");
	if (strcmp(have, made_by) != 0)
		return xerr_set(e, XERR_FAIL,
				"lab '%s' exists and was made by %s, not by %s; refusing to "
				"adopt or remove it (take it down with `xlab down %s`, or choose "
				"another lab name)",
				lab, made_by_what(have), made_by_what(made_by), lab);
	return 0;
}

int db_lab_forget_nodes(struct db *db, const char *lab, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "DELETE FROM hosts WHERE lab = ?", e, "s", lab) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	if (db_prepare(db, &st, "DELETE FROM guests WHERE lab = ?", e, "s", lab) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_lab_set_state(struct db *db, const char *lab, const char *state, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st, "UPDATE labs SET state = ?, updated = ? WHERE name = ?", e,
		       "sss", state, now, lab) < 0)
		return -1;
	return db_done(db, st, e);
}

static void lab_row(sqlite3_stmt *st, struct db_lab *l)
{
	l->name = col_dup(st, 0);
	l->spec_path = col_dup(st, 1);
	l->spec_sha256 = col_dup(st, 2);
	l->subnet = col_dup(st, 3);
	l->state = col_dup(st, 4);
	l->updated = col_dup(st, 5);
	l->made_by = col_dup(st, 6);
}

static void lab_clear(struct db_lab *l)
{
	FREE_CONST(l->name);
	FREE_CONST(l->spec_path);
	FREE_CONST(l->spec_sha256);
	FREE_CONST(l->subnet);
	FREE_CONST(l->state);
	FREE_CONST(l->updated);
	FREE_CONST(l->made_by);
}

#define LAB_COLS "name, spec_path, spec_sha256, subnet, state, updated, made_by"

int db_lab_get(struct db *db, const char *lab, struct db_lab **out, struct xerr *e)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	if (db_prepare(db, &st, "SELECT " LAB_COLS " FROM labs WHERE name = ?", e, "s", lab) < 0)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*out = xcalloc(1, sizeof(**out));
		lab_row(st, *out);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : db_fail(db, e, "reading labs");
}

void db_lab_free(struct db_lab *l)
{
	if (!l)
		return;
	lab_clear(l);
	free(l);
}

/* Collects every row of st into a growing array of elem_size via fill(). */
static int rows_collect(struct db *db, sqlite3_stmt *st, size_t elem_size,
			void (*fill)(sqlite3_stmt *, void *), void **out, size_t *n,
			struct xerr *e)
{
	char *v = NULL;
	size_t cap = 0;
	int r;

	*n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * elem_size);
		}
		memset(v + *n * elem_size, 0, elem_size);
		fill(st, v + *n * elem_size);
		(*n)++;
	}
	sqlite3_finalize(st);
	*out = v;
	return r == SQLITE_DONE ? 0 : db_fail(db, e, "reading");
}

static void lab_fill(sqlite3_stmt *st, void *p)
{
	lab_row(st, p);
}

int db_labs_list(struct db *db, struct db_lab **out, size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "SELECT " LAB_COLS " FROM labs ORDER BY name", e, "") < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), lab_fill, (void **)out, n, e);
}

void db_labs_free(struct db_lab *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lab_clear(&v[i]);
	free(v);
}

int db_subnets_in_use(struct db *db, char ***out, struct xerr *e)
{
	struct db_lab *labs = NULL;
	size_t n = 0, k = 0;

	if (db_labs_list(db, &labs, &n, e) < 0)
		return -1;
	*out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (labs[i].subnet && *labs[i].subnet)
			(*out)[k++] = xstrdup(labs[i].subnet);
	db_labs_free(labs, n);
	return 0;
}

int db_host_upsert(struct db *db, const struct db_host *h, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st,
		       "INSERT INTO hosts (lab, name, mac, ip, libvirt_uuid, image, image_sha256,"
		       " state, definition_sha256, updated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
		       " ON CONFLICT (lab, name) DO UPDATE SET mac = ?3, ip = ?4,"
		       " libvirt_uuid = ?5, image = ?6, image_sha256 = ?7, state = ?8,"
		       " definition_sha256 = ?9, updated = ?10",
		       e, "ssssssssss", h->lab, h->name, h->mac, h->ip, h->libvirt_uuid, h->image,
		       h->image_sha256, h->state, h->definition_sha256, now) < 0)
		return -1;
	return db_done(db, st, e);
}

static void host_fill(sqlite3_stmt *st, void *p)
{
	struct db_host *h = p;

	h->lab = col_dup(st, 0);
	h->name = col_dup(st, 1);
	h->mac = col_dup(st, 2);
	h->ip = col_dup(st, 3);
	h->libvirt_uuid = col_dup(st, 4);
	h->image = col_dup(st, 5);
	h->image_sha256 = col_dup(st, 6);
	h->state = col_dup(st, 7);
	h->definition_sha256 = col_dup(st, 8);
	h->updated = col_dup(st, 9);
}

int db_hosts_list(struct db *db, const char *lab, struct db_host **out, size_t *n,
		  struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT lab, name, mac, ip, libvirt_uuid, image, image_sha256, state,"
		       " definition_sha256, updated FROM hosts"
		       " WHERE lab = ? AND state IS NOT 'removed' ORDER BY rowid",
		       e, "s", lab) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), host_fill, (void **)out, n, e);
}

void db_hosts_free(struct db_host *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].lab);
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].mac);
		FREE_CONST(v[i].ip);
		FREE_CONST(v[i].libvirt_uuid);
		FREE_CONST(v[i].image);
		FREE_CONST(v[i].image_sha256);
		FREE_CONST(v[i].state);
		FREE_CONST(v[i].definition_sha256);
		FREE_CONST(v[i].updated);
	}
	free(v);
}

int db_guest_upsert(struct db *db, const struct db_guest *g, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);

	if (db_prepare(db, &st,
		       "INSERT INTO guests (lab, host, name, mac, ip, state, made_by, updated)"
		       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT (lab, name) DO UPDATE SET"
		       " host = ?2, mac = ?4, ip = ?5, state = ?6, made_by = ?7, updated = ?8",
		       e, "ssssssss", g->lab, g->host, g->name, g->mac, g->ip, g->state, g->made_by,
		       now) < 0)
		return -1;
	return db_done(db, st, e);
}

static void guest_fill(sqlite3_stmt *st, void *p)
{
	struct db_guest *g = p;

	g->lab = col_dup(st, 0);
	g->host = col_dup(st, 1);
	g->name = col_dup(st, 2);
	g->mac = col_dup(st, 3);
	g->ip = col_dup(st, 4);
	g->state = col_dup(st, 5);
	g->made_by = col_dup(st, 6);
	g->updated = col_dup(st, 7);
}

int db_guests_list(struct db *db, const char *lab, struct db_guest **out, size_t *n,
		   struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT lab, host, name, mac, ip, state, made_by, updated FROM guests"
		       " WHERE lab = ? AND state IS NOT 'removed' ORDER BY rowid",
		       e, "s", lab) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), guest_fill, (void **)out, n, e);
}

void db_guests_free(struct db_guest *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].lab);
		FREE_CONST(v[i].host);
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].mac);
		FREE_CONST(v[i].ip);
		FREE_CONST(v[i].state);
		FREE_CONST(v[i].made_by);
		FREE_CONST(v[i].updated);
	}
	free(v);
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
}

int db_steps_list(struct db *db, int64_t run_id, struct db_step **out, size_t *n,
		  struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT id, run_id, name, target, status, message, started,"
		       " coalesce(duration_ms, -1) FROM steps WHERE run_id = ? ORDER BY id",
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
		       "INSERT INTO matrix_cells (matrix_id, xen, lab, image, image_sha256, status)"
		       " VALUES (?, ?, ?, ?, ?, ?)",
		       e, "isssss", c->matrix_id, c->xen, c->lab, c->image, c->image_sha256,
		       c->status) < 0 ||
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
}

int db_matrix_cells_list(struct db *db, int64_t matrix_id, struct db_matrix_cell **out,
			 size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT id, matrix_id, xen, lab, coalesce(run_id, 0), image, image_sha256,"
		       " xen_version, kernel_version, coalesce(bringup_ms, 0), status, message"
		       " FROM matrix_cells WHERE matrix_id = ? ORDER BY id",
		       e, "i", matrix_id) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), cell_fill, (void **)out, n, e);
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

int db_guests_set_state(struct db *db, const char *lab, const char *host, const char *state,
			struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_prepare(db, &st,
		       "UPDATE guests SET state = ?3, updated = ?4 WHERE lab = ?1"
		       " AND (?2 IS NULL OR host = ?2)",
		       e, "ssss", lab, host, state, now) < 0)
		return -1;
	return db_done(db, st, e);
}

int db_guest_delete(struct db *db, const char *lab, const char *name, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "DELETE FROM guests WHERE lab = ? AND name = ?", e, "ss", lab,
		       name) < 0)
		return -1;
	return db_done(db, st, e);
}
