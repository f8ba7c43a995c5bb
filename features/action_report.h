/* The read side of test actions (save-restore, local-migrate, stop-start):
 * each step's times over the rounds of a run, for `xlab report`. */
#ifndef XLAB_ACTION_REPORT_H
#define XLAB_ACTION_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "err.h"

/* Per action test and step: rounds done, how many ok, min/median/max. */
int action_report_text(struct db *db, int64_t run_id, FILE *f, struct xerr *e);
/* The same as "actions": [{"test", "steps": [{"step", "n", "ok", "min",
 * "median", "p95", "max"}]}] in o (milliseconds). */
int action_report_json(struct db *db, int64_t run_id, struct json_object *o, struct xerr *e);

/* `report --html`: the spread of each test's steps over its rounds as an
 * SVG document (a row per test and step, a dot per round, red when it
 * failed, a tick at the median of those that succeeded); NULL when v is
 * empty. */
char *action_plot_svg(const struct db_action_step *v, size_t n, const char *title);

/* `xlab report --compare A B` for test actions: each step of each action
 * test in either run, its rounds ok and min/median/max per run, and how
 * the median changed. */
struct step_group;
struct action_run {
	int64_t id;
	struct db_action_step *v;
	size_t n;
	struct step_group *g; /* one per test and step, in the order done */
	size_t ng;
};
/* The run's action steps; none is fine. */
int action_run_load(struct db *db, int64_t run_id, struct action_run *out, struct xerr *e);
void action_run_free(struct action_run *x);
void action_compare_text(const struct action_run *a, const struct action_run *b, FILE *f);
/* [{"test", "step", "runs": [{run, n, ok, min, median, p95, max} | null, ...],
 * "median_change_ms", "median_ratio"}] (milliseconds). */
struct json_object *action_compare_json(const struct action_run *a, const struct action_run *b);

/* `report --html`: per test and step, rounds ok and min/median/max (over
 * the rounds it succeeded) as a table. */
struct html;
void action_report_html(struct html *h, const struct action_run *x);

#endif
