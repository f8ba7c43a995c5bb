#include "guest_agent.h"

#include <stdint.h>

#include "util.h"

int guest_agent_create(struct agent *ag, const struct plan_guest *pg, const char *vg,
		       struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	int rc;

	json_object_object_add(a, "name", json_object_new_string(pg->spec->name));
	json_object_object_add(a, "vg", json_object_new_string(vg));
	json_object_object_add(a, "size_bytes", json_object_new_int64((int64_t)pg->spec->disk));
	json_object_object_add(a, "rootfs", json_object_new_string(pg->spec->rootfs));
	json_object_object_add(a, "xl_cfg", json_object_new_string(pg->xl_cfg));
	if (pg->spec->swap)
		json_object_object_add(a, "swap_bytes",
				       json_object_new_int64((int64_t)pg->spec->swap));
	rc = agent_call(ag, "guest.create", a, &res, e);
	json_object_put(res);
	return rc;
}

int guest_agent_wait(struct agent *ag, const char *name, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	_cleanup_free_ char *marker = xasprintf("%s %s", GUEST_MARKER, name);
	int rc;

	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "text", json_object_new_string(marker));
	json_object_object_add(a, "timeout_s", json_object_new_int(GUEST_BOOT_TIMEOUT_S));
	rc = agent_call(ag, "guest.wait_console", a, &res, e);
	json_object_put(res);
	if (rc < 0)
		xerr_prefix(e, "guest '%s' did not print '%s' on its console", name, marker);
	return rc;
}
