/* A Linux bzImage's kernel ELF, unpacked (vmlinux.c says when and why). */
#ifndef XLAB_VMLINUX_H
#define XLAB_VMLINUX_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Whether the file at path starts as a Linux bzImage does (its HdrS magic). */
bool bzimage_file_is(const char *path);
/* Where the compressed payload lies in a bzImage of len bytes. */
int bzimage_payload(const unsigned char *img, size_t len, size_t *off, size_t *plen,
		    struct xerr *e);
/* Writes the ELF inside bzimage to out, atomically, as it unpacks: the
 * bzImage is read whole, the unpacked kernel never held in memory. */
int vmlinux_extract(const char *bzimage, const char *out, struct xerr *e);

#endif
