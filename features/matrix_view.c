/* Rendering a matrix: table, JSON, JUnit, comparison. */
#include "matrix_view.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "junit.h"

#define BRINGUP_ROW "bring-up"

void mx_view_free(struct mx_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_cols; i++) {
		struct mx_column *c = &v->cols[i];

		for (size_t r = 0; c->cells && r < v->n_rows; r++)
			free(c->cells[r].output);
		free(c->cells);
		free(c->xen);
		free(c->guest_type);
		free(c->lab);
		free(c->status);
		free(c->message);
		free(c->image);
		free(c->image_sha256);
		free(c->xen_version);
		free(c->kernel_version);
	}
	free(v->cols);
	strv_free(v->rows);
	free(v->spec_path);
	free(v->spec_sha256);
	free(v->xlab_version);
	free(v->status);
	free(v->started);
	*v = (struct mx_view){ 0 };
}

bool mx_view_passed(const struct mx_view *v)
{
	if (!v->n_cols)
		return false;
	for (size_t i = 0; i < v->n_cols; i++) {
		if (!v->cols[i].up)
			return false;
		for (size_t r = 0; r < v->n_rows; r++)
			if (v->cols[i].cells[r].state != MX_PASS)
				return false;
	}
	return true;
}

/* The image the column ran: xen-4.17 for Xen 4.17, or an image by name. */
char *mx_suite_name(const struct mx_column *c)
{
	_cleanup_free_ char *image = c->image && *c->image ? xstrdup(c->image) :
							     xasprintf("xen-%s", c->xen);

	return c->guest_type ? xasprintf("%s/%s", image, c->guest_type) : xstrdup(image);
}

static void cell_text(enum mx_state st, int64_t ms, char *out, size_t sz)
{
	if (st == MX_NOT_RUN)
		snprintf(out, sz, "-");
	else
		snprintf(out, sz, "%s %.1fs", st == MX_PASS ? "PASS" : "FAIL", (double)ms / 1000.0);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* The first line of a possibly long text, for the table's notes. */
static void first_lines(struct buf *out, const char *indent, const char *text, size_t max)
{
	const char *p = text;

	for (size_t n = 0; p && *p && n < max; n++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		buf_printf(out, "%s%.*s\n", indent, (int)len, p);
		p = nl ? nl + 1 : NULL;
	}
}

void mx_table_render(const struct mx_view *v, struct buf *out)
{
	size_t w0 = strlen(BRINGUP_ROW), *w = xcalloc(v->n_cols + 1, sizeof(size_t));
	char cell[64];

	for (size_t r = 0; r < v->n_rows; r++)
		if (strlen(v->rows[r]) > w0)
			w0 = strlen(v->rows[r]);
	buf_printf(out, "matrix %" PRId64 ": %s (spec sha256 %.12s), xlab %s, %s\n\n", v->id,
		   or_dash(v->spec_path), or_dash(v->spec_sha256), or_dash(v->xlab_version),
		   mx_view_passed(v) ? "PASSED" : "FAILED");
	buf_printf(out, "%-*s", (int)w0, "TEST");
	for (size_t i = 0; i < v->n_cols; i++) {
		_cleanup_free_ char *name = mx_suite_name(&v->cols[i]);

		w[i] = strlen(name) > 12 ? strlen(name) : 12;
		buf_printf(out, "  %-*s", (int)w[i], name);
	}
	buf_puts(out, "\n");
	buf_printf(out, "%-*s", (int)w0, BRINGUP_ROW);
	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];

		cell_text(c->run_id || c->up ? (c->up ? MX_PASS : MX_FAIL) : MX_NOT_RUN,
			  c->bringup_ms, cell, sizeof(cell));
		buf_printf(out, "  %-*s", (int)w[i], cell);
	}
	buf_puts(out, "\n");
	for (size_t r = 0; r < v->n_rows; r++) {
		buf_printf(out, "%-*s", (int)w0, v->rows[r]);
		for (size_t i = 0; i < v->n_cols; i++) {
			cell_text(v->cols[i].cells[r].state, v->cols[i].cells[r].ms, cell,
				  sizeof(cell));
			buf_printf(out, "  %-*s", (int)w[i], cell);
		}
		buf_puts(out, "\n");
	}
	buf_puts(out, "\n");
	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];

		_cleanup_free_ char *suite = mx_suite_name(c);

		buf_printf(out, "%s: lab %s, image %s (manifest %.12s), xl info: Xen %s, "
				"dom0 kernel %s, run %" PRId64 "\n",
			   suite, or_dash(c->lab), or_dash(c->image), or_dash(c->image_sha256),
			   or_dash(c->xen_version), or_dash(c->kernel_version), c->run_id);
	}
	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];
		_cleanup_free_ char *suite = mx_suite_name(c);

		if (!c->up && c->message) {
			buf_printf(out, "\n%s %s FAILED:\n", suite, BRINGUP_ROW);
			first_lines(out, "  ", c->message, 40);
		}
		for (size_t r = 0; r < v->n_rows; r++) {
			if (c->cells[r].state != MX_FAIL)
				continue;
			buf_printf(out, "\n%s %s FAILED:\n", suite, v->rows[r]);
			first_lines(out, "  ", c->cells[r].output ? c->cells[r].output : "", 10);
		}
	}
	free(w);
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static const char *state_name(enum mx_state st)
{
	return st == MX_PASS ? "pass" : st == MX_FAIL ? "fail" : "not-run";
}

