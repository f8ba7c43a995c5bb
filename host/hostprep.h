/* What a host needs on disk before libvirt can boot it: its overlay and data
 * disks, its config disk and its boot ISO. */
#ifndef XLAB_HOSTPREP_H
#define XLAB_HOSTPREP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct config_entry {
	const char *name; /* path inside the archive, e.g. "hostname" */
	const char *data;
	size_t len;
	int mode;
};

/* The config disk is a raw disk whose bytes are a tar archive: GRUB and the
 * dom0 init read it with no filesystem driver, and it needs no loop mount to
 * make. Written atomically, mode 0600 (it holds the host's private key). */
int config_disk_write(const char *path, const struct config_entry *entries, size_t n,
		      struct xerr *e);
/* qemu-img create -f qcow2 [-b BACKING -F qcow2] PATH [SIZE] */
int qcow2_create(const char *path, const char *backing, uint64_t size, struct xerr *e);
/* The disk size a qcow2 file describes, from its header. */
int qcow2_virtual_size(const char *path, unsigned long long *size, struct xerr *e);
/* Boot ISO from the image's boot/ files and the host's grub.cfg
 * (grub-mkrescue, a quarter of a second). */
int boot_iso_make(const char *iso_path, const char *image_dir, const char *grub_cfg,
		  struct xerr *e);

#endif
