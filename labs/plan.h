/* The plan: everything `up` will make for a spec, computed purely from the
 * spec and a few facts about this machine. Same inputs, same plan, byte for
 * byte: MACs, addresses, paths, libvirt XML, grub.cfg, xl configs. */
#ifndef XLAB_PLAN_H
#define XLAB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "spec.h"

#define PLAN_GUEST_KIT "/var/lib/xlab/guest"
/* A `vnc: true` guest's display listens on the dom0's loopback at this
 * base plus its address's offset in the lab subnet (prefix bits): unique in
 * a lab, known without asking xenstore. -1 when it would not fit a port. */
#define PLAN_VNC_PORT_BASE 5900
int plan_vnc_port(const char *ip, int prefix);
#define PLAN_SHARED_SERIAL "xlab-shared"

/* What the plan needs from outside the spec. */
struct plan_env {
	const char *state_dir; /* the lab's directory (xlab_home()/labs/LAB) */
	const char *accel;     /* "kvm" or "qemu" */
	const char *subnet;    /* the spec's, or the one allocated for the lab */
	const char *store_id;  /* xlab_store_id(): in every libvirt name and metadata */
	/* Per spec host, for a host on another server: the directory of that
	 * server's pool, where its disks are volumes. NULL (or a NULL entry):
	 * files in state_dir. */
	const char *const *volume_dirs;
	/* A lab across servers with a shared disk: the address its own server
	 * serves it on (qemu-nbd), which every host's QEMU connects to. */
	const char *shared_nbd_addr;
	/* Per spec host: true when its image's dom0 kernel mounts its root by
	 * itself (xlab's lean kernel: no modules to load from an initrd), so
	 * QEMU loads Xen and that kernel directly, with no firmware disk, grub
	 * or ISO. NULL (or false): grub boots it from an ISO with its initrd. */
	const bool *direct_boot;
};

/* A lab across servers: its lab network on each server joined by VXLAN,
 * whose 50 bytes of headers the lab's frames leave room for on a LAN of
 * 1500. */
#define PLAN_VXLAN_MTU 1450
#define PLAN_VXLAN_MTU_TEXT "1450"
#define PLAN_VXLAN_PORT 4789
/* The shared disk of a lab across servers is an NBD export named so, on a
 * port of this range picked by the lab's VNI. */
#define PLAN_NBD_EXPORT "shared"
#define PLAN_NBD_PORT_BASE 20000
#define PLAN_NBD_PORTS 10000

struct plan_host {
	const struct spec_host *spec;
	char *image;        /* the image it boots: spec_host_image_name() */
	const char *server; /* the server it runs on: spec_host_server(), NULL here */
	char *domain;       /* libvirt domain name: names_domain() */
	char mac[18];
	char ip[16];
	char *dir;          /* STATE/hosts/HOST */
	char *root_overlay; /* qcow2 over the image's root.qcow2 */
	char *data_disk;
	char **extra_disks; /* n = spec->n_disks */
	char *config_disk;
	char *serial_log;
	char *config_build; /* where up makes the config disk: see boot_build */
	/* How the host boots. Direct: QEMU's multiboot loader takes Xen
	 * (boot_xen, the image's xen.gz unpacked) with the dom0 kernel as its
	 * one module (boot_kernel), and xen_cmdline (Xen's options, then after
	 * " -- " the dom0's). Else grub from boot_iso, as grub_cfg says.
	 * unpack_kernel: boot_kernel is the ELF inside the image's bzImage
	 * (host/hostprep.c), not a copy of it (a server's host). */
	bool direct_boot, unpack_kernel;
	char *boot_xen, *boot_kernel, *xen_cmdline;
	char *boot_iso, *grub_cfg;
	/* Where up makes the boot files and config disk here: the paths above
	 * themselves, or what is uploaded to them on a server. NULL when that
	 * way of booting is not this host's. */
	char *xen_build, *kernel_build, *iso_build;
	char *domain_xml;   /* text */
	char **storage_steps; /* NULL-terminated, human-readable LVM steps */
};

struct plan_guest {
	const struct spec_guest *spec;
	const struct plan_host *host;
	char mac[18];
	char ip[16];
	char *lv;      /* /dev/VG/NAME (the shared VG's for `storage: shared`) */
	char *xl_cfg;  /* text */
	/* Under TCG a pvh or hvm guest runs on shadow paging (the agent adds
	 * `hap = 0`, and refuses a Xen without shadow): on TCG's emulated
	 * nested paging guests triple-fault at random and run several times
	 * slower. False when the spec sets xl.hap. */
	bool prefer_shadow;
	char **lvm_steps; /* NULL-terminated */
};

struct plan {
	const struct spec *spec;
	char *store_id; /* the store that makes it (plan_env's) */
	char *network;  /* libvirt network name: names_network() */
	char bridge[16];
	char gateway[16];
	char netmask[16];
	int prefix;
	char subnet[20];
	/* On the lab's own server: the bridge with the gateway address the
	 * controller reaches the hosts through. */
	char *network_xml;
	/* A lab across servers (spread): the same bridge, without an address,
	 * on each of the other servers; every bridge gets the VXLAN device
	 * vxlan with VNI vni, joined to the other servers. */
	bool spread;
	char *network_xml_peer;
	char vxlan[16];
	unsigned vni;
	char *hosts_file; /* /etc/hosts lines for every node */
	/* The lab's shared disk (raw, on every host) or NULL: STATE/shared.img,
	 * or on another server a volume of its pool (NET.shared.img); across
	 * servers the hosts reach it as shared_nbd_addr:shared_nbd_port. */
	char *shared_disk;
	char *shared_nbd_addr;
	int shared_nbd_port;
	struct plan_host *hosts;
	size_t n_hosts;
	struct plan_guest *guests;
	size_t n_guests;
};

int plan_build(const struct spec *s, const struct plan_env *env, struct plan **out,
	       struct xerr *e);
void plan_free(struct plan *p);
/* The whole plan as text, in the spirit of `xl create -n`. */
void plan_print(const struct plan *p, FILE *f);

/* A server as the plan shows it: "local" for this machine (NULL). */
const char *plan_server_name(const char *server);

/* The volume name of a path in a server's pool (its last component). */
char *plan_volume_name(const char *path);

/* Locally administered MAC from sha256("LAB/NODE"). */
void plan_mac(const char *lab, const char *node, char out[18]);

#endif
