#include "hotplug.h"

#include <errno.h>
#include <limits.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sys.h"
#include "util.h"
#include "xenstore.h"

/* A link to this very binary, replacing whatever is there (the shell
 * scripts of agents before this one). */
static int link_ensure(const char *where, const char *self, struct xerr *e)
{
	_cleanup_free_ char *path = agent_path("%s", where);
	_cleanup_free_ char *tmp = xasprintf("%s.new", path);
	char have[PATH_MAX];
	ssize_t n = readlink(path, have, sizeof(have) - 1);

	if (n > 0 && (size_t)n == strlen(self) && !memcmp(have, self, (size_t)n))
		return 0;
	unlink(tmp);
	if (symlink(self, tmp) < 0 || rename(tmp, path) < 0) {
		xerr_errno(e, XERR_IO, "cannot link %s to %s", path, self);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int hotplug_scripts_ensure(struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(DOM0_HOTPLUG_DIR);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return xerr_errno(e, XERR_IO, "cannot read the agent's own path");
	self[n] = '\0';
	/* Replaced by a push while running: the new binary has the old name. */
	if (n > 10 && !strcmp(self + n - 10, " (deleted)"))
		self[n - 10] = '\0';
	if (mkdir_p(dir, 0755, e) < 0 || link_ensure(DOM0_HOTPLUG_BLOCK, self, e) < 0 ||
	    link_ensure(DOM0_HOTPLUG_VIF, self, e) < 0)
		return xerr_prefix(e, "making xlab's hotplug scripts in %s", dir);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool hotplug_invoked(const char *argv0)
{
	const char *b = base_name(argv0);

	return !strcmp(b, "block") || !strcmp(b, "vif");
}

/* libxl waits for hotplug-status; "error" with hotplug-error is what it
 * reports (xl prints it). */
static int block_fail(struct xs_conn *x, const char *bus, const char *why)
{
	_cleanup_free_ char *err_path = xasprintf("%s/hotplug-error", bus);
	_cleanup_free_ char *status = xasprintf("%s/hotplug-status", bus);
	struct xerr ignore = { 0 };

	fprintf(stderr, "xlab block hotplug: %s\n", why);
	xs_write(x, err_path, why, &ignore);
	xs_write(x, status, "error", &ignore);
	return 1;
}

/* blkback opens the device named by physical-device (major:minor in hex,
 * as `stat -c %t:%T` prints them) once it appears. */
static int block_add(struct xs_conn *x, const char *bus, struct xerr *e)
{
	_cleanup_free_ char *params_path = xasprintf("%s/params", bus);
	_cleanup_free_ char *params = NULL, *mm = NULL, *why = NULL;
	_cleanup_free_ char *dev = xasprintf("%s/physical-device", bus);
	_cleanup_free_ char *dev_path = xasprintf("%s/physical-device-path", bus);
	_cleanup_free_ char *status = xasprintf("%s/hotplug-status", bus);
	struct stat st;

	if (xs_read(x, params_path, &params, e) < 0)
		return -1;
	if (stat(params, &st) < 0 || !S_ISBLK(st.st_mode)) {
		why = xasprintf("%s is not a block device", params);
		return block_fail(x, bus, why);
	}
	mm = xasprintf("%x:%x", major(st.st_rdev), minor(st.st_rdev));
	if (xs_write(x, dev, mm, e) < 0 || xs_write(x, dev_path, params, e) < 0 ||
	    xs_write(x, status, "connected", e) < 0)
		return -1;
	return 0;
}

static int ifreq_set(struct ifreq *r, const char *name, struct xerr *e)
{
	memset(r, 0, sizeof(*r));
	if (strlen(name) >= sizeof(r->ifr_name))
		return xerr_set(e, XERR_USAGE, "interface name '%s' is too long", name);
	strcpy(r->ifr_name, name);
	return 0;
}

/* What `ip link set dev VIF address fe:ff:ff:ff:ff:ff master BRIDGE up` does:
 * fe:ff:ff:ff:ff:ff keeps the bridge's own address the dom0's (a bridge
 * takes its ports' lowest). */
static int vif_plug(const char *vif, const char *bridge, struct xerr *e)
{
	static const unsigned char mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned idx = if_nametoindex(vif);
	struct ifreq r;

	if (s < 0)
		return xerr_errno(e, XERR_IO, "cannot make a socket");
	if (!idx)
		return xerr_errno(e, XERR_NOTFOUND, "no interface %s", vif);
	if (ifreq_set(&r, vif, e) < 0)
		return -1;
	r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(r.ifr_hwaddr.sa_data, mac, sizeof(mac));
	if (ioctl(s, SIOCSIFHWADDR, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot set the address of %s", vif);
	if (ifreq_set(&r, bridge, e) < 0)
		return -1;
	r.ifr_ifindex = (int)idx;
	if (ioctl(s, SIOCBRADDIF, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot add %s to bridge %s", vif, bridge);
	if (ifreq_set(&r, vif, e) < 0 || ioctl(s, SIOCGIFFLAGS, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot read the flags of %s", vif);
	r.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot bring %s up", vif);
	return 0;
}

/* A PV vif says connected to netback; an emulated one ($type_if tap) has
 * no backend to tell. */
static int vif_online(struct xs_conn *x, const char *bus, struct xerr *e)
{
	_cleanup_free_ char *bridge_path = xasprintf("%s/bridge", bus);
	_cleanup_free_ char *status = xasprintf("%s/hotplug-status", bus);
	_cleanup_free_ char *bridge = NULL;
	const char *vif = getenv("vif"), *type = getenv("type_if");

	if (!vif || !*vif)
		return xerr_set(e, XERR_USAGE, "no $vif: libxl names the interface there");
	if (xs_read(x, bridge_path, &bridge, e) < 0 || vif_plug(vif, bridge, e) < 0)
		return -1;
	if (type && *type && strcmp(type, "vif"))
		return 0;
	return xs_write(x, status, "connected", e);
}

/* libxl runs BLOCK add|remove and VIF online|offline|add|remove with
 * XENBUS_PATH set; only bringing a device in needs anything done. */
int hotplug_main(int argc, char **argv)
{
	const char *what = base_name(argv[0]), *action = argc > 1 ? argv[1] : "";
	const char *bus = getenv("XENBUS_PATH");
	bool block = !strcmp(what, "block");
	struct xs_conn *x = NULL;
	struct xerr e = { 0 };
	int rc;

	if (block ? strcmp(action, "add") : strcmp(action, "online") && strcmp(action, "add"))
		return 0;
	if (!bus || !*bus) {
		fprintf(stderr, "xlab %s hotplug: no $XENBUS_PATH (libxl runs this)\n", what);
		return 1;
	}
	if (xs_open(&x, &e) < 0) {
		fprintf(stderr, "xlab %s hotplug: %s\n", what, e.msg);
		return 1;
	}
	rc = block ? block_add(x, bus, &e) : vif_online(x, bus, &e);
	xs_close(x);
	if (rc < 0) {
		fprintf(stderr, "xlab %s hotplug: %s\n", what, e.msg);
		return 1;
	}
	return rc;
}
