/* The lab spec model: what `lab.yaml` says, with defaults expanded into every
 * host and guest, and the position of each value for error messages.
 * Parsing and validation live in labs/ and never touch libvirt or ssh. */
#ifndef XLAB_SPEC_H
#define XLAB_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "err.h"

#define SPEC_MAX_BYTES (1u << 20) /* a spec over 1 MiB is refused unread */
#define SPEC_NAME_MAX 63          /* a DNS label */
/* The largest sizes a target holds: Xen on x86 addresses 16 TiB of memory
 * (xl takes it in MiB), an LVM logical volume (and a PV) holds at most
 * 8 EiB. Bigger values are refused where they are read, so no sum of
 * them can wrap. */
#define SPEC_MEM_MAX (16ull << 40)
#define SPEC_DISK_MAX (8ull << 60)

struct spec_pos {
	int line; /* 1-based, as libyaml marks + 1; 0 when unknown */
	int col;
};

/* A raw xl.cfg key passed through unchanged, in spec order. */
struct spec_kv {
	char *key;
	char *value; /* rendered as xl.cfg text: quoted string, number or list */
	struct spec_pos pos;
};

struct spec_host {
	char *name;
	struct spec_pos pos; /* of the name value */
	uint64_t memory;     /* bytes */
	uint64_t dom0_mem;
	uint64_t data_disk;
	int vcpus;
	/* `dom0_vcpus:` the vCPUs Xen gives dom0 (dom0_max_vcpus=), 0 when not
	 * given: the plan then picks 1 under TCG and Xen's own (all) under KVM. */
	int dom0_vcpus;
	uint64_t *disks; /* extra disks (vgextend'ed into storage.vg) */
	size_t n_disks;
	char *ip; /* explicit address or NULL (allocated) */
	/* The host's own Xen, over the lab's (a mixed-version lab: osstest's
	 * migrupgrade moves a guest from an older Xen to a newer one). */
	char *xen, *image;
	/* `server:` the stored server this host runs on, over the lab's: a lab
	 * across servers, one lab network joined between them (docs/servers.md). */
	char *server;
	/* `xen_args:` words added to Xen's command line after xlab's own (Xen
	 * takes an option's last value: `bootscrub=1` undoes xlab's 0). */
	char *xen_args;
	struct spec_pos ip_pos, memory_pos, dom0_mem_pos, vcpus_pos, dom0_vcpus_pos, disks_pos, xen_pos,
		image_pos;
};

/* How Xen runs a guest: PV (no hardware virtualization needed), PVH (the
 * same kernel in an HVM container, no device model), HVM (a device model
 * in dom0, the same kernel booted directly). PVH and HVM need Xen to have
 * hardware virtualization (svm/vmx) and HAP or shadow paging. */
enum spec_guest_type { SPEC_GUEST_PV, SPEC_GUEST_PVH, SPEC_GUEST_HVM };

/* "pv", "pvh", "hvm"; parse returns -1 for anything else. */
const char *spec_guest_type_name(enum spec_guest_type t);
int spec_guest_type_parse(const char *text, enum spec_guest_type *out);

struct spec_guest {
	char *name;
	struct spec_pos pos;
	char *host;
	struct spec_pos host_pos;
	uint64_t memory;
	uint64_t disk;
	int vcpus;
	char *rootfs; /* "busybox" or a path to a tarball */
	char *ip;     /* explicit address or NULL */
	struct spec_kv *xl;
	size_t n_xl;
	struct spec_pos ip_pos, memory_pos, disk_pos, vcpus_pos, rootfs_pos;
	bool shared; /* `storage: shared`: its LV is on the lab's shared VG */
	struct spec_pos storage_pos;
	uint64_t swap; /* `swap:` bytes of a second LV made swap (xvdb), 0 none */
	struct spec_pos swap_pos;
	bool vnc; /* `vnc: true`: a framebuffer served on the dom0's loopback */
	struct spec_pos vnc_pos;
	enum spec_guest_type type;
	struct spec_pos type_pos;
	/* `hotplug: xen`: Xen's own block and vif-bridge scripts, for those
	 * who test them; the default is xlab's lean ones (agents/hotplug.c). */
	bool xen_hotplug;
	struct spec_pos hotplug_pos;
};

