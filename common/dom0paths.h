/* Paths inside an xlab dom0 that both ends name: the agent makes them, the
 * controller's plan writes them into xl configs. */
#ifndef XLAB_DOM0PATHS_H
#define XLAB_DOM0PATHS_H

/* xlab's hotplug scripts (agents/hotplug.c). */
#define DOM0_HOTPLUG_DIR "/var/lib/xlab/hotplug"
#define DOM0_HOTPLUG_BLOCK DOM0_HOTPLUG_DIR "/block"
#define DOM0_HOTPLUG_VIF DOM0_HOTPLUG_DIR "/vif"

#endif
