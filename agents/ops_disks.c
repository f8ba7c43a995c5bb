/* Storage changes on a running dom0 (`xlab storage`): a disk hot-plugged by
 * the controller joins the VG, a disk leaves it (its extents moved off
 * first), a guest's LV grows while the guest runs. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "ops.h"
#include "sys.h"
#include "util.h"

#define LV_SIZE_MAX ((int64_t)64 << 40)
#define XVDA_DEVID "51712" /* xl's number for xvda */

static int lvm(char *const argv[], int timeout_s, struct xerr *e)
{
	struct spawn_result r;

	if (agent_cmd(argv, CMD_LVM, timeout_s, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

/* A hot-plugged disk shows up a moment after libvirt's attach returns. */
static int disk_wait(const char *serial, int timeout_s, char **dev, struct xerr *e)
{
	for (int i = 0;; i++) {
		if (disk_by_serial(serial, dev, e) == 0)
			return 0;
		if (i >= timeout_s * 2)
			return xerr_prefix(e, "after %d s", timeout_s);
		xerr_clear(e);
		usleep(500 * 1000);
	}
}

static int serial_arg(struct json_object *args, const char **serial, struct xerr *e)
{
	if (arg_str(args, AGENT_ARG_SERIAL, true, serial, e) < 0)
		return -1;
	if (!agent_serial_valid(*serial))
		return xerr_set(e, XERR_USAGE, "argument \"serial\" is not a disk serial");
	return 0;
}

/* {vg, serial, timeout_s}: vgextend (which makes it a PV) of the disk with that serial. */
int op_storage_disk_add(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_free_ char *dev = NULL;
	struct json_object *a;
	const char *vg, *serial;
	int64_t timeout;
	int rc;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || serial_arg(args, &serial, e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, 30, 1, 600, &timeout, e) < 0)
		return -1;
	if (disk_wait(serial, (int)timeout, &dev, e) < 0)
		return -1;
	a = json_object_new_object();
	json_object_object_add(a, AGENT_ARG_VG, json_object_new_string(vg));
	json_object_object_add(a, AGENT_ARG_DEVICE, json_object_new_string(dev));
	rc = op_storage_vg_extend(a, result, e);
	json_object_put(a);
	if (rc == 0)
		json_object_object_add(*result, AGENT_RES_DEVICE, json_object_new_string(dev));
	return rc;
}

/* {vg, serial}: pvmove off the disk when it holds extents, vgreduce,
 * pvremove; then the controller can unplug it. */
int op_storage_disk_remove(struct json_object *args, struct json_object **result,
			   struct xerr *e)
{
	_cleanup_free_ char *dev = NULL;
	struct json_object *pvs, *pv, *r;
	const char *vg, *serial, *owner;
	bool in_vg, is_pv;
	int64_t used;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || serial_arg(args, &serial, e) < 0)
		return -1;
	if (disk_by_serial(serial, &dev, e) < 0)
		return -1;
	if (lvm_report("pvs", "pv", "pv_name,vg_name,pv_used", NULL, &pvs, e) < 0)
		return -1;
	pv = rows_find(pvs, "pv_name", dev);
	owner = pv ? row_str(pv, "vg_name") : NULL;
	is_pv = pv != NULL;
	in_vg = owner && strcmp(owner, vg) == 0;
	used = pv ? row_int(pv, "pv_used") : 0;
	if (owner && *owner && !in_vg) {
		xerr_set(e, XERR_USAGE, "%s belongs to volume group '%s', not '%s'", dev, owner,
			 vg);
		json_object_put(pvs);
		return -1;
	}
	json_object_put(pvs);
	if (in_vg && used > 0 && lvm((char *[]){ "pvmove", dev, NULL }, 1800, e) < 0)
		return xerr_prefix(e, "moving %" PRId64 " bytes off %s", used, dev);
	if (in_vg && lvm((char *[]){ "vgreduce", (char *)vg, dev, NULL }, 300, e) < 0)
		return -1;
	if (is_pv && lvm((char *[]){ "pvremove", "-y", dev, NULL }, 300, e) < 0)
		return -1;
	r = json_object_new_object();
	json_object_object_add(r, AGENT_RES_DEVICE, json_object_new_string(dev));
	json_object_object_add(r, AGENT_RES_MOVED_BYTES, json_object_new_int64(in_vg ? used : 0));
	json_object_object_add(r, AGENT_RES_REMOVED, json_object_new_boolean(in_vg));
	*result = r;
	return 0;
}

static int lv_size(const char *vg, const char *name, int64_t *size, char **path, struct xerr *e)
{
	struct json_object *lvs, *row;

	if (lv_find(vg, name, &lvs, &row, e) < 0)
		return -1;
	if (!row) {
		json_object_put(lvs);
		return xerr_set(e, XERR_NOTFOUND, "no logical volume %s/%s", vg, name);
	}
	*size = row_int(row, "lv_size");
	if (path)
		*path = xstrdup(row_str(row, "lv_path") ? row_str(row, "lv_path") : "");
	json_object_put(lvs);
	return 0;
}

/* The size blkback tells the guest (xenstore "sectors" of its xvda), in
 * bytes; -1 when the guest is not running or has no xvda. */
static int64_t guest_sees(const char *name)
{
	struct spawn_result r;
	struct xerr ignore = { 0 };
	_cleanup_free_ char *key = NULL;
	long long domid, sectors = -1;

	if (agent_cmd((char *[]){ "xl", "domid", (char *)name, NULL }, CMD_ANY_EXIT, 60, &r,
		      &ignore) < 0)
		return -1;
	domid = r.status == 0 && r.out ? strtoll(r.out, NULL, 10) : -1;
	spawn_result_free(&r);
	if (domid <= 0)
		return -1;
	key = xasprintf("/local/domain/0/backend/vbd/%lld/" XVDA_DEVID "/sectors", domid);
	if (agent_cmd((char *[]){ "xenstore-read", key, NULL }, CMD_ANY_EXIT, 60, &r,
		      &ignore) < 0)
		return -1;
	if (r.status == 0 && r.out)
		sectors = strtoll(r.out, NULL, 10);
	spawn_result_free(&r);
	return sectors < 0 ? -1 : sectors * 512;
}

/* {vg, name, size_bytes}: lvextend while the guest runs. Blkback notices the
 * new size on its own (it checks every 100 ms) and tells the guest through
 * xenstore; the wait below is for that, so the answer says what the guest sees. */
int op_storage_lv_extend(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_free_ char *target = NULL, *path = NULL;
	const char *vg, *name;
	int64_t want, before, after, sees = -1;
	char sz[32];

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || arg_name(args, AGENT_ARG_NAME, &name, e) < 0 ||
	    arg_int(args, AGENT_ARG_SIZE_BYTES, true, 0, 1, LV_SIZE_MAX, &want, e) < 0)
		return -1;
	if (lv_size(vg, name, &before, NULL, e) < 0)
		return -1;
	if (want < before)
		return xerr_set(e, XERR_USAGE,
				"%s/%s is %" PRId64 " bytes; shrinking it to %" PRId64 " under a "
				"running guest would cut its filesystem",
				vg, name, before, want);
	target = xasprintf("%s/%s", vg, name);
	snprintf(sz, sizeof(sz), "%" PRId64 "b", want);
	if (want > before && lvm((char *[]){ "lvextend", "-L", sz, target, NULL }, 300, e) < 0)
		return -1;
	if (lv_size(vg, name, &after, &path, e) < 0)
		return -1;
	for (int i = 0; i < 20; i++) {
		sees = guest_sees(name);
		if (sees < 0 || sees == after)
			break;
		usleep(250 * 1000);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_LV_PATH, json_object_new_string(path));
	json_object_object_add(*result, AGENT_RES_SIZE_BEFORE, json_object_new_int64(before));
	json_object_object_add(*result, AGENT_RES_SIZE_BYTES, json_object_new_int64(after));
	json_object_object_add(*result, AGENT_RES_GUEST_SEES_BYTES,
			       sees < 0 ? NULL : json_object_new_int64(sees));
	return 0;
}
