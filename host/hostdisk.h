/* Disks hot-plugged into a running lab host (`xlab storage add-disk`):
 * found by their virtio serial, never by order, like the disks of `up`. */
#ifndef XLAB_HOSTDISK_H
#define XLAB_HOSTDISK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "virt.h"

#define HOSTDISK_SERIAL_PREFIX "xlab-extra"

/* What a domain's XML says about its disks. */
struct hostdisk_layout {
	char next_dev[8];     /* the first vdX no disk uses */
	int next_extra;       /* N of the next free xlab-extraN */
};

/* From a domain's XML (pure; errors code 1). */
int hostdisk_layout(const char *domain_xml, struct hostdisk_layout *l, struct xerr *e);
/* The <disk> of a qcow2 file as a virtio disk with that serial. */
char *hostdisk_xml(const char *path, const char *dev, const char *serial);
/* The <disk> element (as XML text) and file of the disk with that serial;
 * code 2 when the domain has none. */
int hostdisk_find(const char *domain_xml, const char *serial, char **disk_xml, char **path,
		  struct xerr *e);

/* Live and in the persistent definition, so a restart keeps the change. */
int hostdisk_attach(struct virt *v, const char *domain, const char *disk_xml, struct xerr *e);
int hostdisk_detach(struct virt *v, const char *domain, const char *disk_xml, struct xerr *e);
/* The domain's live XML. */
int hostdisk_domain_xml(struct virt *v, const char *domain, char **xml, struct xerr *e);

#endif
