/* Where the copies of a class, or the hosts of a lab, go among servers: by
 * the memory each has left, figures in, choices out. Measuring is
 * engine/servers.c's; this is the pure decision, and the refusal with the
 * figures when the servers together cannot hold what is asked. */
#ifndef XLAB_PLACEMENT_H
#define XLAB_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct place_server {
	const char *name;
	uint64_t mem_free, disk_free; /* measured: what new guests may take */
	uint64_t mem_used, disk_used; /* out: what was placed there */
	int placed;                   /* out: how many */
};

/* Each of n copies (mem and disk each) to the server with the most memory
 * left, in the servers' order on a tie: copies spread evenly over equal
 * servers. -1 (XERR_FAIL) with every server's figures when a copy fits
 * nowhere, unless overcommit (then the most-left server takes it anyway).
 * where[i] is copy i's server. */
int place_copies(struct place_server *s, size_t ns, size_t n, uint64_t mem, uint64_t disk,
		 bool overcommit, size_t *where, struct xerr *e);

/* A lab's n hosts (names[i], mem[i] each): all on the one server with the most memory
 * left when they fit there together (one lab network on one bridge, no
 * VXLAN); else each, largest first, to the server with the most left.
 * -1 with the figures when they do not fit. */
int place_hosts(struct place_server *s, size_t ns, const char *const *names, const uint64_t *mem,
		size_t n, size_t *where, struct xerr *e);

#endif
