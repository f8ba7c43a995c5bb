/* The agent's operations, one group per file; main.c's table names them. */
#ifndef XLAB_AGENT_OPS_H
#define XLAB_AGENT_OPS_H

#include "proto.h"

#define OP(fn) int fn(struct json_object *args, struct json_object **result, struct xerr *e)

/* ops_basic.c */
OP(op_run);
/* ops_facts.c */
OP(op_facts);
/* ops_storage.c */
OP(op_storage_init);
OP(op_storage_lv_create);
OP(op_storage_lv_remove);
OP(op_storage_lvs);
OP(op_storage_vg_extend);
OP(op_storage_vg_reduce);
/* ops_guest.c */
OP(op_guest_create);
OP(op_guest_destroy);
OP(op_guest_list);
OP(op_guest_start);
/* ops_shutdown.c */
OP(op_guests_shutdown);
/* ops_migrate.c */
OP(op_guest_migrate);
/* ops_check.c */
OP(op_guest_check);
/* ops_hostcheck.c */
OP(op_host_check);
/* ops_disks.c */
OP(op_storage_disk_add);
OP(op_storage_disk_remove);
OP(op_storage_lv_extend);
/* ops_console.c */
OP(op_guest_console);
OP(op_guest_wait_console);

#undef OP

/* ops_storage.c, shared with guests. The LV row `name` of vg, or NULL
 * (borrowed from *lvs, which the caller puts). */
int lv_find(const char *vg, const char *name, struct json_object **lvs,
	    struct json_object **row, struct xerr *e);
/* lvcreate unless it exists; *created says which. */
int lv_create(const char *vg, const char *name, int64_t size, bool *created, struct xerr *e);
/* lvremove -f if it exists; *removed says which. */
int lv_remove(const char *vg, const char *name, bool *removed, struct xerr *e);

/* ops_storage.c: the /dev path of the disk whose virtio serial is `serial`. */
int disk_by_serial(const char *serial, char **dev, struct xerr *e);
/* ops_migrate.c: makes (create) or finds and activates the shared VG on the
 * disk `serial`; adds shared_vg and shared_created to result. */
int shared_vg_init(const char *vg, const char *serial, bool create, struct json_object *result,
		   struct xerr *e);

/* ops_facts.c: `xl info`, parsed (xl_info_parse). */
int xl_info(struct json_object **out, struct xerr *e);

/* ops_guest.c: `xl destroy NAME`. */
int domain_destroy(const char *name, struct xerr *e);
/* ops_guest.c: `xl create -p CFG`, a new console log and its copier, unpause;
 * *domid is the new domain's. */
int domain_start(const char *name, const char *cfg_path, int64_t *domid, struct xerr *e);

/* ops_shutdown.c: whether NAME has left `xl list` within wait_s seconds
 * (a guest that shut down is reaped a moment later, longer under TCG). */
bool guest_gone_within(const char *name, int wait_s);

/* ops_console.c: starts a detached process copying the console of NAME
 * (domid, or -1 when not known) into NAME's console log, emptied first for a
 * new boot (fresh). *attached (may be NULL): the console client said it is
 * reading, so nothing the guest prints from now on is lost. */
int console_capture_start(const char *name, int64_t domid, bool fresh, bool *attached,
			  struct xerr *e);

#endif
