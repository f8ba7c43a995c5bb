/* Every name xlab derives from a lab's, in one place: libvirt domains and
 * networks, bridges, host directories, guest volumes. Lab, host and guest
 * names are DNS labels ([a-z0-9-]), so '.' cannot appear in them: joined with
 * '.', and led by the store's short id (fixed-length hex), two different
 * (store, lab, host) triples never give one name. Lab `demo` host `x-h1` is
 * xlab-SSSSSSSS.demo.x-h1, lab `demo-x` host `h1` is xlab-SSSSSSSS.demo-x.h1. */
#ifndef XLAB_NAMES_H
#define XLAB_NAMES_H

#include <stdbool.h>

/* Hex digits of the store id in object names: enough to keep a machine's
 * few stores apart, short enough to read. */
#define NAMES_STORE_SHORT 8

/* Whose a libvirt object is, as its xlab <metadata> says (host/virt.c reads
 * and writes it): empty strings when it has none (not xlab's, or an xlab from
 * before store ids). */
struct virt_owner {
	char store[40];
	char lab[64];
};

/* libvirt domain of one host: "xlab-SSSSSSSS.LAB.HOST". */
char *names_domain(const char *store_id, const char *lab, const char *host);
/* libvirt network of a lab: "xlab-SSSSSSSS.LAB". */
char *names_network(const char *store_id, const char *lab);
/* The lab network's bridge: "xlbr-" and 10 hex digits of sha256(STORE/LAB),
 * within IFNAMSIZ. */
/* A lab across servers: the VXLAN device joined to its bridge on every
 * server ("xlvx-" and the bridge's hash) and its VNI (24 bits of the same
 * hash, never 0): two labs of one store, or of two stores on one server,
 * get two. */
void names_vxlan(const char *store_id, const char *lab, char out[16], unsigned *vni);
void names_bridge(const char *store_id, const char *lab, char out[16]);
/* A lab's directory in the store: "HOME/labs/LAB". */
char *names_lab_dir(const char *home, const char *lab);
/* What the store keeps of a server (`xlab server add`): "HOME/servers/NAME",
 * and in it the server's pinned SSH host key, "known_hosts". */
char *names_server_dir(const char *home, const char *server);
char *names_server_known_hosts(const char *home, const char *server);
/* A host's directory in the lab's: "LABDIR/hosts/HOST". */
char *names_host_dir(const char *lab_dir, const char *host);
/* What the controller keeps of a guest (its pinned SSH host key):
 * "LABDIR/guests/GUEST". */
char *names_guest_dir(const char *lab_dir, const char *guest);
/* Every host root disk of every lab of a store, as a glob(3) pattern
 * ("HOME/labs/ * /hosts/ * /root.qcow2"), and the lab a match belongs to
 * (malloc'd; NULL when the path is not one of them). */
char *names_root_disks_glob(const char *home);
char *names_root_disk_lab(const char *home, const char *path);
/* The swap volume of a guest: "GUEST-swap" (in the guest's VG). */
char *names_guest_swap(const char *guest);
/* Whether a guest name would be another guest's derived volume name (it
 * ends in "-swap"): such a guest would share that volume. */
bool names_guest_reserved(const char *guest);
/* An image's name in the store: [a-z0-9][a-z0-9.-]{0,62}. */
bool names_image_valid(const char *name);
/* A lab snapshot's name: the same rule (it is also a libvirt and qcow2
 * snapshot name, and a word on a command line). */
bool names_snapshot_valid(const char *name);

#endif
