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

#include "db_int.h"

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
	/* 6: a test action's steps (xl save, xl restore, ping...), round by round */
	"CREATE TABLE action_steps ("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id),"
	"  test TEXT NOT NULL, round INTEGER NOT NULL, step TEXT NOT NULL,"
	"  ok INTEGER NOT NULL, duration_ms INTEGER);"
	"CREATE INDEX action_steps_run ON action_steps (run_id, id);",
	/* 7: a matrix's guest-type axis (`--types`): the type a cell's guests ran as */
	"ALTER TABLE matrix_cells ADD COLUMN guest_type TEXT;",
	/* 8: lab snapshots, and the guest rows as they were when each was taken */
	"CREATE TABLE snapshots ("
	"  lab TEXT NOT NULL, name TEXT NOT NULL, hosts TEXT NOT NULL, created TEXT NOT NULL,"
	"  duration_ms INTEGER, PRIMARY KEY (lab, name));"
	"CREATE TABLE snapshot_guests ("
	"  lab TEXT NOT NULL, snapshot TEXT NOT NULL, host TEXT NOT NULL, name TEXT NOT NULL,"
	"  mac TEXT, ip TEXT, state TEXT, made_by TEXT, PRIMARY KEY (lab, snapshot, name));",
	/* 9: libvirt servers labs may run on (`xlab server add`); "local" is implicit */
	"CREATE TABLE servers ("
	"  name TEXT PRIMARY KEY, uri TEXT NOT NULL, added TEXT NOT NULL);",
};

int db_fail(struct db *db, struct xerr *e, const char *what)
{
	return xerr_set(e, XERR_FAIL, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

int db_exec(struct db *db, const char *sql, struct xerr *e)
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
int db_prepare(struct db *db, sqlite3_stmt **st, const char *sql, struct xerr *e,
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

int db_done(struct db *db, sqlite3_stmt *st, struct xerr *e)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, "writing");

	sqlite3_finalize(st);
	return rc;
}

const char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}


/* Collects every row of st into a growing array of elem_size via fill(). */
int rows_collect(struct db *db, sqlite3_stmt *st, size_t elem_size,
		 void (*fill)(sqlite3_stmt *, void *), void **out, size_t *n, struct xerr *e)
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

