/* libvirt domains, as xlab uses them: define, start, power-cycle, inspect,
 * remove, list a lab's, shut down cleanly; always checked to be this store's
 * lab's before anything is done to them. */
#include "virt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "connuri.h"
#include "util.h"
#include "virt_int.h"

/* ---- domains ---- */

/* The domain, or NULL with *missing set when there is none (not an error). */
static virDomainPtr domain_lookup(struct virt *v, const char *name, bool *missing,
				  struct xerr *e)
{
	virDomainPtr dom = virDomainLookupByName(v->conn, name);

	*missing = false;
	if (dom)
		return dom;
	if (virt_last_error_is(VIR_ERR_NO_DOMAIN))
		*missing = true;
	else
		virt_fail(e, "cannot look up domain '%s'", name);
	return NULL;
}

virDomainPtr domain_lookup_owned(struct virt *v, const char *name,
					const struct virt_owner *want, bool *missing,
					struct xerr *e)
{
	virDomainPtr dom = domain_lookup(v, name, missing, e);
	struct virt_owner have;

	if (dom && (domain_owner(dom, &have, e) < 0 ||
		    virt_owner_check("domain", name, &have, want, e) < 0)) {
		virDomainFree(dom);
		return NULL;
	}
	return dom;
}

int virt_domain_define(struct virt *v, const char *xml, char uuid[40], struct xerr *e)
{
	_cleanup_dom_ virDomainPtr dom = virDomainDefineXML(v->conn, xml);
	char buf[VIR_UUID_STRING_BUFLEN];

	if (!dom)
		return virt_fail(e, "cannot define domain");
	if (virDomainGetUUIDString(dom, buf) < 0)
		return virt_fail(e, "cannot read the UUID of domain '%s'", virDomainGetName(dom));
	snprintf(uuid, 40, "%s", buf);
	return 0;
}

int virt_domain_power_cycle(struct virt *v, const char *name, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);

	if (!dom)
		return missing ? xerr_set(e, XERR_FAIL, "no domain '%s' to restart", name) : -1;
	if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
		return virt_fail(e, "cannot stop domain '%s'", name);
	if (virDomainCreate(dom) < 0)
		return virt_fail(e, "cannot start domain '%s' again", name);
	return 0;
}

int virt_domain_start(struct virt *v, const char *name, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	int active;

	if (!dom)
		return missing ? xerr_set(e, XERR_FAIL, "no domain '%s' to start", name) : -1;
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (active)
		return 0;
	if (virDomainCreate(dom) < 0)
		return virt_fail(e, "cannot start domain '%s'", name);
	return 0;
}

/* The VNC port of a running domain's live XML; -1 when it has none. */
static int domain_vnc_port(virDomainPtr dom, char **listen)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	_cleanup_free_ char *port = NULL;
	char *end;
	long p;

	if (!xml)
		return -1;
	port = xml_xpath_string(xml, "string(/domain/devices/graphics[@type='vnc'][1]/@port)");
	if (!port)
		return -1;
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || end == port || *end || p <= 0 || p > 65535)
		return -1;
	if (listen) {
		*listen = xml_xpath_string(
			xml, "string(/domain/devices/graphics[@type='vnc'][1]/@listen)");
		if (*listen && !**listen) {
			free(*listen);
			*listen = NULL;
		}
	}
	return (int)p;
}

int virt_domain_info(struct virt *v, const char *name, struct virt_dom_info *info,
		     struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	virDomainInfo di;
	int active;

	memset(info, 0, sizeof(*info));
	info->vnc_port = -1;
	if (!dom)
		return missing ? 0 : -1;
	info->exists = true;
	if (domain_owner(dom, &info->owner, e) < 0)
		return -1;
	if (virDomainGetInfo(dom, &di) < 0)
		return virt_fail(e, "cannot read domain '%s'", name);
	if (virDomainGetUUIDString(dom, info->uuid) < 0)
		return virt_fail(e, "cannot read the UUID of domain '%s'", name);
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	/* Active (running, blocked or paused): starting it again would fail. */
	info->running = active == 1;
	info->memory_kib = di.maxMem;
	info->vcpus = di.nrVirtCpu;
	if (info->running)
		info->vnc_port = domain_vnc_port(dom, NULL);
	return 0;
}

int virt_domain_vnc(struct virt *v, const char *name, char **display, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	_cleanup_free_ char *listen = NULL;
	int active, port;

	if (!dom)
		return missing ? xerr_set(e, XERR_FAIL, "no domain '%s'", name) : -1;
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (!active)
		return xerr_set(e, XERR_FAIL, "domain '%s' is not running", name);
	port = domain_vnc_port(dom, &listen);
	if (port < 0)
		return xerr_set(e, XERR_FAIL, "domain '%s' has no VNC display", name);
	/* 0.0.0.0 or :: mean "every address": the local one reaches it too. */
	if (!listen || strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0) {
		free(listen);
		listen = xstrdup("127.0.0.1");
	}
	*display = xasprintf(strchr(listen, ':') ? "[%s]:%d" : "%s:%d", listen, port);
	return 0;
}

static int domain_destroy(virDomainPtr dom, const char *name, struct xerr *e)
{
	int active = virDomainIsActive(dom);

	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	/* OPERATION_INVALID: it stopped between the check and the call. */
	if (active && virDomainDestroy(dom) < 0 && !virt_last_error_is(VIR_ERR_OPERATION_INVALID))
		return virt_fail(e, "cannot stop domain '%s'", name);
	return 0;
}

