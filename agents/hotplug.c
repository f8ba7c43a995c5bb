#include "hotplug.h"

#include <string.h>
#include <unistd.h>

#include "sys.h"
#include "util.h"

/* libxl runs it with add or remove, XENBUS_PATH set; blkback waits for
 * physical-device, libxl for hotplug-status. A failure says why in
 * hotplug-error, which `xl create` prints. */
static const char block_script[] =
	"#!/bin/sh\n"
	"# xlab: hotplug for a guest's LV (phy:), written by xlab-agent.\n"
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH\n"
	"[ \"$1\" = add ] || exit 0\n"
	"p=$(xenstore-read \"$XENBUS_PATH/params\") || exit 1\n"
	"if ! mm=$(stat -L -c %t:%T \"$p\" 2>/dev/null) || [ ! -b \"$p\" ]; then\n"
	"\txenstore-write \"$XENBUS_PATH/hotplug-error\" \"$p is not a block device\" \\\n"
	"\t\t\"$XENBUS_PATH/hotplug-status\" error\n"
	"\texit 1\n"
	"fi\n"
	"exec xenstore-write \"$XENBUS_PATH/physical-device\" \"$mm\" \\\n"
	"\t\"$XENBUS_PATH/physical-device-path\" \"$p\" \"$XENBUS_PATH/hotplug-status\" connected\n";

/* online/offline for a PV vif, add/remove for an emulated one ($type_if
 * tap). fe:ff:ff:ff:ff:ff keeps the bridge's own address the dom0's (a
 * bridge takes its ports' lowest). netback waits for hotplug-status. */
static const char vif_script[] =
	"#!/bin/sh\n"
	"# xlab: hotplug for a guest's vif on the lab bridge, written by xlab-agent.\n"
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH\n"
	"case $1 in online|add) ;; *) exit 0 ;; esac\n"
	"br=$(xenstore-read \"$XENBUS_PATH/bridge\") || exit 1\n"
	"ip link set dev \"$vif\" address fe:ff:ff:ff:ff:ff master \"$br\" up || exit 1\n"
	"[ \"${type_if:-vif}\" = vif ] || exit 0\n"
	"exec xenstore-write \"$XENBUS_PATH/hotplug-status\" connected\n";

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
