/* The spec's tests: a command in a host's dom0 (exit 0 passes) or text that
 * must appear on a guest's console. Each result goes into the store. */
#ifndef XLAB_LABTEST_H
#define XLAB_LABTEST_H

#include "err.h"
#include "lab.h"
#include "plan.h"
#include "run.h"
#include "spec.h"

/* Runs every test; returns -1 (e says how many failed) when any failed. */
int labtest_run_all(const struct spec *s, const struct plan *p, const struct lab_dirs *d,
		    struct run *r, struct xerr *e);

#endif
