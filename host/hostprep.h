/* What a host needs on disk before libvirt can boot it: its overlay and data
 * disks, its config disk and its boot files (Xen and the dom0 kernel, or a
 * boot ISO). */
#ifndef XLAB_HOSTPREP_H
#define XLAB_HOSTPREP_H

#include <stdbool.h>
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
/* The files QEMU loads directly: xen_path, the image's boot/xen.gz
 * unpacked (its multiboot loader reads an ELF, not a gzip of one; a plain
 * ELF there is taken as it is), and kernel_path, the kernel ELF inside its
 * boot/vmlinuz when unpack_kernel, or a copy of it (also of one that is no
 * bzImage; libvirt may relabel what a domain boots: never the image's own
 * file). Each written atomically. */
int boot_files_make(const char *xen_path, const char *kernel_path, bool unpack_kernel,
		    const char *image_dir, struct xerr *e);

#endif
