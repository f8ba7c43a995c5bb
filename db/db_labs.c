/* The labs, hosts and guests tables: what exists, as the store knows it. */
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

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
	static const char *const tables[] = { "hosts", "guests", "snapshot_guests", "snapshots" };
	struct xerr ignore = { 0 };

	/* All or nothing: a down cut halfway must not leave snapshots whose
	 * hosts are forgotten. */
	if (db_exec(db, "BEGIN IMMEDIATE", e) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		_cleanup_free_ char *sql = xasprintf("DELETE FROM %s WHERE lab = ?", tables[i]);
		sqlite3_stmt *st;

		if (db_prepare(db, &st, sql, e, "s", lab) < 0 || db_done(db, st, e) < 0) {
			db_exec(db, "ROLLBACK", &ignore);
			return -1;
		}
	}
	return db_exec(db, "COMMIT", e);
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

