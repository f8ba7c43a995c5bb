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
static int host_key_keep(const struct lab_dirs *d, const char *name, const char *key,
			 struct xerr *e)
{
	_cleanup_free_ char *path = guest_host_key_path(d, name);
	_cleanup_free_ char *dir = xstrdup(path);

	if (!key)
		return 0;
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
	struct agent_guest_req g = {
		.name = pg->spec->name,
		.vg = vg,
		.rootfs = pg->spec->rootfs,
		.xl_cfg = pg->xl_cfg,
		.type = pg->spec->type != SPEC_GUEST_PV ? spec_guest_type_name(pg->spec->type) : NULL,
		.size_bytes = pg->spec->disk,
		.swap_bytes = pg->spec->swap,
		.prefer_shadow = pg->prefer_shadow,
	};
	_cleanup_free_ char *key = NULL;

	if (agent_guest_create(ag, &g, &key, e) < 0)
		return -1;
	return host_key_keep(d, pg->spec->name, key, e);
}

int guest_agent_wait(struct agent *ag, const char *name, enum spec_guest_type type,
		     struct xerr *e)
{
	int timeout_s = type != SPEC_GUEST_PV ? GUEST_HVM_BOOT_TIMEOUT_S : GUEST_BOOT_TIMEOUT_S;
	_cleanup_free_ char *marker = xasprintf("%s %s", GUEST_MARKER, name);
	int rc = agent_guest_wait_console(ag, name, marker, timeout_s, true, e);

	if (rc < 0 && e->kind != XERR_INTERRUPTED)
		xerr_prefix(e, "guest '%s' did not print '%s' on its console", name, marker);
	return rc;
}
