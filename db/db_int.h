/* What db/db*.c share and nothing else sees: the handle and the statement
 * helpers every table's queries use. */
#ifndef XLAB_DB_INT_H
#define XLAB_DB_INT_H

#include <sqlite3.h>

#include "db.h"
#include "util.h"

struct db {
	sqlite3 *h;
	char *path;
};

int db_fail(struct db *db, struct xerr *e, const char *what);
/* Runs SQL that binds nothing (BEGIN, COMMIT, a migration). */
int db_exec(struct db *db, const char *sql, struct xerr *e);
/* Prepares sql and binds its parameters, one letter of fmt each ('s' a
 * string, NULL binding SQL NULL; any other letter an int64_t): values are
 * never formatted into the SQL. */
int db_prepare(struct db *db, sqlite3_stmt **st, const char *sql, struct xerr *e,
	       const char *fmt, ...);
int db_done(struct db *db, sqlite3_stmt *st, struct xerr *e);
const char *col_dup(sqlite3_stmt *st, int i);
/* Collects every row of st into a growing array of elem_size via fill(). */
int rows_collect(struct db *db, sqlite3_stmt *st, size_t elem_size,
		 void (*fill)(sqlite3_stmt *, void *), void **out, size_t *n, struct xerr *e);

/* Rows hold const strings the store allocated. */
#define FREE_CONST(p) free((void *)(p))

#endif
