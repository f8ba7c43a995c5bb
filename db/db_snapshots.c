/* Lab snapshots in the store: one row per snapshot (which hosts it holds,
 * when it was taken, how long it took) and a copy of the lab's guest rows
 * as they were, so a revert brings the store back in line with the dom0s'
 * memory: a guest made by hand after the snapshot is forgotten, one
 * destroyed since is known again. */
#include <stdlib.h>

#include "db_int.h"

int db_snapshot_add(struct db *db, const struct db_snapshot *s, struct xerr *e)
{
	struct xerr ignore = { 0 };
	sqlite3_stmt *st;

	if (db_exec(db, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	if (db_prepare(db, &st,
		       "INSERT INTO snapshots (lab, name, hosts, created, duration_ms)"
		       " VALUES (?, ?, ?, ?, ?)",
		       e, "ssssi", s->lab, s->name, s->hosts, s->created, s->duration_ms) < 0 ||
	    db_done(db, st, e) < 0)
		goto fail;
	if (db_prepare(db, &st,
		       "INSERT INTO snapshot_guests (lab, snapshot, host, name, mac, ip, state,"
		       " made_by) SELECT lab, ?2, host, name, mac, ip, state, made_by FROM guests"
		       " WHERE lab = ?1 AND state IS NOT 'removed'",
		       e, "ss", s->lab, s->name) < 0 ||
	    db_done(db, st, e) < 0)
		goto fail;
	return db_exec(db, "COMMIT", e);
fail:
	db_exec(db, "ROLLBACK", &ignore);
	return -1;
}

static void snapshot_fill(sqlite3_stmt *st, void *p)
{
	struct db_snapshot *s = p;

	s->lab = col_dup(st, 0);
	s->name = col_dup(st, 1);
	s->hosts = col_dup(st, 2);
	s->created = col_dup(st, 3);
	s->duration_ms = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1
								  : sqlite3_column_int64(st, 4);
	s->guests = sqlite3_column_int(st, 5);
}

#define SNAPSHOT_COLS                                                                        \
	"lab, name, hosts, created, duration_ms, (SELECT count(*) FROM snapshot_guests g"   \
	" WHERE g.lab = s.lab AND g.snapshot = s.name)"

int db_snapshots_list(struct db *db, const char *lab, struct db_snapshot **out, size_t *n,
		      struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st,
		       "SELECT " SNAPSHOT_COLS " FROM snapshots s WHERE lab = ? ORDER BY created,"
		       " rowid",
		       e, "s", lab) < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), snapshot_fill, (void **)out, n, e);
}

int db_snapshot_get(struct db *db, const char *lab, const char *name, struct db_snapshot **out,
		    struct xerr *e)
{
	sqlite3_stmt *st;
	size_t n = 0;

	*out = NULL;
	if (db_prepare(db, &st,
		       "SELECT " SNAPSHOT_COLS " FROM snapshots s WHERE lab = ? AND name = ?", e,
		       "ss", lab, name) < 0 ||
	    rows_collect(db, st, sizeof(**out), snapshot_fill, (void **)out, &n, e) < 0)
		return -1;
	return n ? 1 : 0;
}

void db_snapshots_free(struct db_snapshot *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].lab);
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].hosts);
		FREE_CONST(v[i].created);
	}
	free(v);
}

int db_snapshot_delete(struct db *db, const char *lab, const char *name, struct xerr *e)
{
	struct xerr ignore = { 0 };
	sqlite3_stmt *st;

	if (db_exec(db, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	/* name NULL: every snapshot of the lab (it goes down). */
	if (db_prepare(db, &st,
		       "DELETE FROM snapshot_guests WHERE lab = ?1 AND (?2 IS NULL OR snapshot = ?2)",
		       e, "ss", lab, name) < 0 ||
	    db_done(db, st, e) < 0 ||
	    db_prepare(db, &st, "DELETE FROM snapshots WHERE lab = ?1 AND (?2 IS NULL OR name = ?2)",
		       e, "ss", lab, name) < 0 ||
	    db_done(db, st, e) < 0) {
		db_exec(db, "ROLLBACK", &ignore);
		return -1;
	}
	return db_exec(db, "COMMIT", e);
}

int db_snapshot_restore_guests(struct db *db, const char *lab, const char *name,
			       struct xerr *e)
{
	struct xerr ignore = { 0 };
	sqlite3_stmt *st;
	char now[32];

	now_iso8601(now);
	if (db_exec(db, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	if (db_prepare(db, &st, "DELETE FROM guests WHERE lab = ?", e, "s", lab) < 0 ||
	    db_done(db, st, e) < 0 ||
	    db_prepare(db, &st,
		       "INSERT INTO guests (lab, host, name, mac, ip, state, made_by, updated)"
		       " SELECT lab, host, name, mac, ip, state, made_by, ?3 FROM snapshot_guests"
		       " WHERE lab = ?1 AND snapshot = ?2",
		       e, "sss", lab, name, now) < 0 ||
	    db_done(db, st, e) < 0) {
		db_exec(db, "ROLLBACK", &ignore);
		return -1;
	}
	return db_exec(db, "COMMIT", e);
}
