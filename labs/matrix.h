/* A Xen-version matrix, the pure part: which versions, the name and subnet of
 * each version's copy of the lab, the copy itself, and how many copies fit
 * on this machine at once. No libvirt, no ssh, no store. */
#ifndef XLAB_MATRIX_H
#define XLAB_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

/* "4.17,4.20" -> {"4.17", "4.20", NULL}; each a version like `xen:` takes,
 * none twice. */
int matrix_versions_parse(const char *csv, char ***out, struct xerr *e);
/* "xen-4.20,mine" (--image): image names, each once. */
int matrix_images_parse(const char *csv, char ***out, struct xerr *e);

/* "pv,pvh" (--types): guest types, each once. */
int matrix_types_parse(const char *csv, char ***out, struct xerr *e);

/* The copy's lab name: LAB-x4-17 for Xen 4.17 or image xen-4.17,
 * LAB-x4-20-shadow for image xen-4.20-shadow, LAB-NAME for another image
 * (dots become '-'), and -TYPE after it with a guest type (LAB-x4-17-pvh);
 * refused when it would not be a DNS label. */
int matrix_lab_name(const char *lab, const char *xen, const char *type,
		    char out[SPEC_NAME_MAX + 1], struct xerr *e);

/* A /24 for one copy, never one of `used` (any prefix). When the spec's own
 * subnet is a /23 or larger, copies take its /24s in order, so labs stay
 * inside the range their owner gave them; otherwise (no subnet or a small
 * one) they take the pool's (subnet_allocate, by the copy's name). */
int matrix_subnet_pick(const struct spec *base, const char *copy_lab, char *const *used,
		       size_t n_used, char out[20], struct xerr *e);

/* The copy of `base` for one cell (xen names it; image, when not NULL, is
 * the image the cell boots instead of xen's; type, when not NULL, is every
 * guest's type): the same spec bytes parsed
 * again (so every field, present or added later, is copied), then lab,
 * xen or image, and subnet replaced and explicit host/guest addresses moved into the new subnet at
 * the same offset. Fails when the bytes are not the spec `base` came from. */
int matrix_spec_copy(const struct spec *base, const char *data, size_t len, const char *xen,
		     const char *type, const char *image, const char *subnet, struct spec **out,
		     struct xerr *e);

/* How many copies run at once: each needs the sum of its hosts' memory and
 * vCPUs; cores are shared by at most a factor of 1 under TCG. At least 1,
 * at most n. `why` says what limited it. */
int matrix_jobs_fit(uint64_t mem_available, int ncpu, const struct spec *s, size_t n,
		    char *why, size_t whysz);

#endif
