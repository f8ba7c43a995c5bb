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

#endif