struct spec_test {
	char *name;
	struct spec_pos pos;
	char *host;  /* run: in this host's dom0 ... */
	char *guest; /* ... or expect_console: on this guest */
	char **run;  /* argv, NULL-terminated */
	char *expect_console;
	char *action; /* ... or one of spec_test_actions on this guest (repeat
		       * times in a row), or of spec_host_actions on this host */
	int repeat;
	int timeout_s;
	struct spec_pos host_pos, guest_pos, run_pos, expect_pos, action_pos, repeat_pos;
};

/* osstest's guest checks a test can name as its action: "save-restore", "local-migrate",
 * "stop-start". */
extern const char *const spec_test_actions[];
extern const size_t spec_n_test_actions;
/* osstest's host checks, the action of a test on a host: "leak-check",
 * "xen-dmesg-clean". They run once, after every other test of the run. */
extern const char *const spec_host_actions[];
extern const size_t spec_n_host_actions;
/* A test whose action is one of spec_host_actions on a host. */
bool spec_test_is_host_check(const struct spec_test *t);

enum spec_on_failure { SPEC_ON_FAILURE_STOP, SPEC_ON_FAILURE_CONTINUE };

/* experiments: a guest migrated between two hosts, `rounds` times. */
struct spec_experiment {
	char *name;
	struct spec_pos pos;
	char *guest, *from, *to; /* migrate: {guest, from, to} */
	int rounds;
	bool back_and_forth;     /* even rounds go to -> from */
	int ping_ms;             /* probe: {ping_ms} */
	enum spec_on_failure on_failure;
	struct spec_pos migrate_pos, guest_pos, from_pos, to_pos;
};

struct spec {
	char *path;                /* as given, for FILE:LINE:COL */
	char sha256[65];           /* of the file's bytes */
	char *lab;
	struct spec_pos lab_pos;
	char *xen;                 /* "4.17" -> image "xen-4.17" */
	struct spec_pos xen_pos;
	char *image;               /* `image:` a stored image by name, instead of xen */
	struct spec_pos image_pos;
	char *libvirt_uri;         /* `libvirt:` or NULL */
	/* `server:` the stored server the whole lab runs on (docs/servers.md);
	 * NULL or "local": this machine. */
	char *server;
	char *subnet;              /* "10.80.0.0/24" or NULL (allocated at up) */
	struct spec_pos subnet_pos;
	uint32_t net_addr;         /* host byte order, valid when subnet set */
	int net_prefix;
	char *vg;                  /* storage.vg */
	char *shared_vg;           /* storage.shared.vg: on one disk every host sees, or NULL */
	uint64_t shared_size;      /* storage.shared.size */
	struct spec_pos shared_pos;
	struct spec_host *hosts;
	size_t n_hosts;
	struct spec_guest *guests;
	size_t n_guests;
	struct spec_test *tests;
	size_t n_tests;
	struct spec_experiment *experiments;
	size_t n_experiments;
	char **matrix_xen;         /* matrix.xen: NULL-terminated, or NULL */
	struct spec_pos matrix_pos;
	int class_copies;          /* class.copies: copies `xlab class up` makes, or 0 */
	char *class_students;      /* class.students: CSV of names, or NULL */
	struct spec_pos class_pos;
};

/* One problem found in a spec, printed as FILE:LINE:COL: message. */
struct spec_diag {
	struct spec_pos pos;
	char *msg;
	char *hint; /* "did you mean 'hosts'?" or NULL; printed as "msg; hint" */
};

struct spec_diags {
	char *path;
	struct spec_diag *v;
	size_t n, cap;
};

/* Reads, parses and validates FILE. On any problem returns -1, with every
 * problem in `diags` (when non-NULL) and e set to a summary with code 2. */
