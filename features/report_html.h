/* `xlab report RUN --html DIR` and `xlab report --matrix N --html DIR`: one
 * self-contained page, DIR/index.html (its pictures SVG inside it, its
 * style in it, no script, nothing fetched from anywhere), for a person to
 * open in a browser or for CI to keep as an artifact.
 *
 * A run's page: a header (lab, run, command, status, start, duration, the
 * xlab that wrote it), the lab's topology (Graphviz), the steps as a Gantt
 * chart per host and guest and as a table, the tests with their output,
 * the version x test table of the matrix the run belongs to, the migration
 * experiments' CDFs (gnuplot) and the test actions' times. A matrix's page:
 * the table, each copy's versions and bring-up timeline, every failure's
 * output. A picture that cannot be drawn (no Graphviz, no gnuplot, the spec
 * file gone) leaves a note saying why in its place; the page still comes. */
#ifndef XLAB_REPORT_HTML_H
#define XLAB_REPORT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "matrix_view.h"

struct html;

/* Checks that dir can hold the page before anything is loaded or drawn: a
 * path that exists and is not a directory is refused (XERR_USAGE). */
int report_html_dir_check(const char *dir, struct xerr *e);
/* Writes the page of run_id into dir (made when missing); *path (allocated)
 * is the file written. */
int report_html_run(struct db *db, int64_t run_id, const char *dir, char **path,
		    struct xerr *e);
int report_html_matrix(struct db *db, int64_t matrix_id, const char *dir, char **path,
		       struct xerr *e);

/* The picture of the lab run `run` was made on: the spec file the store
 * names for its lab (for a matrix's copy, `cell` not NULL, the copy made
 * again from that spec), planned on the lab's recorded subnet and drawn by
 * Graphviz's dot. *caption (allocated) says what it was drawn from and
 * whether the file changed since the run. */
int report_topology_svg(struct db *db, const struct db_run *run,
			const struct db_matrix_cell *cell, char **svg, size_t *len,
			char **caption, struct xerr *e);

/* The version x test table of v, cells coloured by outcome, the column of
 * run `here` (0: none) marked; then every failed cell's output. */
void mx_html_table(struct html *h, const struct mx_view *v, int64_t here);

#endif
