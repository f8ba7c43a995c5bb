/* One lab network across servers: on each server the lab's bridge (libvirt's
 * network, the gateway address on the lab's own server only) gets a Linux
 * VXLAN device with the lab's VNI that sends to every other server (an
 * all-zero forwarding entry per peer: head-end replication, no multicast
 * on the LAN), so the bridges are one L2 network and nothing of the lab
 * subnet is routed onto the servers' LAN (docs/servers.md). */
#ifndef XLAB_LABNET_H
#define XLAB_LABNET_H

#include <netdb.h>

#include "err.h"
#include "lab.h"
#include "plan.h"

/* The lab's names on every server: plan.h's bridge, vxlan and vni. */
struct labnet_names {
	char bridge[16], vxlan[16];
	unsigned vni;
};
void labnet_names_of(const char *store_id, const char *lab, struct labnet_names *n);

struct labnet_site {
	const char *name;          /* "local" or the server's */
	const struct lab_via *via; /* its sshd; NULL for this machine */
	char addr[NI_MAXHOST];     /* where the others send to: labnet_addresses() */
};

/* Each site's address: a server's is its URI's host resolved here; this
 * machine's the one it leaves from towards the first other server. */
int labnet_addresses(struct labnet_site *s, size_t n, struct xerr *e);
/* On site self: the lab's VXLAN device, made again (a peer's address may
 * have changed), in the lab's bridge, sending to every other site. */
int labnet_join(const struct labnet_names *ln, const struct labnet_site *s, size_t n,
		size_t self, struct xerr *e);
/* For a command after `up` (start, revert): every server of a lab across
 * servers joined again, as the lab's records name them and the store says
 * how each is reached. Nothing for a lab on one server. */
int labnet_rejoin(const struct lab_dirs *d, const struct labnet_names *ln, struct xerr *e);
/* Removes the VXLAN device named vxlan from the site; absent is done. */
int labnet_leave(const char *vxlan, const struct labnet_site *site, struct xerr *e);

#endif
