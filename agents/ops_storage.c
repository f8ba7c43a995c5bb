/* storage.*: the volume group on the dom0's data disks and its logical
 * volumes (the seed's pvcreate/vgcreate/vgextend/vgreduce/lvcreate/lvremove/
 * lvscan). Each op is idempotent: asking twice for the same state is fine. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "hotplug.h"
#include "ops.h"
#include "sys.h"
#include "util.h"

#define PV_FIELDS "pv_name,vg_name,pv_size,pv_free,pv_used"
#define LV_FIELDS "lv_name,vg_name,lv_size,lv_path,lv_attr"
/* Smaller than an LVM extent is a mistake; larger than 64 TiB too. */
#define LV_SIZE_MIN ((int64_t)4 << 20)
#define LV_SIZE_MAX ((int64_t)64 << 40)

/* The /dev path of the disk whose virtio serial is `serial`. */
int disk_by_serial(const char *serial, char **dev, struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path("/sys/block");
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return xerr_errno(e, XERR_IO, "cannot list %s", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = xasprintf("%s/%s/serial", dir, de->d_name);
		_cleanup_free_ char *s = NULL;
		struct xerr ignore = { 0 };
		size_t len;

		if (de->d_name[0] == '.' || file_read_all(path, 4096, &s, &len, &ignore) < 0)
			continue;
		while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
			s[--len] = '\0';
		if (strcmp(s, serial) == 0) {
			*dev = xasprintf("/dev/%s", de->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return xerr_set(e, XERR_NOTFOUND, "no disk with serial '%s' in %s", serial, dir);
}

/* Every PV with its VG's totals: one LVM process answers what a `vgs` and
 * a `pvs` did (each a third of a second under TCG). */
#define PV_VG_FIELDS PV_FIELDS ",vg_size,vg_free"

static int pv_rows(struct json_object **rows, struct xerr *e)
{
	return lvm_report("pvs", "pv", PV_VG_FIELDS, NULL, rows, e);
}

static int lvm_run(char *const argv[], struct xerr *e)
{
	struct spawn_result r;

	if (agent_cmd(argv, CMD_LVM, 300, &r, e) < 0)
		return -1;
	spawn_result_free(&r);
	return 0;
}

/* Puts `dev` into `vg`, creating the VG when `create`; a PV already in it is
 * left alone, a PV of another VG is refused. vgcreate and vgextend make a
 * disk a PV first when it is not one. pvs: a report from before (the rows
 * of other disks than dev may have changed since). *added (added may be
 * NULL) says whether it changed. */
static int pv_into_vg(const char *vg, const char *dev, bool create, struct json_object *pvs,
		      bool *added, struct xerr *e)
{
	struct json_object *pv = rows_find(pvs, "pv_name", dev);
	const char *owner = pv ? row_str(pv, "vg_name") : NULL;

	if (added)
		*added = false;
	if (owner && strcmp(owner, vg) == 0)
		return 0;
	if (owner && *owner)
		return xerr_set(e, XERR_USAGE, "%s already belongs to volume group '%s'", dev,
				owner);
	if (lvm_run((char *[]){ create ? "vgcreate" : "vgextend", "-y", (char *)vg, (char *)dev,
				NULL },
		    e) < 0)
		return -1;
	if (added)
		*added = true;
	return 0;
}

/* {vg, size_bytes, free_bytes, pvs: [PVs of the VG]}, from a pvs report
 * with the VG's fields (pv_rows). */
static int vg_state_of(const char *vg, struct json_object *pvs, struct json_object **result,
		       struct xerr *e)
{
	struct json_object *mine = json_object_new_array(), *r;
	int64_t size = -1, free_bytes = 0;

	for (size_t i = 0; i < json_object_array_length(pvs); i++) {
		struct json_object *pv = json_object_array_get_idx(pvs, i), *copy;
		const char *owner = row_str(pv, "vg_name");

		if (!owner || strcmp(owner, vg))
			continue;
		size = row_int(pv, "vg_size");
		free_bytes = row_int(pv, "vg_free");
		copy = json_object_new_object();
		json_object_object_foreach(pv, k, v)
			if (strcmp(k, "vg_size") && strcmp(k, "vg_free"))
				json_object_object_add(copy, k, json_object_get(v));
		json_object_array_add(mine, copy);
	}
	if (size < 0) {
		json_object_put(mine);
		return xerr_set(e, XERR_NOTFOUND, "no volume group '%s'", vg);
	}
	r = json_object_new_object();
	json_object_object_add(r, AGENT_RES_VG, json_object_new_string(vg));
	json_object_object_add(r, AGENT_RES_SIZE_BYTES, json_object_new_int64(size));
	json_object_object_add(r, AGENT_RES_FREE_BYTES, json_object_new_int64(free_bytes));
	json_object_object_add(r, AGENT_RES_PVS, mine);
	*result = r;
	return 0;
}

static int vg_state(const char *vg, struct json_object **result, struct xerr *e)
{
	struct json_object *pvs;
	int rc;

	if (pv_rows(&pvs, e) < 0)
		return -1;
	rc = vg_state_of(vg, pvs, result, e);
	json_object_put(pvs);
	return rc;
}

/* True only when dev can be read and has no LVM label in its first four
 * sectors, where pvcreate writes one ("LABELONE"): a disk no VG can hold.
 * A disk that cannot be read is not called blank. */
static bool disk_blank(const char *dev)
{
	_cleanup_free_ char *path = agent_path("%s", dev);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char sectors[4 * 512];

	if (fd < 0 || pread(fd, sectors, sizeof(sectors), 0) != (ssize_t)sizeof(sectors))
		return false;
	for (size_t i = 0; i < 4; i++)
		if (memcmp(sectors + i * 512, "LABELONE", 8) == 0)
			return false;
	return true;
}

/* The disks' devices, data first; *blank when none carries an LVM label,
 * so no VG can be on them: a new host, whose VG is made without a report
 * first (each LVM process a third of a second under TCG). */
static int init_disks(const char *serial, char **extras, char ***devs, bool *blank,
		      struct xerr *e)
{
	size_t n = strv_len(extras);

	*devs = xcalloc(n + 2, sizeof(char *));
	*blank = true;
	if (disk_by_serial(serial, &(*devs)[0], e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (disk_by_serial(extras[i], &(*devs)[i + 1], e) < 0)
			return -1;
	for (char **d = *devs; *d && *blank; d++)
		*blank = disk_blank(*d);
	return 0;
}

int op_storage_init(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_strv_ char **extras = NULL, **devs = NULL;
	const char *vg, *serial, *shared_vg, *shared_serial;
	bool exists, blank, shared_create;
	struct json_object *pvs;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || arg_str(args, AGENT_ARG_DATA_SERIAL, true, &serial, e) < 0 ||
	    arg_strv(args, AGENT_ARG_EXTRA_SERIALS, false, 64, &extras, e) < 0 ||
	    arg_str(args, AGENT_ARG_SHARED_VG, false, &shared_vg, e) < 0 ||
	    arg_str(args, AGENT_ARG_SHARED_SERIAL, false, &shared_serial, e) < 0 ||
	    arg_bool(args, AGENT_ARG_SHARED_CREATE, false, &shared_create, e) < 0)
		return -1;
	/* Before any guest is made, or migrates in. It ends once Xen's daemons
	 * run (xen_daemons_wait): up's hosts are ready for xl from then on,
	 * whoever runs it, and the LVM work above overlapped their start. */
	if (hotplug_scripts_ensure(e) < 0)
		return -1;
	if (!agent_serial_valid(serial))
		return xerr_set(e, XERR_USAGE, "argument \"data_serial\" is not a disk serial");
	for (char **s = extras; *s; s++)
		if (!agent_serial_valid(*s))
			return xerr_set(e, XERR_USAGE, "extra serial '%s' is not a disk serial", *s);
	if (init_disks(serial, extras, &devs, &blank, e) < 0)
		return xerr_prefix(e, "volume group '%s'", vg);
	/* Blank disks are in no VG: nothing a report would say. */
	if (blank)
		pvs = json_object_new_array();
	else if (pv_rows(&pvs, e) < 0)
		return -1;
	exists = rows_find(pvs, "vg_name", vg) != NULL;
	if (!exists) {
		if (pv_into_vg(vg, devs[0], true, pvs, NULL, e) < 0) {
			json_object_put(pvs);
			return xerr_prefix(e, "creating volume group '%s'", vg);
		}
	}
	for (char **d = devs + 1; *d; d++) {
		if (pv_into_vg(vg, *d, false, pvs, NULL, e) < 0) {
			json_object_put(pvs);
			return xerr_prefix(e, "extending volume group '%s'", vg);
		}
	}
	json_object_put(pvs);
	/* No report of the VG after: `up` reads none from here (the disk ops
	 * report what a VG holds), and it would be another LVM process, a
	 * third of a second under TCG, on every new host. */
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_VG, json_object_new_string(vg));
	json_object_object_add(*result, AGENT_RES_CREATED, json_object_new_boolean(!exists));
	if ((shared_vg &&
	     shared_vg_init(shared_vg, shared_serial ? shared_serial : "xlab-shared", shared_create,
			    *result, e) < 0) ||
	    xen_daemons_wait(e) < 0) {
		json_object_put(*result);
		*result = NULL;
		return -1;
	}
	return 0;
}

int op_storage_vg_extend(struct json_object *args, struct json_object **result, struct xerr *e)
{
	const char *vg, *dev;
	struct json_object *pvs;
	bool added;
	int rc;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || arg_dev(args, AGENT_ARG_DEVICE, &dev, e) < 0)
		return -1;
	if (pv_rows(&pvs, e) < 0)
		return -1;
	rc = pv_into_vg(vg, dev, false, pvs, &added, e);
	json_object_put(pvs);
	if (rc < 0 || vg_state(vg, result, e) < 0)
		return -1;
	json_object_object_add(*result, AGENT_RES_ADDED, json_object_new_boolean(added));
	return 0;
}

int op_storage_vg_reduce(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct json_object *pvs, *pv;
	const char *vg, *dev, *owner;
	bool removed = false;
	int64_t used = 0;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || arg_dev(args, AGENT_ARG_DEVICE, &dev, e) < 0)
		return -1;
	if (lvm_report("pvs", "pv", PV_FIELDS, NULL, &pvs, e) < 0)
		return -1;
	pv = rows_find(pvs, "pv_name", dev);
	owner = pv ? row_str(pv, "vg_name") : NULL;
	removed = owner && strcmp(owner, vg) == 0;
	used = pv ? row_int(pv, "pv_used") : 0;
	json_object_put(pvs);
	/* Moving extents (pvmove) is out of scope: a used PV stays. */
	if (removed && used > 0)
		return xerr_set(e, XERR_USAGE, "%s holds %" PRId64 " bytes of '%s'; remove "
				"those logical volumes first", dev, used, vg);
	if (removed && lvm_run((char *[]){ "vgreduce", (char *)vg, (char *)dev, NULL }, e) < 0)
		return -1;
	if (vg_state(vg, result, e) < 0)
		return -1;
	json_object_object_add(*result, AGENT_RES_REMOVED, json_object_new_boolean(removed));
	return 0;
}

/* The LV row named `name` in vg (NULL when none); *lvs owns it. */
int lv_find(const char *vg, const char *name, struct json_object **lvs,
	    struct json_object **row, struct xerr *e)
{
	if (lvm_report("lvs", "lv", LV_FIELDS, vg, lvs, e) < 0)
		return -1;
	*row = rows_find(*lvs, "lv_name", name);
	return 0;
}

/* lvcreate first, lvs only when it refuses (to tell an LV that exists from
 * a real failure): a new LV costs one LVM process, a third of a second
 * under TCG, not two. Not /dev/VG/LV as the sign of an LV: on a shared VG
 * another host's lvremove leaves this host's mapping and link behind. */
int lv_create(const char *vg, const char *name, int64_t size, bool *created, struct xerr *e)
{
	struct json_object *lvs, *row;
	struct xerr ignore = { 0 };
	char sz[32];

	*created = false;
	snprintf(sz, sizeof(sz), "%" PRId64 "b", size);
	if (lvm_run((char *[]){ "lvcreate", "-y", "-Wy", "-Zy", "-n", (char *)name, "-L", sz,
				(char *)vg, NULL },
		    e) == 0) {
		*created = true;
		return 0;
	}
	if (lv_find(vg, name, &lvs, &row, &ignore) < 0)
		return -1;
	json_object_put(lvs);
	if (!row)
		return -1;
	xerr_clear(e);
	return 0;
}

static int lv_result(const char *vg, const char *name, struct json_object **result,
		     struct xerr *e)
{
	struct json_object *lvs, *row;

	if (lv_find(vg, name, &lvs, &row, e) < 0)
		return -1;
	if (!row) {
		json_object_put(lvs);
		return xerr_set(e, XERR_NOTFOUND, "no logical volume %s/%s", vg, name);
	}
	*result = json_object_get(row);
	json_object_put(lvs);
	return 0;
}

int op_storage_lv_create(struct json_object *args, struct json_object **result, struct xerr *e)
{
	const char *vg, *name;
	int64_t size;
	bool created;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || arg_name(args, AGENT_ARG_NAME, &name, e) < 0 ||
	    arg_int(args, AGENT_ARG_SIZE_BYTES, true, 0, LV_SIZE_MIN, LV_SIZE_MAX, &size, e) < 0)
		return -1;
	if (lv_create(vg, name, size, &created, e) < 0 || lv_result(vg, name, result, e) < 0)
		return -1;
	json_object_object_add(*result, AGENT_RES_CREATED, json_object_new_boolean(created));
	return 0;
}

int lv_remove(const char *vg, const char *name, bool *removed, struct xerr *e)
{
	struct json_object *lvs, *row;
	_cleanup_free_ char *target = xasprintf("%s/%s", vg, name);

	if (lv_find(vg, name, &lvs, &row, e) < 0)
		return -1;
	*removed = row != NULL;
	json_object_put(lvs);
	if (!*removed)
		return 0;
	return lvm_run((char *[]){ "lvremove", "-f", target, NULL }, e);
}

int op_storage_lv_remove(struct json_object *args, struct json_object **result, struct xerr *e)
{
	const char *vg, *name;
	bool removed;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0 || arg_name(args, AGENT_ARG_NAME, &name, e) < 0)
		return -1;
	if (lv_remove(vg, name, &removed, e) < 0)
		return -1;
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_REMOVED, json_object_new_boolean(removed));
	return 0;
}

int op_storage_lvs(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct json_object *lvs;
	const char *vg;

	if (arg_name(args, AGENT_ARG_VG, &vg, e) < 0)
		return -1;
	if (lvm_report("lvs", "lv", LV_FIELDS, vg, &lvs, e) < 0)
		return -1;
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_LVS, lvs);
	return 0;
}
