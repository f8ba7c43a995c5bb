/* What a libvirt server can hold, as its daemon reports it: CPUs and memory
 * of the node, free memory, the free space of a storage pool, and the
 * versions of libvirt and of the hypervisor behind it. Every figure comes
 * over the connection, so a remote server is measured where it runs. */
#include "virt.h"

#include <stdlib.h>
#include <string.h>

#include "virt_int.h"

/* The first of pools that the server has and that is running. */
static void node_pool(struct virt *v, const char *const *pools, struct virt_capacity *c)
{
	for (const char *const *p = pools; p && *p; p++) {
		virStoragePoolPtr pool = virStoragePoolLookupByName(v->conn, *p);
		virStoragePoolInfo info;
		int ok;

		if (!pool)
			continue;
		ok = virStoragePoolGetInfo(pool, &info) == 0 && info.state == VIR_STORAGE_POOL_RUNNING;
		virStoragePoolFree(pool);
		if (ok) {
			c->pool = xstrdup(*p);
			c->pool_capacity = info.capacity;
			c->pool_available = info.available;
			return;
		}
	}
}

/* free + buffers + cached of the node (KiB in libvirt's stats): what it
 * can give a new guest without swapping, as MemAvailable roughly says.
 * The free figure alone when the driver has no stats (the test driver). */
static unsigned long long node_available(virConnectPtr conn, unsigned long long free_mem)
{
	int n = 0;
	virNodeMemoryStatsPtr st = NULL;
	unsigned long long sum = 0;

	if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) < 0 ||
	    n <= 0)
		return free_mem;
	st = xcalloc((size_t)n, sizeof(*st));
	if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, st, &n, 0) < 0)
		n = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(st[i].field, VIR_NODE_MEMORY_STATS_FREE) ||
		    !strcmp(st[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) ||
		    !strcmp(st[i].field, VIR_NODE_MEMORY_STATS_CACHED))
			sum += st[i].value * 1024;
	free(st);
	return sum > free_mem ? sum : free_mem;
}

int virt_node_capacity(struct virt *v, const char *const *pools, struct virt_capacity *c,
		       struct xerr *e)
{
	virNodeInfo info;
	unsigned long long free_mem;
	unsigned long ver = 0;
	const char *type;
	char *host;

	memset(c, 0, sizeof(*c));
	if (virNodeGetInfo(v->conn, &info) < 0)
		return virt_fail(e, "cannot read the node's CPUs and memory");
	c->cpus = info.cpus;
	c->memory_bytes = (unsigned long long)info.memory * 1024;
	/* 0 is also libvirt's error value: a node with no free byte is an error too. */
	free_mem = virNodeGetFreeMemory(v->conn);
	if (free_mem == 0)
		return virt_fail(e, "cannot read the node's free memory");
	c->free_memory_bytes = free_mem;
	c->available_memory_bytes = node_available(v->conn, free_mem);
	if (virConnectGetLibVersion(v->conn, &ver) == 0)
		c->libvirt_version = ver;
	type = virConnectGetType(v->conn);
	c->hv_type = xstrdup(type ? type : "");
	ver = 0;
	if (virConnectGetVersion(v->conn, &ver) == 0)
		c->hv_version = ver;
	host = virConnectGetHostname(v->conn);
	c->hostname = xstrdup(host ? host : "");
	free(host);
	node_pool(v, pools, c);
	virResetLastError();
	return 0;
}

void virt_capacity_free(struct virt_capacity *c)
{
	free(c->hostname);
	free(c->hv_type);
	free(c->pool);
	memset(c, 0, sizeof(*c));
}

void virt_version_format(unsigned long v, char out[32])
{
	if (v == 0)
		snprintf(out, 32, "?");
	else
		snprintf(out, 32, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}
