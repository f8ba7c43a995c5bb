/* The read side of migration experiments: a run's rounds grouped per
 * experiment with their statistics, shared by `xlab report` (text, JSON),
 * `xlab report --compare` and `--plot`. */
#ifndef XLAB_EXPERIMENT_REPORT_H
#define XLAB_EXPERIMENT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "err.h"
#include "migstat.h"

struct exp_group {
	const char *name;          /* points into the run's rounds */
	size_t first, n, n_ok;     /* rounds[first .. first + n) */
	struct migstat wall, down; /* seconds, over the rounds that succeeded */
};

/* One run's rounds (ordered by id) and one group per experiment. */
struct exp_run {
	int64_t id;
	struct db_experiment_round *rounds;
	size_t n_rounds;
	struct exp_group *groups;
	size_t n_groups;
};

/* The rounds of run_id, grouped; none is fine (a run without experiments). */
int exp_run_load(struct db *db, int64_t run_id, struct exp_run *out, struct xerr *e);
/* Like exp_run_load, for commands about experiments only: fails when the run
 * does not exist or has no rounds, saying what to run first. */
int exp_run_load_measured(struct db *db, int64_t run_id, struct exp_run *out, struct xerr *e);
void exp_run_free(struct exp_run *x);
const struct exp_group *exp_run_find(const struct exp_run *x, const char *name);
/* The experiments of a or b (b may be NULL): a's in their order, then those
 * only b has; *out (free it, not the names) holds the returned count. */
size_t exp_names_union(const struct exp_run *a, const struct exp_run *b, const char ***out);
/* The seconds of g's successful rounds (downtime or wall time), sorted
 * ascending, in a new array of g->n_ok values (NULL when none). */
double *exp_group_sorted(const struct exp_run *x, const struct exp_group *g, bool downtime);
/* {"min", "median", "p95", "max"} in milliseconds, like every duration in
 * the JSON reports. */
struct json_object *exp_stat_json(const struct migstat *s);

/* Seconds to milliseconds, rounded half away from zero. */
int64_t exp_ms(double s);
/* "  x0.53 (-15.00 s)", how a median moved from a to b; the ratio only when
 * a's is not zero. Shared by the experiments' and the actions' comparison. */
void exp_median_change_text(const struct migstat *a, const struct migstat *b, FILE *f);

struct html;
/* `report --html`: group g's rounds as a table, then min/median/p95/max of
 * wall time and downtime over those that succeeded. */
void experiment_report_html(struct html *h, const struct exp_run *x, const struct exp_group *g);

/* `xlab report --compare A B`: every experiment of either run, rounds
 * ok/total and min/median/p95/max of wall time and downtime per run, and
 * how the medians changed from A to B. */
void experiment_compare_text(const struct exp_run *a, const struct exp_run *b, FILE *f);
struct json_object *experiment_compare_json(const struct exp_run *a, const struct exp_run *b);

/* True when an experiment name can go into a gnuplot title and a file name
 * as it is: [A-Za-z0-9_.-]+, which the spec's names are a subset of. */
bool experiment_name_plottable(const char *name);
/* The gnuplot script (terminal svg, output to stdout, data inline) of the
 * empirical CDFs of downtime and wall time of experiment `name` in runs[0..n)
 * (1 or 2); NULL when no run has a successful round of it. */
char *experiment_plot_script(const struct exp_run *const runs[], size_t n, const char *name);
/* `report --html`: the CDF of experiment `name` of run x as an SVG document
 * in *svg (allocated), drawn by gnuplot as --plot draws it. Fails when the
 * name cannot be plotted, no round of it succeeded, or gnuplot is missing. */
int experiment_plot_svg(const struct exp_run *x, const char *name, char **svg, size_t *len,
			struct xerr *e);
/* `xlab report --plot DIR`: one SVG per experiment of a (a and b overlaid
 * when b is not NULL, for every experiment of either), made by gnuplot;
 * prints each path written to `paths`. */
int experiment_plot(const struct exp_run *a, const struct exp_run *b, const char *dir,
		    FILE *paths, struct xerr *e);

#endif
