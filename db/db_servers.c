/* Servers in the store: the libvirt daemons, other than this machine's,
 * that labs may run on. A row is a name and the URI it was added with;
 * what a server can hold is asked of its libvirt each time, never kept. */
#include <stdlib.h>

#include "db_int.h"

int db_server_add(struct db *db, const char *name, const char *uri, struct xerr *e)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	now_iso8601(now);
	if (db_prepare(db, &st, "INSERT INTO servers (name, uri, added) VALUES (?, ?, ?)", e,
		       "sss", name, uri, now) < 0)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return xerr_set(e, XERR_CONFLICT, "a server named '%s' is already in the store",
				name);
	return rc == SQLITE_DONE ? 0 : db_fail(db, e, "adding a server");
}

static void server_fill(sqlite3_stmt *st, void *p)
{
	struct db_server *s = p;

	s->name = col_dup(st, 0);
	s->uri = col_dup(st, 1);
	s->added = col_dup(st, 2);
}

int db_servers_list(struct db *db, struct db_server **out, size_t *n, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "SELECT name, uri, added FROM servers ORDER BY name", e, "") < 0)
		return -1;
	return rows_collect(db, st, sizeof(**out), server_fill, (void **)out, n, e);
}

int db_server_get(struct db *db, const char *name, struct db_server **out, struct xerr *e)
{
	sqlite3_stmt *st;
	size_t n = 0;

	*out = NULL;
	if (db_prepare(db, &st, "SELECT name, uri, added FROM servers WHERE name = ?", e, "s",
		       name) < 0 ||
	    rows_collect(db, st, sizeof(**out), server_fill, (void **)out, &n, e) < 0)
		return -1;
	return n ? 1 : 0;
}

void db_servers_free(struct db_server *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FREE_CONST(v[i].name);
		FREE_CONST(v[i].uri);
		FREE_CONST(v[i].added);
	}
	free(v);
}

int db_server_delete(struct db *db, const char *name, struct xerr *e)
{
	sqlite3_stmt *st;

	if (db_prepare(db, &st, "DELETE FROM servers WHERE name = ?", e, "s", name) < 0 ||
	    db_done(db, st, e) < 0)
		return -1;
	return sqlite3_changes(db->h) > 0 ? 1 : 0;
}
