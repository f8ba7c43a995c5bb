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
	/* Per process: two agent sessions may make the links at once. */
	_cleanup_free_ char *tmp = xasprintf("%s.%ld", path, (long)getpid());
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
	bool replaced;
	/* Replaced by a push while running: the new binary has the same name. */
	_cleanup_free_ char *self = agent_self_path(&replaced);

	if (!self)
		return xerr_errno(e, XERR_IO, "cannot read the agent's own path");
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
static void status_error(struct xs_conn *x, const char *bus, const char *why)
{
	_cleanup_free_ char *err_path = xasprintf("%s/hotplug-error", bus);
	_cleanup_free_ char *status = xasprintf("%s/hotplug-status", bus);
	struct xerr ignore = { 0 };

	xs_write(x, err_path, why, &ignore);
	xs_write(x, status, "error", &ignore);
}

/* blkback opens the device named by physical-device (major:minor in hex,
 * as `stat -c %t:%T` prints them) once it appears. */
static int block_add(struct xs_conn *x, const char *bus, struct xerr *e)
{
	_cleanup_free_ char *params_path = xasprintf("%s/params", bus);
	_cleanup_free_ char *params = NULL, *mm = NULL;
	_cleanup_free_ char *dev = xasprintf("%s/physical-device", bus);
	_cleanup_free_ char *dev_path = xasprintf("%s/physical-device-path", bus);
	_cleanup_free_ char *status = xasprintf("%s/hotplug-status", bus);
	struct stat st;

	if (xs_read(x, params_path, &params, e) < 0)
		return -1;
	if (stat(params, &st) < 0)
		return xerr_errno(e, XERR_NOTFOUND, "%s is not a block device", params);
	if (!S_ISBLK(st.st_mode))
		return xerr_set(e, XERR_USAGE, "%s is not a block device", params);
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

/* What `ip link set dev IF address fe:ff:ff:ff:ff:ff master BRIDGE up` does:
 * fe:ff:ff:ff:ff:ff keeps the bridge's own address the dom0's (a bridge
 * takes its ports' lowest). */
static int if_plug(const char *ifname, const char *bridge, struct xerr *e)
{
	static const unsigned char mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned idx = if_nametoindex(ifname);
	struct ifreq r;

	if (s < 0)
		return xerr_errno(e, XERR_IO, "cannot make a socket");
	if (!idx)
		return xerr_errno(e, XERR_NOTFOUND, "no interface %s", ifname);
	if (ifreq_set(&r, ifname, e) < 0)
		return -1;
	r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(r.ifr_hwaddr.sa_data, mac, sizeof(mac));
	if (ioctl(s, SIOCSIFHWADDR, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot set the address of %s", ifname);
	if (ifreq_set(&r, bridge, e) < 0)
		return -1;
	r.ifr_ifindex = (int)idx;
	if (ioctl(s, SIOCBRADDIF, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot add %s to bridge %s", ifname, bridge);
	if (ifreq_set(&r, ifname, e) < 0 || ioctl(s, SIOCGIFFLAGS, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot read the flags of %s", ifname);
	r.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &r) < 0)
		return xerr_errno(e, XERR_IO, "cannot bring %s up", ifname);
	return 0;
}

int hotplug_vif_plan(int argc, char **argv, const char *vif, const char *interface,
		     struct vif_plan *out)
{
	const char *action = argc > 1 ? argv[1] : "";
	bool tap = false;

	for (int i = 2; i < argc; i++)
		if (!strncmp(argv[i], "type_if=", 8))
			tap = !strcmp(argv[i] + 8, "tap");
	*out = (struct vif_plan){ .tap = tap };
	/* libxl: "online"/"offline" for a PV vif, "add"/"remove" for the
	 * emulated NIC's tap (named in $INTERFACE, $vif is its PV twin). */
	if (tap ? strcmp(action, "add") : strcmp(action, "online"))
		return 0;
	out->ifname = tap ? interface : vif;
	return out->ifname && *out->ifname ? 1 : -1;
}

/* A PV vif says connected to netback; a tap has no backend to tell. */
static int vif_online(struct xs_conn *x, const char *bus, const struct vif_plan *p,
		      struct xerr *e)
{
	_cleanup_free_ char *bridge_path = xasprintf("%s/bridge", bus);
	_cleanup_free_ char *status = xasprintf("%s/hotplug-status", bus);
	_cleanup_free_ char *bridge = NULL;

	if (xs_read(x, bridge_path, &bridge, e) < 0 || if_plug(p->ifname, bridge, e) < 0)
		return -1;
	return p->tap ? 0 : xs_write(x, status, "connected", e);
}

/* libxl runs BLOCK add|remove and VIF online|offline (add|remove type_if=tap)
 * with XENBUS_PATH set; only bringing a device in needs anything done. A
 * failure goes to hotplug-error for xl to print, and to stderr for libxl's
 * log; the exit status is 1. */
int hotplug_main(int argc, char **argv)
{
	const char *what = base_name(argv[0]);
	const char *bus = getenv("XENBUS_PATH");
	bool block = !strcmp(what, "block");
	struct vif_plan vp = { 0 };
	struct xs_conn *x = NULL;
	struct xerr e = { 0 };
	int rc;

	if (block && (argc < 2 || strcmp(argv[1], "add")))
		return 0;
	if (!block) {
		rc = hotplug_vif_plan(argc, argv, getenv("vif"), getenv("INTERFACE"), &vp);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			fprintf(stderr, "xlab vif hotplug: no %s: libxl names the interface there\n",
				vp.tap ? "$INTERFACE" : "$vif");
			return 1;
		}
	}
	if (!bus || !*bus) {
		fprintf(stderr, "xlab %s hotplug: no $XENBUS_PATH (libxl runs this)\n", what);
		return 1;
	}
	if (xs_open(&x, &e) < 0) {
		fprintf(stderr, "xlab %s hotplug: %s\n", what, e.msg);
		return 1;
	}
	rc = block ? block_add(x, bus, &e) : vif_online(x, bus, &vp, &e);
	if (rc < 0) {
		fprintf(stderr, "xlab %s hotplug: %s\n", what, e.msg);
		if (block || !vp.tap)
			status_error(x, bus, e.msg);
	}
	xs_close(x);
	return rc < 0 ? 1 : 0;
}
