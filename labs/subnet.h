/* Lab subnets: parse, overlap, and pick one for a lab whose spec has none. */
#ifndef XLAB_SUBNET_H
#define XLAB_SUBNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cidr {
	uint32_t addr; /* host byte order, host bits zero */
	int prefix;
};

/* "10.80.0.0/24" -> cidr; host bits must be zero. */
int cidr_parse(const char *s, struct cidr *out, struct xerr *e);
void cidr_format(const struct cidr *c, char *out, size_t outsz);
bool cidr_overlap(const struct cidr *a, const struct cidr *b);
/* The special-purpose range (RFC 6890) a lab network would overlap: "this
 * network" 0/8, loopback 127/8, link-local 169.254/16, multicast 224/4,
 * reserved 240/4; NULL for an ordinary one. */
const char *cidr_reserved(const struct cidr *c);

/* The pool labs draw from when their spec names no subnet: /24s of
 * 10.90.0.0/16. The first choice depends on the lab name only, so a lab gets
 * the same subnet every time while it is free; taken ones (`used`, any
 * prefix) are skipped. */
#define SUBNET_POOL "10.90.0.0/16"
int subnet_allocate(const char *lab, char *const *used, size_t n_used, char out[20],
		    struct xerr *e);

#endif
