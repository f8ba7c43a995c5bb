/* One xl.cfg `disk` or `vif` list item (xl-disk-configuration(5),
 * xl-network-configuration(5)) read into the few fields xlab guests use;
 * anything beyond them is an error, not ignored. Pure. */
#ifndef XLAB_XLDEV_H
#define XLAB_XLDEV_H

#include "err.h"

struct xl_disk {
	char *target; /* a block device, "/dev/..." ("phy:" taken off) */
	char *vdev;   /* as given, e.g. "xvda" */
};

/* "phy:/dev/VG/LV,xvda,w" or "format=raw, vdev=xvda, access=rw,
 * target=/dev/VG/LV". Refused (code 2, the reason only): a file or image
 * target, a format other than raw, read-only access, a cdrom, options
 * xlab does not make (script=, backend=, ...). */
int xl_disk_parse(const char *spec, struct xl_disk *d, struct xerr *e);
void xl_disk_free(struct xl_disk *d);

struct xl_vif {
	char *mac, *bridge, *ip; /* NULL when not given */
};

/* "mac=00:16:3e:..,bridge=xenbr0,ip=10.80.0.60": type=vif is allowed too;
 * any other option is refused (code 2, the reason only). */
int xl_vif_parse(const char *spec, struct xl_vif *v, struct xerr *e);
void xl_vif_free(struct xl_vif *v);

#endif
