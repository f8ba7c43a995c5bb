#include "guest_agent.h"

#include <stdint.h>
#include <string.h>

#include "names.h"
#include "util.h"

char *guest_host_key_path(const struct lab_dirs *d, const char *name)
{
	_cleanup_free_ char *dir = names_guest_dir(d->dir, name);

	return xasprintf("%s/ssh_host_ed25519_key.pub", dir);
}

int guest_host_key_forget(const struct lab_dirs *d, const char *name, struct xerr *e)
{
	_cleanup_free_ char *dir = names_guest_dir(d->dir, name);

	return rm_rf(dir, e);
}

/* A guest whose filesystem was kept (re-up) keeps its key: nothing comes. */
static int host_key_keep(const struct lab_dirs *d, const char *name, struct json_object *res,
			 struct xerr *e)
{
	_cleanup_free_ char *path = guest_host_key_path(d, name);
	_cleanup_free_ char *dir = xstrdup(path);
	struct json_object *v;
	const char *key;

	if (!json_object_object_get_ex(res, "ssh_host_key", &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	key = json_object_get_string(v);
	if (strncmp(key, "ssh-ed25519 ", 12) != 0 || strchr(key, '\n') != strrchr(key, '\n'))
		return xerr_set(e, XERR_FAIL, "guest '%s': the agent sent no ed25519 host key",
				name);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	return file_write_atomic(path, key, strlen(key), 0644, e);
}

int guest_agent_create(struct agent *ag, const struct plan_guest *pg, const char *vg,
		       const struct lab_dirs *d, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	int rc;

	json_object_object_add(a, AGENT_ARG_NAME, json_object_new_string(pg->spec->name));
	json_object_object_add(a, AGENT_ARG_VG, json_object_new_string(vg));
	json_object_object_add(a, AGENT_ARG_SIZE_BYTES, json_object_new_int64((int64_t)pg->spec->disk));
	json_object_object_add(a, AGENT_ARG_ROOTFS, json_object_new_string(pg->spec->rootfs));
	json_object_object_add(a, AGENT_ARG_XL_CFG, json_object_new_string(pg->xl_cfg));
	if (pg->spec->type != SPEC_GUEST_PV)
		json_object_object_add(a, AGENT_ARG_TYPE,
				       json_object_new_string(spec_guest_type_name(pg->spec->type)));
	if (pg->prefer_shadow)
		json_object_object_add(a, AGENT_ARG_PREFER_SHADOW, json_object_new_boolean(true));
	if (pg->spec->swap)
		json_object_object_add(a, AGENT_ARG_SWAP_BYTES,
				       json_object_new_int64((int64_t)pg->spec->swap));
	rc = agent_call(ag, AGENT_OP_GUEST_CREATE, a, &res, e);
	if (rc == 0)
		rc = host_key_keep(d, pg->spec->name, res, e);
	json_object_put(res);
	return rc;
}

int guest_agent_wait(struct agent *ag, const char *name, enum spec_guest_type type,
		     struct xerr *e)
{
	int timeout_s = type == SPEC_GUEST_HVM ? GUEST_HVM_BOOT_TIMEOUT_S : GUEST_BOOT_TIMEOUT_S;
	struct json_object *a = json_object_new_object(), *res = NULL;
	_cleanup_free_ char *marker = xasprintf("%s %s", GUEST_MARKER, name);
	int rc;

	json_object_object_add(a, AGENT_ARG_NAME, json_object_new_string(name));
	json_object_object_add(a, AGENT_ARG_TEXT, json_object_new_string(marker));
	json_object_object_add(a, AGENT_ARG_TIMEOUT_S, json_object_new_int(timeout_s));
	rc = agent_call_abandonable(ag, AGENT_OP_GUEST_WAIT_CONSOLE, a, &res, e);
	json_object_put(res);
	if (rc < 0 && e->kind != XERR_INTERRUPTED)
		xerr_prefix(e, "guest '%s' did not print '%s' on its console", name, marker);
	return rc;
}
