/* What `up` decides before it touches anything, as pure functions of the
 * spec's plan, the store's rows and what libvirt reports: the identity of a
 * host's definition, what to do with a host that exists, and whether the
 * whole lab already is what the spec says. */
#ifndef XLAB_RECONCILE_H
#define XLAB_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "plan.h"

/* Everything a host is made from besides its plan: its image and how it runs. */
struct host_inputs {
	const char *image;           /* "xen-4.17" */
	const char *image_manifest;  /* the image's manifest sha256 */
	const char *accel;           /* "kvm" or "qemu" */
	uint64_t shared_size;        /* the lab's shared disk, 0 when none */
};

/* sha256 over what a host is made from (name, memory, dom0 memory, vCPUs,
 * disks, MAC, address, image and its manifest, accelerator, shared disk):
 * when it changes, the host must be rebuilt. */
void host_definition_hash(const struct plan_host *ph, const struct host_inputs *in,
			  char out[65]);

enum host_action {
	HOST_DEFINE,  /* no domain: make its files and define it */
	HOST_KEEP,    /* the domain is the spec's: start it if it is off */
	HOST_REBUILD, /* changed, and --recreate: remove it, then define */
	HOST_REFUSE,  /* changed, without --recreate: rebuilding would lose its disks */
};
/* exists: libvirt has the domain (already checked to be this lab's);
 * recorded: the hash the store holds for it (NULL: no record, or one `down`
 * removed, which is no evidence). */
enum host_action host_action_decide(bool exists, const char *recorded, const char *want,
				    bool recreate);

/* The store's record of the host named `name` that still exists: its
 * definition hash (NULL when none). */
const char *host_recorded_hash(const struct db_host *rows, size_t n, const char *name);

/* Whether the lab already is what the plan says: every host up in the store
 * with this definition (want[i] for plan host i) and running (running[i]),
 * and, unless hosts_only, every spec guest up in the store. */
bool lab_matches_plan(const struct plan *plan, const char (*want)[65], const bool *running,
		      const struct db_host *hosts, size_t nh, const struct db_guest *guests,
		      size_t ng, bool hosts_only);

#endif
