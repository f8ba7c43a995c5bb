/* Live-migration experiments on a lab that is up: each round migrates a
 * guest with `xl migrate` through the agent while a probe pings it, and
 * records wall time, downtime and where the guest ended up. */
#ifndef XLAB_EXPERIMENT_H
#define XLAB_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "err.h"

struct experiment_opts {
	const char *name; /* one experiment, or NULL for all of the spec's */
	int rounds;       /* > 0 overrides the spec's */
};

/* Runs the experiments of LAB (a lab name or its spec file) as a new run.
 * Fails when a round failed (after every round the spec allows ran). */
int experiment_run_lab(const char *lab_arg, const struct experiment_opts *o, int64_t *run_id,
		       struct xerr *e);

/* `xlab report`: per experiment, its rounds and min/median/p95/max of wall
 * time and downtime over the rounds that succeeded. Nothing when the run
 * has no rounds. */
int experiment_report_text(struct db *db, int64_t run_id, FILE *f, struct xerr *e);
/* Adds "experiments": [...] to o (an empty array when none). */
int experiment_report_json(struct db *db, int64_t run_id, struct json_object *o,
			   struct xerr *e);

#endif
