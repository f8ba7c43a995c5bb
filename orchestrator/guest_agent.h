/* What the controller asks the agent for one guest of the plan, shared by
 * `up` (spec guests) and `xlab guest` (guests made by hand). */
#ifndef XLAB_GUEST_AGENT_H
#define XLAB_GUEST_AGENT_H

#include "agent_client.h"
#include "plan.h"

/* What a guest's console prints when its init is up: "XLAB-GUEST-UP NAME". */
#define GUEST_MARKER "XLAB-GUEST-UP"
#define GUEST_BOOT_TIMEOUT_S 300

/* guest.create of pg on volume group vg: LV, root filesystem, xl config, domain. */
int guest_agent_create(struct agent *ag, const struct plan_guest *pg, const char *vg,
		       struct xerr *e);
/* guest.wait_console until the guest's marker; the error names the marker. */
int guest_agent_wait(struct agent *ag, const char *name, struct xerr *e);

#endif
