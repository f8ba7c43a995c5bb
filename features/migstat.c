#include "migstat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int64_t migstat_max_gap(const int64_t *t, size_t n, int64_t start, int64_t end)
{
	int64_t *v, prev = start, gap = 0;
	size_t k = 0;

	if (end <= start)
		return 0;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		if (t[i] >= start && t[i] <= end)
			v[k++] = t[i];
	qsort(v, k, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < k; i++) {
		if (v[i] - prev > gap)
			gap = v[i] - prev;
		prev = v[i];
	}
	if (end - prev > gap)
		gap = end - prev;
	free(v);
	return gap;
}

void migstat_compute(const double *v, size_t n, struct migstat *out)
{
	double *s;
	size_t rank;

	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	s = malloc(n * sizeof(*s));
	if (!s)
		abort();
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_dbl);
	out->n = n;
	out->min = s[0];
	out->max = s[n - 1];
	out->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
	/* Nearest rank: the smallest value with at least 95% at or below it. */
	rank = (size_t)ceil(0.95 * (double)n);
	out->p95 = s[(rank ? rank : 1) - 1];
	free(s);
}
