/* xlab's own hotplug scripts for the guests it makes: Xen's block and
 * vif-bridge are general (locks, sharing checks, iptables) and fork dozens
 * of processes, each ~0.1 s in an emulated PV dom0: 3 to 6 s of every
 * `xl create`. xlab's guests have one LV per disk and one vif on xenbr0, so
 * each needs a xenstore read, a stat or three interface ioctls, and a
 * write or three: the agent itself does it, run by libxl through a link
 * named block or vif (no shell, no xenstore-read, no ip: one static exec
 * where a shell script started four processes). bench/hotplug/ keeps the
 * same steps as shell scripts, for the recipe floor done by hand. */
#ifndef XLAB_AGENT_HOTPLUG_H
#define XLAB_AGENT_HOTPLUG_H

#include <stdbool.h>

#include "dom0paths.h"
#include "err.h"

/* Links both to this binary unless they are: before any `xl create`, and at
 * storage.init so that a host is ready to receive a migrating guest whose
 * config names them. */
int hotplug_scripts_ensure(struct xerr *e);
/* Whether argv[0] is one of those links, and what main runs then. */
bool hotplug_invoked(const char *argv0);
int hotplug_main(int argc, char **argv);

/* What the vif link does for libxl's argv and its $vif and $INTERFACE: 1
 * plug ifname into the bridge (a tap: no hotplug-status to write), 0
 * nothing (a removal), -1 the interface libxl should have named is not. */
struct vif_plan {
	const char *ifname;
	bool tap;
};
int hotplug_vif_plan(int argc, char **argv, const char *vif, const char *interface,
		     struct vif_plan *out);

#endif
