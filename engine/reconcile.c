#include "reconcile.h"

#include <inttypes.h>
#include <string.h>

#include "nodestate.h"
#include "sha256.h"
#include "spec.h"
#include "util.h"

void host_definition_hash(const struct plan_host *ph, const struct host_inputs *in,
			  char out[65])
{
	const struct spec_host *h = ph->spec;
	struct buf b = { 0 };

	buf_printf(&b, "name=%s mem=%" PRIu64 " dom0=%" PRIu64 " vcpus=%d data=%" PRIu64
		       " mac=%s ip=%s image=%s/%s accel=%s",
		   h->name, h->memory, h->dom0_mem, h->vcpus, h->data_disk, ph->mac, ph->ip,
		   in->image, in->image_manifest, in->accel);
	for (size_t i = 0; i < h->n_disks; i++)
		buf_printf(&b, " disk=%" PRIu64, h->disks[i]);
	if (in->shared_size)
		buf_printf(&b, " shared=%" PRIu64, in->shared_size);
	/* Only when given: the hosts of labs from before it keep their hash. */
	if (h->xen_args)
		buf_printf(&b, " xen_args=%s", h->xen_args);
	if (h->dom0_vcpus)
		buf_printf(&b, " dom0_vcpus=%d", h->dom0_vcpus);
	sha256_hex(b.data, b.len, out);
	buf_free(&b);
}

enum host_action host_action_decide(bool exists, const char *recorded, const char *want,
				    bool recreate)
{
	if (!exists)
		return HOST_DEFINE;
	/* A domain the store has no record of is this lab's (its owner was
	 * checked): an earlier up stopped between define and record. */
	if (!recorded || strcmp(recorded, want) == 0)
		return HOST_KEEP;
	return recreate ? HOST_REBUILD : HOST_REFUSE;
}

const char *host_recorded_hash(const struct db_host *rows, size_t n, const char *name)
{
	const char *hash = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0 && rows[i].definition_sha256 &&
		    node_state_parse(rows[i].state) != NODE_REMOVED)
			hash = rows[i].definition_sha256;
	return hash;
}

static bool host_row_matches(const struct db_host *hosts, size_t nh, const char *name,
			     const char *want)
{
	for (size_t j = 0; j < nh; j++)
		if (strcmp(hosts[j].name, name) == 0 && node_state_parse(hosts[j].state) == NODE_UP &&
		    hosts[j].definition_sha256 &&
		    strcmp(hosts[j].definition_sha256, want) == 0)
			return true;
	return false;
}

static bool guest_row_up(const struct db_guest *guests, size_t ng, const char *name)
{
	for (size_t j = 0; j < ng; j++)
		if (strcmp(guests[j].name, name) == 0 && node_state_parse(guests[j].state) == NODE_UP)
			return true;
	return false;
}

bool lab_matches_plan(const struct plan *plan, const char (*want)[65], const bool *running,
		      const struct db_host *hosts, size_t nh, const struct db_guest *guests,
		      size_t ng, bool hosts_only)
{
	for (size_t i = 0; i < plan->n_hosts; i++)
		if (!running[i] || !host_row_matches(hosts, nh, plan->hosts[i].spec->name, want[i]))
			return false;
	if (hosts_only)
		return true;
	for (size_t i = 0; i < plan->n_guests; i++)
		if (!guest_row_up(guests, ng, plan->guests[i].spec->name))
			return false;
	return true;
}
