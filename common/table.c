#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct table {
	char *indent;
	size_t n_cols, n_rows; /* rows include the header */
	char **cells;          /* n_rows * n_cols */
	size_t *width;
	bool *right;
};

static void add(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(char *));
	for (size_t i = 0; i < t->n_cols; i++) {
		const char *c = cells[i] ? cells[i] : "-";
		size_t len = strlen(c);

		t->cells[t->n_rows * t->n_cols + i] = xstrdup(c);
		if (len > t->width[i])
			t->width[i] = len;
	}
	t->n_rows++;
}

struct table *table_new(const char *indent, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	while (headers[t->n_cols])
		t->n_cols++;
	t->indent = xstrdup(indent ? indent : "");
	t->width = xcalloc(t->n_cols, sizeof(*t->width));
	t->right = xcalloc(t->n_cols, sizeof(*t->right));
	add(t, headers);
	return t;
}

void table_right(struct table *t, size_t col)
{
	if (col < t->n_cols)
		t->right[col] = true;
}

void table_row(struct table *t, const char *const *cells, size_t n)
{
	/* A row that does not fit its header is a bug of the caller. */
	if (n != t->n_cols)
		abort();
	add(t, cells);
}

size_t table_rows(const struct table *t)
{
	return t->n_rows - 1;
}

void table_render(const struct table *t, struct buf *out)
{
	for (size_t r = 0; r < t->n_rows; r++) {
		buf_puts(out, t->indent);
		for (size_t i = 0; i < t->n_cols; i++) {
			const char *c = t->cells[r * t->n_cols + i];
			int w = (int)t->width[i];
			bool last = i + 1 == t->n_cols;

			if (t->right[i])
				buf_printf(out, "%*s", w, c);
			else
				buf_printf(out, "%-*s", last ? 0 : w, c);
			buf_puts(out, last ? "\n" : "  ");
		}
	}
}

void table_print(const struct table *t, FILE *f)
{
	struct buf b = { 0 };

	table_render(t, &b);
	if (b.data)
		fputs(b.data, f);
	buf_free(&b);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t->right);
	free(t->indent);
	free(t);
}
