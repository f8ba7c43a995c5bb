/* Built tools into a dom0 tree: Debian's Xen packages purged (dpkg knows
 * they are gone), the installed tree unpacked, the names xlab-init looks
 * for made, and every library the daemons and xl need checked to resolve
 * inside the tree. */
#ifndef XLAB_TOOLSMERGE_H
#define XLAB_TOOLSMERGE_H

#include "err.h"

/* Binaries of the dom0 that must load with the new tools (checked). */
extern const char *const tools_checked[];

/* Merges dist_tar (Xen mm's tools) into tree; *purged the Debian packages
 * it removed (NULL-terminated, strv_free). */
int tools_merge(const char *tree, const char *dist_tar, const char *mm, int log_fd,
		char ***purged, struct xerr *e);

#endif
