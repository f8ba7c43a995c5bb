/* An image's dom0 root disk as a tree to change, and back, without loop
 * mounts (as image builds are): qemu-img to raw, debugfs's rdump out (and
 * the device nodes it skips made again), mkfs.ext4 -d in. */
#ifndef XLAB_DOM0TREE_H
#define XLAB_DOM0TREE_H

#include "err.h"

/* root.qcow2 (ext4 on the whole disk) unpacked into tree (made), using
 * work for the raw disk; commands logged to log_fd. */
int dom0tree_unpack(const char *qcow2, const char *work, const char *tree, int log_fd,
		    struct xerr *e);
/* tree packed as an ext4 of size (e.g. "4G", labelled xlab-root as image
 * builds make it) into out_qcow2. */
int dom0tree_pack(const char *tree, const char *work, const char *size, const char *out_qcow2,
		  int log_fd, struct xerr *e);

#endif
