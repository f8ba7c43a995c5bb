/* What the store knows of a running lab, for commands that act on one
 * (ssh, list, console, test): its hosts and guests and where they are. */
#ifndef XLAB_LABSTATE_H
#define XLAB_LABSTATE_H

#include <stddef.h>

#include "db.h"
#include "err.h"
#include "lab.h"

struct labstate {
	char *lab;
	struct db *db;
	struct lab_dirs dirs;
	struct db_host *hosts;
	size_t n_hosts;
	struct db_guest *guests;
	size_t n_guests;
};

/* Fails with "no lab named X (labs: a, b)" when the store has no such lab. */
int labstate_load(const char *lab, struct labstate *ls, struct xerr *e);
void labstate_free(struct labstate *ls);
const struct db_host *labstate_host(const struct labstate *ls, const char *name);
const struct db_guest *labstate_guest(const struct labstate *ls, const char *name);
/* Error naming what exists, for a host or guest that doesn't. */
int labstate_no_such(const struct labstate *ls, const char *what, const char *name,
		     struct xerr *e);

#endif