int spec_load(const char *path, struct spec **out, struct spec_diags *diags, struct xerr *e);
/* The same from memory (tests, fuzzers); `name` stands in for the path. */
int spec_load_buffer(const char *name, const char *data, size_t len, struct spec **out,
		     struct spec_diags *diags, struct xerr *e);
/* The image the lab's hosts boot: `image:`, else "xen-" `xen:` (allocated);
 * NULL when every host names its own. */
char *spec_image_name(const struct spec *s);
/* The image host h boots: its own `image:`/`xen:`, else the lab's (allocated). */
char *spec_host_image_name(const struct spec *s, const struct spec_host *h);
/* Whether the hosts of the lab boot more than one image. */
bool spec_mixed_images(const struct spec *s);
void spec_free(struct spec *s);
/* Frees what a guest owns (for guests built outside a spec, e.g. from the CLI). */
void spec_guest_clear(struct spec_guest *g);

void spec_diags_print(const struct spec_diags *d, FILE *f);
/* For a command that stops at an invalid spec, with e set by spec_load:
 * each error is printed once. A single one stays in e alone (main prints
 * it); several are printed to f and e becomes their count. */
void spec_diags_report(const struct spec_diags *d, struct xerr *e, FILE *f);
void spec_diags_free(struct spec_diags *d);

const struct spec_host *spec_find_host(const struct spec *s, const char *name);
const struct spec_guest *spec_find_guest(const struct spec *s, const char *name);
const struct spec_experiment *spec_find_experiment(const struct spec *s, const char *name);

/* The spec's rules, for guests made outside a spec file (`xlab guest create`). */
/* The capacity rules of a whole spec (guest memory and disks within each
 * host's, shared disks within the shared VG) over s as it is now: for a spec
 * that gained guests after it was loaded. Returns -1 with the first problem. */
int spec_check_capacity(const struct spec *s, struct xerr *e);
#define SPEC_MAX_VCPUS 64
bool spec_name_valid(const char *s);
/* The spec's `server:` when it names another server than local, else NULL. */
const char *spec_server(const struct spec *s);
/* The server host h runs on: its own `server:`, else the lab's; NULL for
 * this machine. */
const char *spec_host_server(const struct spec *s, const struct spec_host *h);
/* The first server other than this machine the lab or any host names,
 * else NULL: for what runs on this machine only so far. */
const char *spec_any_server(const struct spec *s);
/* Whether the lab's hosts are on more than one server. */
bool spec_spread(const struct spec *s);
/* A guest's rootfs: a built-in name or a path to a tarball in the dom0. */
bool spec_rootfs_valid(const char *s);
#define SPEC_ROOTFS_KINDS                                                                      \
	"'busybox', 'debian' (the image's Debian), 'debian-bookworm', 'debian-trixie' or a "   \
	"path to a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.zst)"
/* a-z, 0-9 and '_', not starting with a digit. */
bool spec_xl_key_valid(const char *key);
/* Appends text to b as an xl.cfg scalar: as it is when number_ok and it is
 * a plain integer, else a double-quoted string with the escapes libxlu reads
 * (\" \\ \n \t \r). Returns 0, or the first other control character, which
 * xl.cfg cannot hold (b is then partly written: the caller drops it). */
struct buf;
int spec_xl_scalar(struct buf *b, const char *text, bool number_ok);
/* The hint when xlab writes `key` itself (so it cannot be given), else NULL. */
const char *spec_xl_key_owned(const char *key);
/* Why an xl.cfg key is refused for every xlab guest (pci*, bootloader*,
 * cmdline, device_model*, ...), or NULL. The one list the spec's 'xl:',
 * `guest create xl.KEY=` and --from-xl all use. */
const char *spec_xl_key_refused(const char *key);

/* The limit for a size key ("memory", "dom0_mem": SPEC_MEM_MAX; disks and
 * swap: SPEC_DISK_MAX); spec and `guest create` read sizes with it. */
uint64_t spec_size_max(const char *key);

#endif
