/* The numbers of a migration experiment, computed from what was recorded:
 * the downtime a probe saw (from its reply timestamps) and the distribution
 * of many rounds. Pure code: no clock, no sockets. */
#ifndef XLAB_MIGSTAT_H
#define XLAB_MIGSTAT_H

#include <stddef.h>
#include <stdint.h>

/* The longest stretch of [start, end] without a reply: between two replies,
 * from start to the first one, or from the last one to end (a guest that
 * never answered again was down until the probe gave up). `t` holds reply
 * times in any order and unit; those outside [start, end] are ignored. */
int64_t migstat_max_gap(const int64_t *t, size_t n, int64_t start, int64_t end);

struct migstat {
	size_t n;
	double min, median, p95, max;
};

/* min, median (mean of the middle two for even n), p95 (nearest rank) and
 * max of v; all zero when n == 0. v is not changed. */
void migstat_compute(const double *v, size_t n, struct migstat *out);

#endif
