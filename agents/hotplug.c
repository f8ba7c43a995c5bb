#include "hotplug.h"

#include <string.h>
#include <unistd.h>

#include "sys.h"
#include "util.h"

/* agents/hotplug/block and vif, compiled in (agents/embed.py). */
#include "hotplug_scripts.h"

static int script_ensure(const char *where, const char *text, struct xerr *e)
{
	_cleanup_free_ char *path = agent_path("%s", where);
	_cleanup_free_ char *have = NULL;
	struct xerr ignore = { 0 };
	size_t len = 0;

	if (file_read_all(path, 1 << 16, &have, &len, &ignore) == 0 && have &&
	    len == strlen(text) && !memcmp(have, text, len) && access(path, X_OK) == 0)
		return 0;
	return file_write_atomic(path, text, strlen(text), 0755, e);
}

int hotplug_scripts_ensure(struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(DOM0_HOTPLUG_DIR);

	if (mkdir_p(dir, 0755, e) < 0 || script_ensure(DOM0_HOTPLUG_BLOCK, block_script, e) < 0 ||
	    script_ensure(DOM0_HOTPLUG_VIF, vif_script, e) < 0)
		return xerr_prefix(e, "writing xlab's hotplug scripts in %s", dir);
	return 0;
}
