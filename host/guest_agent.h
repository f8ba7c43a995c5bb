/* What the controller asks the agent for one guest of the plan, shared by
 * `up` (spec guests) and `xlab guest` (guests made by hand). */
#ifndef XLAB_GUEST_AGENT_H
#define XLAB_GUEST_AGENT_H

#include "agent_ops.h"
#include "lab.h"
#include "plan.h"

/* What a guest's console prints when its init is up: "XLAB-GUEST-UP NAME". */
#define GUEST_MARKER "XLAB-GUEST-UP"
#define GUEST_BOOT_TIMEOUT_S 300
/* An HVM guest under TCG: firmware, a device model in an emulated dom0 and
 * port I/O through it took up to 300 s to reach init here with both hosts
 * of a lab busy. A PVH guest (shadow paging, every world switch emulated)
 * got no further than its root mount in 300 s on a busy one-vCPU host in a
 * CI run: both wait this long. */
#define GUEST_HVM_BOOT_TIMEOUT_S 900

/* guest.create of pg on volume group vg: LV, root filesystem, xl config,
 * domain. A guest with an SSH server gets a host key made by the agent: it
 * is pinned in the lab's directory (guest_host_key_path) for `xlab ssh`. */
int guest_agent_create(struct agent *ag, const struct plan_guest *pg, const char *vg,
		       const struct lab_dirs *d, struct xerr *e);
/* xlab_home()/labs/LAB/guests/NAME/ssh_host_ed25519_key.pub */
char *guest_host_key_path(const struct lab_dirs *d, const char *name);
/* Forgets a removed guest's key and its directory. */
int guest_host_key_forget(const struct lab_dirs *d, const char *name, struct xerr *e);
/* guest.wait_console until the guest's marker, as long as a guest of its
 * type may take; the error names the marker. */
int guest_agent_wait(struct agent *ag, const char *name, enum spec_guest_type type,
		     struct xerr *e);

#endif
