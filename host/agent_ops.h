/* The agent's ops as typed calls: arguments are C parameters and answers C
 * structs, so no caller builds a request or reads a result key; the keys
 * are spelled once, in proto/proto.h, and used here only. Each call is one
 * agent_call (agent_client.h) and fails the same way: the agent's refusal
 * is XERR_REMOTE with its kind. */
#ifndef XLAB_AGENT_OPS_H
#define XLAB_AGENT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "agent_client.h"

/* facts: what runs in the dom0, and its LVM report rows (LVM's own field
 * names: pv_name, vg_size, ...), each an array or NULL. */
struct agent_facts {
	char *xen_version;
	char *kernel_version;
	struct json_object *pvs, *vgs, *lvs;
};
int agent_facts(struct agent *ag, struct agent_facts *f, struct xerr *e);
void agent_facts_free(struct agent_facts *f);

/* run: argv in the dom0, without a shell. timeout_s 0: the agent's own. */
struct agent_run_out {
	int status; /* the exit status; -1 when it timed out */
	char *out, *err;
};
int agent_run(struct agent *ag, const char *const *argv, int timeout_s, struct agent_run_out *o,
	      struct xerr *e);
void agent_run_out_free(struct agent_run_out *o);

/* storage.init: the lab's VG on the data disk (and extra disks), and the
 * shared VG when the lab has one (made by the host that creates it). */
struct agent_storage {
	const char *vg;
	const char *data_serial;
	const char *const *extra_serials; /* NULL-terminated, may be NULL */
	const char *shared_vg;            /* NULL: none */
	const char *shared_serial;
	bool shared_create;
};
int agent_storage_init(struct agent *ag, const struct agent_storage *s, struct xerr *e);

/* storage.disk_add / disk_remove: the disk with that virtio serial into or
 * out of vg. */
struct agent_disk_out {
	char *device;
	int64_t moved_bytes; /* disk_remove: what pvmove moved off it */
	/* disk_add: the volume group as it is after */
	char *vg;
	int64_t vg_size_bytes, vg_free_bytes;
	size_t n_pvs;
};
int agent_disk_add(struct agent *ag, const char *vg, const char *serial, struct agent_disk_out *o,
		   struct xerr *e);
int agent_disk_remove(struct agent *ag, const char *vg, const char *serial,
		      struct agent_disk_out *o, struct xerr *e);
void agent_disk_out_free(struct agent_disk_out *o);

/* storage.lv_extend: a guest's LV to size_bytes while it runs. */
struct agent_lv_extend_out {
	char *lv_path;
	int64_t size_before, size_bytes;
	int64_t guest_sees_bytes; /* -1: the guest was not asked */
};
int agent_lv_extend(struct agent *ag, const char *vg, const char *guest, uint64_t size_bytes,
		    struct agent_lv_extend_out *o, struct xerr *e);
void agent_lv_extend_out_free(struct agent_lv_extend_out *o);

/* guest.create: LV, root filesystem, kept xl config, domain (paused until
 * its console is captured). */
struct agent_guest_req {
	const char *name, *vg, *rootfs, *xl_cfg;
	const char *type; /* NULL: pv */
	uint64_t size_bytes, swap_bytes;
	bool prefer_shadow;
};
/* *ssh_host_key: the host key the agent made for a guest with an SSH
 * server, NULL when none was made (no sshd, or its filesystem was kept). */
int agent_guest_create(struct agent *ag, const struct agent_guest_req *g, char **ssh_host_key,
		       struct xerr *e);

/* guest.console: the tail of a guest's console log (max_bytes 0: the
 * agent's default). */
int agent_guest_console(struct agent *ag, const char *name, int64_t max_bytes, char **text,
			struct xerr *e);
/* guest.wait_console: 0 once text appeared within timeout_s. abandonable:
 * a stop request gives the wait up at once (agent_call_abandonable). */
int agent_guest_wait_console(struct agent *ag, const char *name, const char *text,
			     int timeout_s, bool abandonable, struct xerr *e);
/* guest.destroy, and its LV in vg with remove_lv. */
int agent_guest_destroy(struct agent *ag, const char *name, const char *vg, bool remove_lv,
			struct xerr *e);
/* guest.start from its kept config; *hvm (may be NULL): the config says HVM. */
int agent_guest_start(struct agent *ag, const char *name, bool *hvm, struct xerr *e);

/* guest.list: xl list's rows. */
struct agent_domain {
	char *name, *state, *type;
	int64_t domid, memory_kib, vcpus;
	double time_s;
};
int agent_guest_list(struct agent *ag, struct agent_domain **out, size_t *n, struct xerr *e);
void agent_domains_free(struct agent_domain *d, size_t n);

/* guests.shutdown: every guest asked to shut down within timeout_s; those
 * that ignored it were synced and destroyed. */
struct agent_shutdown_out {
	char **destroyed; /* NULL-terminated */
	char *xl_said;    /* NULL: nothing */
};
int agent_guests_shutdown(struct agent *ag, int timeout_s, struct agent_shutdown_out *o,
			  struct xerr *e);
void agent_shutdown_out_free(struct agent_shutdown_out *o);

/* guest.migrate to another host of the lab, as xl migrate does it. */
struct agent_migration {
	int status;      /* xl's exit status */
	int64_t wall_ms; /* as timed in the source dom0 */
	char *output;
};
int agent_guest_migrate(struct agent *ag, const char *name, const char *to,
			struct agent_migration *m, struct xerr *e);
void agent_migration_free(struct agent_migration *m);

/* guest.check: one round of an osstest-style action. */
struct agent_check_req {
	const char *name, *action, *ip;
	int round, rounds_of, timeout_s;
};
struct agent_check_step {
	int round;
	char *step;
	bool ok;
	int64_t ms;
};
struct agent_check_out {
	bool passed;
	char *output;
	struct agent_check_step *steps;
	size_t n_steps;
};
int agent_guest_check(struct agent *ag, const struct agent_check_req *r,
		      struct agent_check_out *o, struct xerr *e);
void agent_check_out_free(struct agent_check_out *o);

/* host.check: one of osstest's host checks ("leak-check", "xen-dmesg-clean")
 * in the dom0. A leak-check is told what the lab accounts for there: its
 * guests' domain names, the VGs to look in, the guests' LVs as VG/NAME
 * (NULL-terminated lists, NULL for none). */
struct agent_host_check_req {
	const char *action;
	const char *const *domains, *const *vgs, *const *lvs;
	int timeout_s;
};
struct agent_host_check_out {
	bool passed;
	char *output;    /* what was found, then what was looked at */
	char **findings; /* each leftover or offending line, NULL-terminated */
};
int agent_host_check(struct agent *ag, const struct agent_host_check_req *q,
		     struct agent_host_check_out *o, struct xerr *e);
void agent_host_check_out_free(struct agent_host_check_out *o);

#endif
