/* libvirt, as xlab uses it: one connection, lab networks and host domains.
 * Every object xlab defines carries <metadata> naming its lab and the store
 * that made it (xlab_store_id()), so `down` finds all of a lab's domains even
 * when the spec is gone, and no store touches another's objects. */
#ifndef XLAB_VIRT_H
#define XLAB_VIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "names.h"

struct virt;

#define XLAB_XML_NS "https://xlab.dev/xmlns/libvirt/1"


struct virt_dom_info {
	bool exists;
	struct virt_owner owner;
	bool running;
	char uuid[40];
	unsigned long long memory_kib;
	int vcpus;
	int vnc_port; /* -1 when none or not running */
};

/* --connect, else `xlab --connect`, else $XLAB_CONNECT, else the spec's `libvirt:`,
 * else qemu:///system: the person at the keyboard wins over the file. */
const char *virt_default_uri(const char *flag, const char *spec_uri);
/* `xlab --connect URI COMMAND`: as if every --connect of the command said
 * URI (a command's own --connect still wins). Also exported as
 * $XLAB_CONNECT so the xlab processes a command spawns use it. */
void virt_uri_override(const char *uri);
int virt_open(const char *uri, struct virt **out, struct xerr *e);
/* A process that forks workers which go on using libvirt (class, matrix)
 * must not register libvirt's event loop: a child inherits it registered
 * but without the thread that runs it, and its calls wait for a loop
 * nobody runs (CI saw a class worker's close hang for good). With defer,
 * virt_open starts none (no keepalive there: a silent server is waited
 * for); each worker calls virt_event_loop_defer(false) and gets its own. */
void virt_event_loop_defer(bool defer);
/* False once the connection is lost (its server stopped answering the keepalive). */
bool virt_alive(struct virt *v);
void virt_close(struct virt *v);

/* Before anything is made: a local qemu:///system daemon gets the state
 * directory libvirt needs to start a domain on a lab network and may lack
 * (see virt.c); an error says what to do when it cannot be made. */
int virt_check_daemon_state(struct virt *v, struct xerr *e);
/* That directory under ROOT ("" for this machine), made when missing. */
int virt_ensure_state_dir(const char *root, struct xerr *e);
/* "kvm" when libvirt's domain capabilities offer it and the CPU has VT-x/AMD-V
 * and /dev/kvm opens (or force == "kvm"), else "qemu" (TCG). A bad force is
 * XERR_USAGE. force may be NULL, "kvm" or "qemu"/"tcg". *accel is malloc'd. */
int virt_detect_accel(struct virt *v, const char *force, char **accel, struct xerr *e);
/* Whether v's daemon is on another machine (its URI names a host). */
bool virt_is_remote(struct virt *v);

/* Refuses (naming the owner) an object whose metadata is not `want`'s: another
 * lab's, another store's, or none (not made by xlab for this store). */
int virt_owner_check(const char *kind, const char *name, const struct virt_owner *have,
		     const struct virt_owner *want, struct xerr *e);

/* Defines and starts the network from xml unless one of that name exists;
 * starts it when defined but inactive. An existing one must be want's. */
int virt_network_ensure(struct virt *v, const char *name, const char *xml,
			const struct virt_owner *want, bool *created, struct xerr *e);
/* Destroys and undefines when it is want's; a missing network is not an error. */
int virt_network_remove(struct virt *v, const char *name, const struct virt_owner *want,
			struct xerr *e);

/* Defines a persistent domain; writes its UUID string into uuid[40]. */
int virt_domain_define(struct virt *v, const char *xml, char uuid[40], struct xerr *e);
int virt_domain_start(struct virt *v, const char *name, struct xerr *e);
/* Off and on again (a hung or paused machine too): the domain stays defined. */
int virt_domain_power_cycle(struct virt *v, const char *name, struct xerr *e);
/* info->exists false (and 0 returned) when there is no such domain; its
 * owner from the metadata otherwise. */
int virt_domain_info(struct virt *v, const char *name, struct virt_dom_info *info,
		     struct xerr *e);
