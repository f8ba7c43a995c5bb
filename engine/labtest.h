/* The spec's tests: a command in a host's dom0 (exit 0 passes), text that
 * must appear on a guest's console, one of osstest's guest checks (an
 * action on a guest) or host checks (an action on a host: leak-check,
 * xen-dmesg-clean; these run after every other test). Each result goes
 * into the store. */
#ifndef XLAB_LABTEST_H
#define XLAB_LABTEST_H

#include "db.h"
#include "err.h"
#include "lab.h"
#include "plan.h"
#include "run.h"
#include "spec.h"

/* What a lab accounts for on one host, which its leak-check tells the
 * agent (NULL-terminated lists): the guests the store has there (made by
 * the spec or by hand, running or not), the VGs to look in (the lab's and
 * the shared one), and the guests' root and swap LVs in them as VG/NAME:
 * this host's guests' in the lab's VG, every shared guest's in the shared
 * VG, which every host sees. */
struct labtest_accounted {
	char **domains, **vgs, **lvs;
};
void labtest_accounted_for(const struct spec *s, const struct db_guest *guests, size_t n,
			   const char *host, struct labtest_accounted *a);
void labtest_accounted_free(struct labtest_accounted *a);

/* Runs every test; returns -1 (e says how many failed) when any failed. */
int labtest_run_all(const struct spec *s, const struct plan *p, const struct lab_dirs *d,
		    struct run *r, struct xerr *e);

#endif
