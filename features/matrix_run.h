/* xlab matrix: one copy of a lab per Xen version, brought up through the
 * same code as `xlab up`, tested, taken down, all tied by one matrix id. */
#ifndef XLAB_MATRIX_RUN_H
#define XLAB_MATRIX_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct matrix_opts {
	const char *xen;      /* --xen 4.17,4.20, or NULL: the spec's matrix.xen */
	const char *images;   /* --image xen-4.20,mine: cells by stored image instead */
	const char *types;    /* --types pv,pvh,hvm: each version once per guest type */
	int jobs;             /* --jobs, 0: what fits */
	bool keep;            /* leave the copies up */
	bool json;
	const char *junit;    /* --junit FILE or NULL */
	const char *connect;  /* --connect URI or NULL */
	const char *accel;
	int boot_timeout_s;
	/* --servers a,b: cells spread over these servers, each running as
	 * many at once as its memory left holds (labs/placement.h). */
	const char *servers;
};

/* Returns 0 only when every cell passed; otherwise -1 with e naming the
 * matrix id (the table and files are written either way). */
int matrix_run(const char *spec_path, const struct matrix_opts *o, struct xerr *e);

/* Output of a stored matrix: the table (or JSON) and optionally JUnit. */
int matrix_report(int64_t id, const char *junit, bool json, struct xerr *e);
/* What changed between two stored matrices; -1 when there are new failures. */
int matrix_compare(int64_t a, int64_t b, bool json, struct xerr *e);

#endif
