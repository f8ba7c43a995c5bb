/* Text tables for the CLI: a header row, then rows; every column as wide
 * as its widest cell, so long names never push the others out of line. */
#ifndef XLAB_TABLE_H
#define XLAB_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct buf;
struct table;

/* Columns named by a NULL-terminated list of headers; indent starts each line. */
struct table *table_new(const char *indent, const char *const *headers);
#define TABLE_NEW(indent, ...) table_new(indent, (const char *const[]){ __VA_ARGS__, NULL })
/* Numbers read better right-aligned. */
void table_right(struct table *t, size_t col);
/* One row of exactly as many cells as headers; a NULL cell shows as "-". */
void table_row(struct table *t, const char *const *cells, size_t n);
#define TABLE_ROW(t, ...)                                                               \
	table_row(t, (const char *const[]){ __VA_ARGS__ },                              \
		  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))
size_t table_rows(const struct table *t);
/* The last column is not padded: no line ends in spaces. */
void table_render(const struct table *t, struct buf *out);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif
