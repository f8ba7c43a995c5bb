/* xlab's own hotplug scripts for the guests it makes: Xen's block and
 * vif-bridge are general (locks, sharing checks, iptables) and fork dozens
 * of processes, each ~0.1 s in an emulated PV dom0: 3 to 6 s of every
 * `xl create`. xlab's guests have one LV per disk and one vif on xenbr0, so
 * each script needs three commands. */
#ifndef XLAB_AGENT_HOTPLUG_H
#define XLAB_AGENT_HOTPLUG_H

#include "dom0paths.h"
#include "err.h"

/* Writes both scripts unless they are there as this agent has them: before
 * any `xl create`, and at storage.init so that a host is ready to receive a
 * migrating guest whose config names them. */
int hotplug_scripts_ensure(struct xerr *e);

#endif