/* Destroys and undefines the domain if it exists and is want's (metadata);
 * refuses a domain of that name that this store did not make for this lab. */
int virt_domain_remove(struct virt *v, const char *name, const struct virt_owner *want,
		       struct xerr *e);
/* Stops a domain of want's, keeping its definition and disks: waits self_s
 * for it to power off by itself (the caller asked it to), then asks libvirt
 * (ACPI) and waits acpi_s, then destroys it and sets *forced. A missing or
 * stopped domain is no error; another store's or lab's is refused. */
int virt_domain_shutdown(struct virt *v, const char *name, const struct virt_owner *want,
			 int self_s, int acpi_s, bool *forced, struct xerr *e);
/* Starts want's network when it is defined but inactive (libvirtd or the
 * machine restarted); a missing one is an error saying how to remake it. */
int virt_network_start(struct virt *v, const char *name, const struct virt_owner *want,
		       struct xerr *e);
/* Names of every domain whose xlab metadata is want's (store and lab), sorted;
 * NULL-terminated, strv_free. */
int virt_lab_domains(struct virt *v, const struct virt_owner *want, char ***names,
		     struct xerr *e);
/* Store ids (sorted, distinct; "" for metadata without one) of every
 * domain whose xlab metadata names lab, whichever store made it. */
int virt_lab_stores(struct virt *v, const char *lab, char ***stores, struct xerr *e);
/* want for this store's lab: the store id and the lab, copied in. */
void virt_owner_set(struct virt_owner *o, const char *store_id, const char *lab);
/* "HOST:PORT" (malloc'd) of a running domain's VNC server, for `xlab vnc`;
 * HOST is its listen address, 127.0.0.1 when it listens everywhere or says nothing. */
int virt_domain_vnc(struct virt *v, const char *name, char **display, struct xerr *e);

/* ---- snapshots (virt_snapshot.c) ---- */
/* Paused (a paused domain is left so) and resumed (a running one is left so). */
int virt_domain_pause(struct virt *v, const char *dom, const struct virt_owner *want,
		      struct xerr *e);
int virt_domain_resume(struct virt *v, const char *dom, const struct virt_owner *want,
		       struct xerr *e);
/* The target (vdX) of the first writable disk that cannot hold an internal
 * snapshot (not qcow2), from a domain's XML; NULL when every one can. */
char *virt_snapshot_blocker(const char *domain_xml);
/* The same, for a defined domain of want's. */
int virt_snapshot_check(struct virt *v, const char *dom, const struct virt_owner *want,
			char **blocker, struct xerr *e);
/* An internal snapshot, memory included, named name. */
int virt_snapshot_create(struct virt *v, const char *dom, const struct virt_owner *want,
			 const char *name, struct xerr *e);
int virt_snapshot_has(struct virt *v, const char *dom, const struct virt_owner *want,
		      const char *name, bool *has, struct xerr *e);
/* Back to the snapshot, left paused (running or shut off before). */
int virt_snapshot_revert(struct virt *v, const char *dom, const struct virt_owner *want,
			 const char *name, struct xerr *e);
/* A missing domain or snapshot is no error. */
int virt_snapshot_delete(struct virt *v, const char *dom, const struct virt_owner *want,
			 const char *name, struct xerr *e);

/* ---- what a server can hold (virt_node.c) ---- */
struct virt_capacity {
	char *hostname;                 /* the daemon's machine */
	unsigned int cpus;              /* active CPUs */
	unsigned long long memory_bytes, free_memory_bytes;
	/* free plus what the kernel gives back (buffers, page cache): what
	 * placement counts on. */
	unsigned long long available_memory_bytes;
	char *hv_type;                  /* "QEMU", "TEST" */
	unsigned long hv_version;       /* the hypervisor's, as libvirt encodes it; 0 unknown */
	unsigned long libvirt_version;  /* the daemon's libvirt; 0 unknown */
	char *pool;                     /* the pool measured, NULL when none of those asked */
	unsigned long long pool_capacity, pool_available;
};
/* The node's CPUs and memory (virNodeGetInfo, virNodeGetFreeMemory), the
 * versions, and the first running pool of pools (NULL-terminated) by name. */
