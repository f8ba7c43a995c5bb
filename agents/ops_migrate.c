/* Live migration: the shared volume group every host of a lab sees, and
 * `xl migrate`. Without cluster locking only one host may change the shared
 * VG's metadata at a time: the controller creates it through one host and
 * the others only rescan and activate. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "ops.h"
#include "sys.h"
#include "util.h"

#define MIGRATE_TIMEOUT_S 900
#define MIGRATE_OUTPUT_MAX 8192

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_quiet(char *const argv[], unsigned flags, struct xerr *e)
{
	struct spawn_result r;

	if (agent_cmd(argv, flags, 300, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

/* The shared VG on the disk with virtio serial `serial`: made here when
 * `create` (vgcreate, which makes the disk a PV, unless it exists), else
 * found by a rescan (another host made it or changed it). Activated either
 * way. */
int shared_vg_init(const char *vg, const char *serial, bool create, struct json_object *result,
		   struct xerr *e)
{
	_cleanup_free_ char *dev = NULL;
	struct json_object *vgs = NULL;
	bool exists;

	if (!agent_name_valid(vg) || !agent_serial_valid(serial))
		return xerr_set(e, XERR_USAGE, "bad shared VG name or disk serial");
	if (disk_by_serial(serial, &dev, e) < 0)
		return xerr_prefix(e, "shared volume group '%s'", vg);
	/* Another host may have written the PV label since we last looked. */
	if (run_quiet((char *[]){ "pvscan", "--cache", NULL }, CMD_LVM | CMD_ANY_EXIT, e) < 0)
		return -1;
	if (lvm_report("vgs", "vg", "vg_name", NULL, &vgs, e) < 0)
		return -1;
	exists = rows_find(vgs, "vg_name", vg) != NULL;
	json_object_put(vgs);
	if (!exists && !create)
		return xerr_set(e, XERR_NOTFOUND,
				"no volume group '%s' on the shared disk %s (it is made through "
				"the lab's first host)",
				vg, dev);
	if (!exists && run_quiet((char *[]){ "vgcreate", "-y", (char *)vg, dev, NULL }, CMD_LVM, e) < 0)
		return xerr_prefix(e, "creating shared volume group '%s' on %s", vg, dev);
	if (run_quiet((char *[]){ "vgchange", "-ay", (char *)vg, NULL }, CMD_LVM, e) < 0)
		return xerr_prefix(e, "activating shared volume group '%s'", vg);
	json_object_object_add(result, AGENT_RES_SHARED_VG, json_object_new_string(vg));
	json_object_object_add(result, AGENT_RES_SHARED_CREATED, json_object_new_boolean(!exists));
	return 0;
}

/* guest.migrate {name, to}: `xl migrate NAME TO`, which runs `ssh TO xl
 * migrate-receive`. A refused migration is a result (status, xl's output),
 * not an agent error: the experiment records it as a failed round. */
int op_guest_migrate(struct json_object *args, struct json_object **result, struct xerr *e)
{
	const char *name, *to;
	struct spawn_result r;
	struct json_object *o;
	int64_t t0, timeout_s;
	struct buf out = { 0 };

	if (arg_name(args, AGENT_ARG_NAME, &name, e) < 0 || arg_name(args, AGENT_ARG_TO, &to, e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, MIGRATE_TIMEOUT_S, 10, 86400, &timeout_s, e) < 0)
		return -1;
	t0 = mono_ms();
	if (agent_cmd((char *[]){ "xl", "migrate", (char *)name, (char *)to, NULL },
		      CMD_ANY_EXIT, (int)timeout_s, &r, e) < 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, AGENT_RES_WALL_MS, json_object_new_int64(mono_ms() - t0));
	json_object_object_add(o, AGENT_RES_STATUS, json_object_new_int(r.status));
	buf_append(&out, r.out ? r.out : "", r.out_len);
	buf_append(&out, r.err ? r.err : "", r.err_len);
	/* xl is chatty; its last lines say what went wrong. */
	json_object_object_add(o, AGENT_RES_OUTPUT, json_object_new_string_len(
		out.len > MIGRATE_OUTPUT_MAX ? out.data + out.len - MIGRATE_OUTPUT_MAX :
					       (out.data ? out.data : ""),
		(int)(out.len > MIGRATE_OUTPUT_MAX ? MIGRATE_OUTPUT_MAX : out.len)));
	buf_free(&out);
	spawn_result_free(&r);
	*result = o;
	return 0;
}
