/* A Linux bzImage's kernel ELF, unpacked (vmlinux.c says when and why). */
#ifndef XLAB_VMLINUX_H
#define XLAB_VMLINUX_H

#include <stddef.h>

#include "err.h"

/* Where the compressed payload lies in a bzImage of len bytes. */
int bzimage_payload(const unsigned char *img, size_t len, size_t *off, size_t *plen,
		    struct xerr *e);
/* Writes the ELF inside bzimage to out, atomically, as it unpacks: a
 * kernel is never held in memory whole. */
int vmlinux_extract(const char *bzimage, const char *out, struct xerr *e);

#endif