static struct json_object *column_json(const struct mx_view *v, const struct mx_column *c)
{
	struct json_object *o = json_object_new_object(), *cells = json_object_new_array();
	struct json_object *bu = json_object_new_object();

	json_object_object_add(o, "xen", jstr(c->xen));
	json_object_object_add(o, "guest_type", jstr(c->guest_type));
	{
		_cleanup_free_ char *suite = mx_suite_name(c);

		json_object_object_add(o, "suite", json_object_new_string(suite));
	}
	json_object_object_add(o, "lab", jstr(c->lab));
	json_object_object_add(o, "status", jstr(c->status));
	json_object_object_add(o, "message", jstr(c->message));
	json_object_object_add(o, "run_id", json_object_new_int64(c->run_id));
	json_object_object_add(o, "image", jstr(c->image));
	json_object_object_add(o, "image_manifest_sha256", jstr(c->image_sha256));
	json_object_object_add(o, "xen_version", jstr(c->xen_version));
	json_object_object_add(o, "kernel_version", jstr(c->kernel_version));
	json_object_object_add(bu, "passed", json_object_new_boolean(c->up));
	json_object_object_add(bu, "duration_ms", json_object_new_int64(c->bringup_ms));
	json_object_object_add(o, "bringup", bu);
	for (size_t r = 0; r < v->n_rows; r++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "name", jstr(v->rows[r]));
		json_object_object_add(t, "state", jstr(state_name(c->cells[r].state)));
		json_object_object_add(t, "duration_ms", json_object_new_int64(c->cells[r].ms));
		json_object_object_add(t, "output", jstr(c->cells[r].output));
		json_object_array_add(cells, t);
	}
	json_object_object_add(o, "tests", cells);
	return o;
}

struct json_object *mx_json(const struct mx_view *v)
{
	struct json_object *o = json_object_new_object(), *rows = json_object_new_array();
	struct json_object *cols = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64(v->id));
	json_object_object_add(o, "spec_path", jstr(v->spec_path));
	json_object_object_add(o, "spec_sha256", jstr(v->spec_sha256));
	json_object_object_add(o, "xlab_version", jstr(v->xlab_version));
	json_object_object_add(o, "status", jstr(v->status));
	json_object_object_add(o, "started", jstr(v->started));
	json_object_object_add(o, "passed", json_object_new_boolean(mx_view_passed(v)));
	for (size_t r = 0; r < v->n_rows; r++)
		json_object_array_add(rows, json_object_new_string(v->rows[r]));
	json_object_object_add(o, "tests", rows);
	for (size_t i = 0; i < v->n_cols; i++)
		json_object_array_add(cols, column_json(v, &v->cols[i]));
	json_object_object_add(o, "columns", cols);
	return o;
}

