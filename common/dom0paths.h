/* Paths inside an xlab dom0 that both ends name: the agent makes them, the
 * controller's plan writes them into xl configs. */
#ifndef XLAB_DOM0PATHS_H
#define XLAB_DOM0PATHS_H

/* xlab's hotplug scripts (agents/hotplug.c). */
#define DOM0_HOTPLUG_DIR "/var/lib/xlab/hotplug"
#define DOM0_HOTPLUG_BLOCK DOM0_HOTPLUG_DIR "/block"
#define DOM0_HOTPLUG_VIF DOM0_HOTPLUG_DIR "/vif"

/* The guest kit (the image puts it there, the agent makes guests from it),
 * and the fstab of a guest's root filesystem. */
#define DOM0_GUEST_DIR "/var/lib/xlab/guest"
#define GUEST_FSTAB "/dev/xvda / ext4 defaults 0 1\n"
#define GUEST_FSTAB_SWAP "/dev/xvdb none swap sw 0 0\n"

/* The agent: an image carries the one of the xlab that built it, the
 * controller pushes its own when it has another. */
#define DOM0_AGENT_PATH "/var/lib/xlab-agent/xlab-agent"

/* There from sshd's start to the Xen daemons' (images/dom0-init.sh writes
 * it, agents/sys.c xen_daemons_wait waits for it to go). */
#define DOM0_XEN_STARTING "/run/xlab-xen-starting"

#endif