int virt_node_capacity(struct virt *v, const char *const *pools, struct virt_capacity *c,
		       struct xerr *e);
void virt_capacity_free(struct virt_capacity *c);
/* libvirt's encoded version (major * 1000000 + minor * 1000 + release) as
 * "9.0.0"; "?" for 0. */
void virt_version_format(unsigned long v, char out[32]);

/* ---- storage on a server (virt_pool.c) ---- */
/* The pool name running: defined as a directory pool at dir (made,
 * autostarted) when the server has none of that name, started when
 * inactive. An existing pool is used whatever its type. */
int virt_pool_ensure(struct virt *v, const char *name, const char *dir, bool *created,
		     struct xerr *e);
struct virt_vol {
	char *name;
	unsigned long long size; /* bytes of the file (not a qcow2 file's disk size) */
};
/* Every volume, after a refresh (files made behind libvirt's back too). */
int virt_pool_volumes(struct virt *v, const char *pool, struct virt_vol **vols, size_t *n,
		      struct xerr *e);
void virt_vols_free(struct virt_vol *v, size_t n);
typedef void (*virt_progress_fn)(void *ctx, unsigned long long done, unsigned long long total);
/* Volume name in pool holds exactly the size bytes read from fd: a raw
 * volume of that capacity (made, or made again when its size differs),
 * filled through an upload stream. progress (may be NULL) sees every chunk. */
int virt_vol_upload(struct virt *v, const char *pool, const char *name, int fd,
		    unsigned long long size, virt_progress_fn progress, void *ctx,
		    struct xerr *e);
/* Every byte of a volume, in order, through sink; a sink that fails (-1,
 * its own message in e) ends the stream. */
typedef int (*virt_sink_fn)(void *ctx, const char *data, size_t n, struct xerr *e);
int virt_vol_download(struct virt *v, const char *pool, const char *name, virt_sink_fn sink,
		      void *ctx, struct xerr *e);
/* length bytes from offset (0: to the end). */
int virt_vol_read(struct virt *v, const char *pool, const char *name,
		  unsigned long long offset, unsigned long long length, virt_sink_fn sink,
		  void *ctx, struct xerr *e);
/* The bytes of a file in a pool, one made there behind libvirt's back too
 * (a domain's console log); XERR_NOTFOUND when there is none. */
int virt_vol_size(struct virt *v, const char *pool, const char *name,
		  unsigned long long *size, struct xerr *e);
/* Its last max bytes (all when smaller), NUL-terminated, *len without it. */
int virt_vol_tail(struct virt *v, const char *pool, const char *name, size_t max, char **out,
		  size_t *len, struct xerr *e);
/* A missing volume is no error. */
int virt_vol_delete(struct virt *v, const char *pool, const char *name, struct xerr *e);
/* The directory of a directory pool (malloc'd): where its volumes are. */
int virt_pool_path(struct virt *v, const char *pool, char **path, struct xerr *e);
/* A new volume of format ("qcow2", "raw") and capacity bytes, over backing
 * (a qcow2 file on the server, may be NULL); libvirt refuses a name the
 * pool has. */
int virt_vol_create(struct virt *v, const char *pool, const char *name, const char *format,
		    unsigned long long capacity, const char *backing, struct xerr *e);

/* Whether /proc/cpuinfo text shows VT-x or AMD-V (a "vmx" or "svm" flag). */
bool virt_cpuinfo_has_hwvirt(const char *cpuinfo);

/* The KVM of v's machine refuses a guest's own VT-x/AMD-V (nested=0): Xen
 * in a host then has no HVM or PVH guests. False when nested is on, when no
 * kvm_intel/kvm_amd module says, or when v's daemon is on another machine
 * (then the agent's virt_caps check refuses); *param names the file read. */
bool virt_kvm_nested_off(struct virt *v, const char **param);
/* A kvm_*.nested parameter's text: "Y" or "1" is on. */
bool virt_kvm_nested_text_on(const char *text);

/* The raw connection, for the few callers that stream (console). */
#include <libvirt/libvirt.h>
virConnectPtr virt_conn(struct virt *v);

#endif
