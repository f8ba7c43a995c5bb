/* A running lab as commands that work inside it by hand see it (`xlab guest`,
 * `xlab storage`): the store's hosts and guests, the spec it was brought up
 * from, and a plan of the spec plus the guests made by hand. */
#ifndef XLAB_LABVIEW_H
#define XLAB_LABVIEW_H

#include <stdbool.h>

#include "agent_client.h"
#include "err.h"
#include "labstate.h"
#include "plan.h"
#include "spec.h"
#include "sshc.h"

#define LABVIEW_MADE_BY_HAND "hand"

struct labview {
	struct labstate ls;
	struct spec *spec;  /* the lab's spec file, with the hand-made guests appended */
	struct plan *plan;  /* of spec (labview_plan); the new guest (if any) is the last */
	char *subnet;
};

/* Loads the lab from the store and its spec file (no plan yet). */
int labview_load(const char *lab, struct labview *v, struct xerr *e);
/* Plans the spec plus the hand-made guests; `extra` (or NULL) is a guest
 * about to be made by hand, planned last around every address in use. */
int labview_plan(struct labview *v, const struct spec_guest *extra, struct xerr *e);
void labview_free(struct labview *v);
bool labview_is_hand(const struct db_guest *g);
/* SSH to one host of the lab and its agent. */
int labview_agent(const struct labview *v, const char *host, struct sshc **c, struct agent **ag,
		  struct xerr *e);

#endif
