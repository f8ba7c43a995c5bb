/* Where a run spent its time, for `report --html`: its steps as a Gantt
 * chart in SVG. One row for the lab (steps of no host or guest: the image,
 * keys, the network), then one per host and guest in the order their first
 * step began; a bar per step from when it began for as long as it took,
 * coloured by how it ended (a step that never ended runs to the end); the
 * axis in seconds from the run's start, a dashed line where the run ended.
 * Pure: the store's rows in, a document out. */
#ifndef XLAB_TIMELINE_H
#define XLAB_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* The chart of steps v[0..n) of a run that took run_ms (-1: still running),
 * titled `title`; NULL when there is no step or the writer failed. */
char *timeline_svg(const struct db_step *v, size_t n, int64_t run_ms, const char *title);

#endif
