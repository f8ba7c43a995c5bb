/* A matrix's results as plain data, and what is made of them: the table
 * (rows tests, columns Xen versions), JSON, one JUnit testsuite per version,
 * and the comparison of two matrices. Pure: the store fills the struct
 * (matrix_store.h), these only render it. */
#ifndef XLAB_MATRIX_VIEW_H
#define XLAB_MATRIX_VIEW_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

/* Cell states: a test that was not run (its copy never came up) is neither. */
enum mx_state { MX_NOT_RUN = 0, MX_PASS, MX_FAIL };

struct mx_cell {
	enum mx_state state;
	int64_t ms;
	char *output; /* what the test printed, or why it failed */
};

struct mx_column {
	char *xen;            /* "4.20" as asked */
	char *guest_type;     /* "pvh" with `--types`, else NULL */
	char *lab;            /* the copy, e.g. demo-x4-20 */
	char *status;         /* "running", "passed", "failed", "bringup-failed" */
	char *message;        /* why it failed; with the serial tail when it did not boot */
	int64_t run_id;       /* the copy's `up` run (0: none) */
	bool up;              /* bring-up succeeded */
	int64_t bringup_ms;
	char *image, *image_sha256;          /* image name and manifest sha256 */
	char *xen_version, *kernel_version;  /* as `xl info` reported inside the host */
	struct mx_cell *cells;               /* one per row */
};

struct mx_view {
	int64_t id;
	char *spec_path, *spec_sha256, *xlab_version, *status, *started;
	char **rows; /* test names, spec order; NULL-terminated */
	size_t n_rows;
	struct mx_column *cols;
	size_t n_cols;
};

void mx_view_free(struct mx_view *v);
/* Every cell of every column passed and every copy came up. */
bool mx_view_passed(const struct mx_view *v);
/* "xen-4.20", "xen-4.20/pvh" with a type: the JUnit suite (and JSON key)
 * name of a column. */
char *mx_suite_name(const struct mx_column *c);

/* The table: a bring-up row, then one row per test; cells "PASS 12.3s",
 * "FAIL 4.0s" or "-" (not run). Failures' output follows the table. */
void mx_table_render(const struct mx_view *v, struct buf *out);
struct json_object *mx_json(const struct mx_view *v);
/* One <testsuite name="xen-4.20"> per column; its first case is the
 * bring-up, then the tests (failed with "not run" when the copy never came
 * up, so CI shows them red). "-" is stdout. */
int mx_junit_write(const struct mx_view *v, const char *path, struct xerr *e);

/* What changed from `a` to `b`, by (version, test): new failures first, then
 * fixed, then still failing; "no change" when nothing did. Returns the number
 * of new failures. */
size_t mx_compare_render(const struct mx_view *a, const struct mx_view *b, struct buf *out);

#endif