int mx_junit_write(const struct mx_view *v, const char *path, struct xerr *e)
{
	struct junit_suite *suites = xcalloc(v->n_cols + 1, sizeof(*suites));
	struct junit_case **cases = xcalloc(v->n_cols + 1, sizeof(*cases));
	char **names = xcalloc(v->n_cols + 1, sizeof(char *));
	char host[256] = "localhost";
	int rc;

	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < v->n_cols; i++) {
		const struct mx_column *c = &v->cols[i];
		struct junit_case *k = xcalloc(v->n_rows + 1, sizeof(*k));

		names[i] = mx_suite_name(c);
		k[0] = (struct junit_case){
			.name = BRINGUP_ROW,
			.classname = names[i],
			.time_s = (double)c->bringup_ms / 1000.0,
			.failed = !c->up,
			.message = c->up ? NULL : "the lab did not come up",
			.output = c->up ? NULL : c->message,
		};
		for (size_t r = 0; r < v->n_rows; r++) {
			const struct mx_cell *cell = &c->cells[r];

			k[r + 1] = (struct junit_case){
				.name = v->rows[r],
				.classname = names[i],
				.time_s = (double)cell->ms / 1000.0,
				.failed = cell->state != MX_PASS,
				.message = cell->state == MX_PASS ? NULL :
					   cell->state == MX_FAIL ? "test failed" :
					   "not run: the lab did not come up",
				.output = cell->output,
			};
		}
		cases[i] = k;
		suites[i] = (struct junit_suite){
			.name = names[i],
			.timestamp = v->started,
			.hostname = host,
			.cases = k,
			.n_cases = v->n_rows + 1,
		};
	}
	rc = junit_write(path, "xlab-matrix", suites, v->n_cols, e);
	for (size_t i = 0; i < v->n_cols; i++)
		free(cases[i]);
	free(cases);
	free(suites);
	strv_free(names);
	return rc;
}

/* By the image the column ran: --xen 4.20 and --image xen-4.20 are one. */
static const struct mx_column *column_find(const struct mx_view *v, const char *suite)
{
	for (size_t i = 0; i < v->n_cols; i++) {
		_cleanup_free_ char *s = mx_suite_name(&v->cols[i]);

		if (!strcmp(s, suite))
			return &v->cols[i];
	}
	return NULL;
}

/* The state of a cell; the row BRINGUP_ROW is the column's bring-up. */
static enum mx_state state_at(const struct mx_view *v, const struct mx_column *c,
			      const char *row)
{
	if (!c)
		return MX_NOT_RUN;
	if (!strcmp(row, BRINGUP_ROW))
		return c->up ? MX_PASS : (c->run_id || c->message) ? MX_FAIL : MX_NOT_RUN;
	for (size_t r = 0; r < v->n_rows; r++)
		if (!strcmp(v->rows[r], row))
			return c->cells[r].state;
	return MX_NOT_RUN;
}

size_t mx_compare_render(const struct mx_view *a, const struct mx_view *b, struct buf *out)
{
	static const char *const titles[] = { "new failures", "fixed", "still failing" };
	struct buf sect[3] = { { 0 } };
	size_t count[3] = { 0 };

	for (size_t i = 0; i < b->n_cols; i++) {
		const struct mx_column *cb = &b->cols[i];
		_cleanup_free_ char *suite = mx_suite_name(cb);
		const struct mx_column *ca = column_find(a, suite);

		for (size_t r = 0; r <= b->n_rows; r++) {
			const char *row = r == 0 ? BRINGUP_ROW : b->rows[r - 1];
			enum mx_state sa = state_at(a, ca, row), sb = state_at(b, cb, row);
			int k = -1;

			if (sb == MX_FAIL && sa != MX_FAIL)
				k = 0;
			else if (sb == MX_PASS && sa == MX_FAIL)
				k = 1;
			else if (sb == MX_FAIL)
				k = 2;
			if (k < 0)
				continue;
			count[k]++;
			buf_printf(&sect[k], "  %-12s %s%s\n", suite, row,
				   k == 0 && !ca ? " (version not in the first matrix)" : "");
		}
	}
	buf_printf(out, "matrix %" PRId64 " -> %" PRId64 ": %zu new failure(s), %zu fixed, "
			"%zu still failing\n",
		   a->id, b->id, count[0], count[1], count[2]);
	if (a->spec_sha256 && b->spec_sha256 && strcmp(a->spec_sha256, b->spec_sha256))
		buf_printf(out, "note: the spec changed (%.12s -> %.12s)\n", a->spec_sha256,
			   b->spec_sha256);
	for (int k = 0; k < 3; k++) {
		if (!count[k])
			continue;
		buf_printf(out, "%s:\n%s", titles[k], sect[k].data);
	}
	if (!count[0] && !count[1] && !count[2])
		buf_puts(out, "no change: no failed cell in either\n");
	for (int k = 0; k < 3; k++)
		buf_free(&sect[k]);
	return count[0];
}