/* Not every driver knows every undefine flag; try the fullest set first. */
static int domain_undefine(virDomainPtr dom, const char *name, struct xerr *e)
{
	static const unsigned int flag_sets[] = {
		VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
			VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA,
		VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
			VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
		0,
	};

	for (size_t i = 0; i < ARRAY_SIZE(flag_sets); i++) {
		int rc = flag_sets[i] ? virDomainUndefineFlags(dom, flag_sets[i])
				      : virDomainUndefine(dom);

		if (rc == 0 || virt_last_error_is(VIR_ERR_NO_DOMAIN))
			return 0;
		if (!virt_last_error_is(VIR_ERR_INVALID_ARG) &&
		    !virt_last_error_is(VIR_ERR_NO_SUPPORT) &&
		    !virt_last_error_is(VIR_ERR_ARGUMENT_UNSUPPORTED))
			break;
	}
	return virt_fail(e, "cannot undefine domain '%s'", name);
}

int virt_domain_remove(struct virt *v, const char *name, const struct virt_owner *want,
		       struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup_owned(v, name, want, &missing, e);
	int persistent;

	if (!dom)
		return missing ? 0 : -1;
	persistent = virDomainIsPersistent(dom);
	if (persistent < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (domain_destroy(dom, name, e) < 0)
		return -1;
	/* A transient domain is gone once destroyed. */
	return persistent ? domain_undefine(dom, name, e) : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int virt_lab_domains(struct virt *v, const struct virt_owner *want, char ***names,
		     struct xerr *e)
{
	virDomainPtr *doms = NULL;
	char **out = NULL;
	size_t cap = 0, n = 0;
	int count, rc = 0;

	count = virConnectListAllDomains(v->conn, &doms, 0);
	if (count < 0)
		return virt_fail(e, "cannot list domains");
	for (int i = 0; i < count; i++) {
		struct virt_owner owner = { 0 };

		if (rc == 0 && domain_owner(doms[i], &owner, e) < 0) {
			/* It vanished while we looked: it is no longer the lab's. */
			if (virt_last_error_is(VIR_ERR_NO_DOMAIN))
				xerr_clear(e);
			else
				rc = -1;
		}
		if (rc == 0 && !strcmp(owner.store, want->store) && !strcmp(owner.lab, want->lab)) {
			xgrow((void **)&out, &cap, n + 1, sizeof(*out));
			out[n++] = xstrdup(virDomainGetName(doms[i]));
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	xgrow((void **)&out, &cap, n, sizeof(*out));
	out[n] = NULL;
	qsort(out, n, sizeof(*out), name_cmp);
	if (rc < 0) {
		strv_free(out);
		return -1;
	}
	*names = out;
	return 0;
}

int virt_lab_stores(struct virt *v, const char *lab, char ***stores, struct xerr *e)
{
	virDomainPtr *doms = NULL;
	char **out = NULL;
	size_t cap = 0, n = 0;
	int count;

	count = virConnectListAllDomains(v->conn, &doms, 0);
	if (count < 0)
		return virt_fail(e, "cannot list domains");
	for (int i = 0; i < count; i++) {
		struct virt_owner owner = { 0 };
		struct xerr ignore = { 0 };
		bool seen = false;

		/* One that vanished or cannot be read is no one's lab. */
		if (domain_owner(doms[i], &owner, &ignore) == 0 && !strcmp(owner.lab, lab)) {
			for (size_t k = 0; k < n; k++)
				seen = seen || !strcmp(out[k], owner.store);
			if (!seen) {
				xgrow((void **)&out, &cap, n + 1, sizeof(*out));
				out[n++] = xstrdup(owner.store);
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	xgrow((void **)&out, &cap, n + 1, sizeof(*out));
	out[n] = NULL;
	qsort(out, n, sizeof(*out), name_cmp);
	*stores = out;
	return 0;
}

/* ---- stop / start ---- */

/* Polls until the domain is off or ms have passed: 1 off, 0 still on. */
static int domain_wait_off(virDomainPtr dom, const char *name, int64_t ms, struct xerr *e)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		int active = virDomainIsActive(dom);

		if (active < 0)
			return virt_fail(e, "cannot query domain '%s'", name);
		if (!active)
			return 1;
		if (now_ms() >= deadline)
			return 0;
		usleep(250 * 1000);
	}
}

int virt_domain_shutdown(struct virt *v, const char *name, const struct virt_owner *want,
			 int self_s, int acpi_s, bool *forced, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup_owned(v, name, want, &missing, e);
	int off;

	*forced = false;
	if (!dom)
		return missing ? 0 : -1;
	off = domain_wait_off(dom, name, (int64_t)self_s * 1000, e);
	if (off != 0)
		return off < 0 ? -1 : 0;
	/* A refusal (no ACPI in the guest, a driver without shutdown) is no
	 * error: the wait below ends in the destroy all the same. */
	if (virDomainShutdown(dom) < 0 && !virt_last_error_is(VIR_ERR_OPERATION_INVALID)) {
		struct xerr ignore = { 0 };

		virt_fail(&ignore, "cannot ask domain '%s' to shut down", name);
	}
	off = domain_wait_off(dom, name, (int64_t)acpi_s * 1000, e);
	if (off != 0)
		return off < 0 ? -1 : 0;
	*forced = true;
	return domain_destroy(dom, name, e);
}

