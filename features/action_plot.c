/* The spread of test actions' step times, for `report --html`: a strip
 * plot, since a test action runs a handful of rounds and every one of them
 * can be shown (a CDF of three points says less than the three points). */
#include <stdlib.h>
#include <string.h>

#include "action_report.h"
#include "chart.h"
#include "migstat.h"
#include "util.h"

#define AP_WIDTH 1000
#define AP_LABELS 300
#define AP_RIGHT 24
#define AP_TOP 12
#define AP_ROW 26
#define AP_AXIS 36

/* One row: a test's step, and which of the run's rows are its rounds. */
struct ap_row {
	const char *test, *step;
};

static bool same_row(const struct ap_row *r, const struct db_action_step *s)
{
	return !strcmp(r->test, s->test) && !strcmp(r->step, s->step);
}

/* Rows in the order their first round was done. */
static size_t rows_make(const struct db_action_step *v, size_t n, struct ap_row **out)
{
	struct ap_row *rows = xcalloc(n + 1, sizeof(*rows));
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < nr && !same_row(&rows[k], &v[i]))
			k++;
		if (k == nr)
			rows[nr++] = (struct ap_row){ .test = v[i].test, .step = v[i].step };
	}
	*out = rows;
	return nr;
}

/* The median of the row's rounds that succeeded, in seconds; -1 if none. */
static double row_median(const struct ap_row *r, const struct db_action_step *v, size_t n)
{
	double *s = xcalloc(n + 1, sizeof(*s));
	struct migstat st;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].ok && same_row(r, &v[i]))
			s[k++] = (double)v[i].duration_ms / 1000;
	migstat_compute(s, k, &st);
	free(s);
	return k ? st.median : -1;
}

static void dot(struct chart *c, const struct chart_scale *sc, const struct db_action_step *s,
		double y)
{
	_cleanup_free_ char *tip = xasprintf("%s, %s, round %d: %.2f s%s", s->test, s->step,
					     s->round, (double)s->duration_ms / 1000,
					     s->ok ? "" : " (failed)");
	/* Rounds of equal times would hide each other: each round a little
	 * higher or lower than the one before. */
	double jitter = (double)(s->round % 5 - 2) * 2;

	chart_circle(c, chart_x(sc, (double)s->duration_ms / 1000), y + jitter, 4.5,
		     chart_colour(s->ok ? "ok" : "failed"), s->ok ? "round ok" :
		     "round failed", tip);
}

static void row_draw(struct chart *c, const struct chart_scale *sc, const struct ap_row *r,
		     const struct db_action_step *v, size_t n, double top)
{
	_cleanup_free_ char *label = xasprintf("%s: %s", r->test, r->step);
	double mid = top + AP_ROW / 2.0, median = row_median(r, v, n);

	chart_text(c, AP_LABELS - 8, mid + 4, "end", "#222222", label);
	if (median >= 0)
		chart_line(c, chart_x(sc, median), top + 3, chart_x(sc, median), top + AP_ROW - 3,
			   "#222222", false);
	for (size_t i = 0; i < n; i++)
		if (same_row(r, &v[i]))
			dot(c, sc, &v[i], mid);
}

char *action_plot_svg(const struct db_action_step *v, size_t n, const char *title)
{
	_cleanup_free_ struct ap_row *rows = NULL;
	size_t nr;
	int64_t max_ms = 1;
	struct chart_scale sc;
	struct chart *c;

	if (!n)
		return NULL;
	nr = rows_make(v, n, &rows);
	for (size_t i = 0; i < n; i++)
		if (v[i].duration_ms > max_ms)
			max_ms = v[i].duration_ms;
	/* Room on the right for the slowest dot. */
	sc = (struct chart_scale){ AP_LABELS, AP_WIDTH - AP_RIGHT, (double)max_ms / 1000 * 1.05 };
	c = chart_begin(AP_WIDTH, AP_TOP + (int)nr * AP_ROW + AP_AXIS, title);
	for (size_t r = 0; r < nr; r++)
		if (r % 2)
			chart_rect(c, 0, AP_TOP + (double)r * AP_ROW, AP_WIDTH, AP_ROW, "#f5f5f5",
				   NULL, NULL);
	chart_axis(c, &sc, AP_TOP, AP_TOP + (double)nr * AP_ROW);
	for (size_t r = 0; r < nr; r++)
		row_draw(c, &sc, &rows[r], v, n, AP_TOP + (double)r * AP_ROW);
	return chart_end(c);
}
