/* Loading a matrix's view from the store. */
#include "matrix_store.h"

#include <string.h>

#include "util.h"

/* Rows: the spec's test names as recorded, then any other name a run
 * recorded (a copy's spec cannot differ, but the store is the truth). */
static void rows_load(struct mx_view *v, const char *tests_json, char ***extra_names)
{
	struct json_object *a = tests_json ? json_tokener_parse(tests_json) : NULL;
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	size_t n_extra = strv_len(*extra_names);

	v->rows = xcalloc(n + n_extra + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));

		if (s)
			v->rows[v->n_rows++] = xstrdup(s);
	}
	for (size_t i = 0; i < n_extra; i++) {
		bool have = false;

		for (size_t r = 0; r < v->n_rows && !have; r++)
			have = !strcmp(v->rows[r], (*extra_names)[i]);
		if (!have)
			v->rows[v->n_rows++] = xstrdup((*extra_names)[i]);
	}
	json_object_put(a);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void column_from_cell(struct mx_column *c, const struct db_matrix_cell *d)
{
	c->xen = xstrdup(d->xen);
	c->guest_type = dup_or_null(d->guest_type);
	c->lab = xstrdup(d->lab);
	c->status = xstrdup(d->status);
	c->message = dup_or_null(d->message);
	c->run_id = d->run_id;
	c->up = !strcmp(d->status, "passed") || !strcmp(d->status, "failed");
	c->bringup_ms = d->bringup_ms;
	c->image = dup_or_null(d->image);
	c->image_sha256 = dup_or_null(d->image_sha256);
	c->xen_version = dup_or_null(d->xen_version);
	c->kernel_version = dup_or_null(d->kernel_version);
}

int mx_view_load(struct db *db, int64_t id, struct mx_view *v, struct xerr *e)
{
	struct db_matrix *m = NULL;
	struct db_matrix_cell *cells = NULL;
	struct db_test_result **res = NULL;
	size_t n_cells = 0, *n_res = NULL;
	_cleanup_strv_ char **names = NULL;
	size_t n_names = 0, cap = 0;
	int rc = -1;

	*v = (struct mx_view){ 0 };
	if (db_matrix_get(db, id, &m, e) < 0 || db_matrix_cells_list(db, id, &cells, &n_cells, e) < 0)
		goto out;
	res = xcalloc(n_cells + 1, sizeof(*res));
	n_res = xcalloc(n_cells + 1, sizeof(*n_res));
	for (size_t i = 0; i < n_cells; i++) {
		if (cells[i].run_id &&
		    db_test_results_list(db, cells[i].run_id, &res[i], &n_res[i], e) < 0)
			goto out;
		for (size_t t = 0; t < n_res[i]; t++) {
			xgrow((void **)&names, &cap, n_names + 1, sizeof(char *));
			names[n_names++] = xstrdup(res[i][t].name);
			names[n_names] = NULL;
		}
	}
	v->id = m->id;
	v->spec_path = dup_or_null(m->spec_path);
	v->spec_sha256 = dup_or_null(m->spec_sha256);
	v->xlab_version = dup_or_null(m->xlab_version);
	v->status = dup_or_null(m->status);
	v->started = dup_or_null(m->started);
	if (!names)
		names = xcalloc(1, sizeof(char *));
	rows_load(v, m->tests, &names);
	v->cols = xcalloc(n_cells + 1, sizeof(*v->cols));
	for (size_t i = 0; i < n_cells; i++) {
		struct mx_column *c = &v->cols[v->n_cols++];

		column_from_cell(c, &cells[i]);
		c->cells = xcalloc(v->n_rows + 1, sizeof(*c->cells));
		/* A test run twice in one run (a retry) counts as its last result. */
		for (size_t t = 0; t < n_res[i]; t++) {
			for (size_t r = 0; r < v->n_rows; r++) {
				if (strcmp(v->rows[r], res[i][t].name) != 0)
					continue;
				free(c->cells[r].output);
				c->cells[r] = (struct mx_cell){
					.state = res[i][t].passed ? MX_PASS : MX_FAIL,
					.ms = res[i][t].duration_ms,
					.output = dup_or_null(res[i][t].output),
				};
			}
		}
	}
	rc = 0;
out:
	for (size_t i = 0; res && i < n_cells; i++)
		db_test_results_free(res[i], n_res[i]);
	free(res);
	free(n_res);
	db_matrix_cells_free(cells, n_cells);
	db_matrix_free(m);
	if (rc < 0)
		mx_view_free(v);
	return rc;
}
