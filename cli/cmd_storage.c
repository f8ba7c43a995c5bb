/* xlab storage LAB HOST [--json] | add-disk SIZE | remove-disk SERIAL |
 * resize GUEST SIZE: the volume group of a running host, changed the way the
 * Xen guide does it by hand (a new disk, vgextend, lvextend), each change a
 * recorded step. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_ops.h"
#include "cmd.h"
#include "hostdisk.h"
#include "hostprep.h"
#include "lab.h"
#include "labview.h"
#include "run.h"
#include "table.h"
#include "util.h"
#include "virt.h"

struct storage_ctx {
	struct labview v;
	const struct plan_host *ph;
	struct run run;
	bool run_started;
	int lock;
};

/* A row of LVM's report: its own field names. */
static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "";
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : -1;
}

static const char *human(int64_t bytes, char buf[32])
{
	if (bytes < 0)
		return "-";
	size_format((uint64_t)bytes, buf, 32);
	return buf;
}

/* The host's agent, over a session of its own, for one call. */
struct host_agent {
	struct sshc *ssh;
	struct agent *ag;
};

static int host_agent_open(struct storage_ctx *c, struct host_agent *h, struct xerr *e)
{
	*h = (struct host_agent){ 0 };
	return labview_agent(&c->v, c->ph->spec->name, &h->ssh, &h->ag, e);
}

static void host_agent_close(struct host_agent *h)
{
	agent_close(h->ag);
	sshc_free(h->ssh);
}

static void rows_print(struct json_object *rows, const char *title, const char *const *cols,
			const bool *sizes, size_t n)
{
	const char *hdr[9] = { 0 };
	struct table *t;

	/* At most eight columns (storage_show's are five at most). */
	for (size_t i = 0; i < n && i < 8; i++)
		hdr[i] = cols[i];
	t = table_new("  ", hdr);
	printf("%s\n", title);
	for (size_t i = 0; i < n; i++)
		if (sizes[i])
			table_right(t, i);
	for (size_t r = 0; rows && r < json_object_array_length(rows); r++) {
		struct json_object *row = json_object_array_get_idx(rows, r);
		char buf[8][32];
		const char *cells[8];

		for (size_t i = 0; i < n && i < 8; i++)
			cells[i] = sizes[i] ? human(jint(row, cols[i]), buf[i]) : jstr(row, cols[i]);
		table_row(t, cells, n);
	}
	table_print(t, stdout);
	table_free(t);
}

static int storage_show(struct storage_ctx *c, bool json, struct xerr *e)
{
	static const char *const pv_cols[] = { "pv_name", "vg_name", "pv_size", "pv_free", "pv_used" };
	static const bool pv_sz[] = { false, false, true, true, true };
	static const char *const vg_cols[] = { "vg_name", "vg_size", "vg_free", "pv_count", "lv_count" };
	static const bool vg_sz[] = { false, true, true, false, false };
	static const char *const lv_cols[] = { "lv_name", "vg_name", "lv_size", "lv_path" };
	static const bool lv_sz[] = { false, false, true, false };
	struct agent_facts f;
	struct host_agent h;
	struct json_object *pvs, *vgs, *lvs;
	int rc;

	if (host_agent_open(c, &h, e) < 0)
		return -1;
	rc = agent_facts(h.ag, &f, e);
	host_agent_close(&h);
	if (rc < 0)
		return -1;
	pvs = f.pvs;
	vgs = f.vgs;
	lvs = f.lvs;
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "host", json_object_new_string(c->ph->spec->name));
		json_object_object_add(o, "pvs", json_object_get(pvs));
		json_object_object_add(o, "vgs", json_object_get(vgs));
		json_object_object_add(o, "lvs", json_object_get(lvs));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		rows_print(pvs, "physical volumes:", pv_cols, pv_sz, ARRAY_SIZE(pv_cols));
		rows_print(vgs, "volume groups:", vg_cols, vg_sz, ARRAY_SIZE(vg_cols));
		rows_print(lvs, "logical volumes:", lv_cols, lv_sz, ARRAY_SIZE(lv_cols));
	}
	agent_facts_free(&f);
	return 0;
}

static int change_begin(struct storage_ctx *c, const char *command, struct xerr *e)
{
	c->lock = lab_lock(c->v.ls.lab, command, e);
	if (c->lock < 0)
		return -1;
	if (run_begin(&c->run, c->v.ls.db, c->v.ls.lab, command, c->v.spec->sha256, e) < 0)
		return -1;
	c->run_started = true;
	return 0;
}

static void vg_say(struct storage_ctx *c, const struct agent_disk_out *d)
{
	char a[32], b[32];

	run_say(&c->run, c->ph->spec->name, "volume group %s: %s, %s free, %zu PV(s)", d->vg,
		human(d->vg_size_bytes, a), human(d->vg_free_bytes, b), d->n_pvs);
}

static int new_disk(struct storage_ctx *c, struct virt *virt, uint64_t size, char serial[32],
		    char **path, char **xml, struct xerr *e)
{
	_cleanup_free_ char *dom_xml = NULL;
	struct hostdisk_layout l;
	int n;

	if (hostdisk_domain_xml(virt, c->ph->domain, &dom_xml, e) < 0 ||
	    hostdisk_layout(dom_xml, &l, e) < 0)
		return -1;
	/* A file left by a cut-short add-disk keeps its number taken. */
	for (n = l.next_extra;; n++) {
		free(*path);
		*path = xasprintf("%s/extra-%d.qcow2", c->ph->dir, n);
		if (access(*path, F_OK) != 0)
			break;
	}
	snprintf(serial, 32, HOSTDISK_SERIAL_PREFIX "%d", n);
	*xml = hostdisk_xml(*path, l.next_dev, serial);
	return qcow2_create(*path, NULL, size, e);
}

static int add_disk(struct storage_ctx *c, struct virt *virt, const char *size_arg,
		    struct xerr *e)
{
	_cleanup_free_ char *path = NULL, *xml = NULL;
	struct agent_disk_out d = { 0 };
	struct host_agent h;
	char serial[32] = "";
	uint64_t size;
	struct step s;
	int rc;

	if (size_parse(size_arg, &size, e) < 0)
		return xerr_prefix(e, "add-disk SIZE");
	if (change_begin(c, "storage add-disk", e) < 0)
		return -1;
	step_begin(&s, &c->run, "disk.create", c->ph->spec->name);
	if (step_end(&s, new_disk(c, virt, size, serial, &path, &xml, e), e) < 0)
		return -1;
	step_begin(&s, &c->run, "disk.attach", serial);
	if (step_end(&s, hostdisk_attach(virt, c->ph->domain, xml, e), e) < 0) {
		unlink(path);
		return -1;
	}
	step_begin(&s, &c->run, "storage.vg_extend", serial);
	rc = host_agent_open(c, &h, e);
	if (rc == 0)
		rc = agent_disk_add(h.ag, c->v.spec->vg, serial, &d, e);
	host_agent_close(&h);
	rc = step_end(&s, rc, e);
	if (rc == 0) {
		run_say(&c->run, c->ph->spec->name, "disk %s (%s) is %s in the host", serial,
			size_arg, d.device);
		vg_say(c, &d);
		printf("%s\n", serial);
	}
	agent_disk_out_free(&d);
	return rc;
}

static int detach_disk(struct storage_ctx *c, struct virt *virt, const char *serial,
		       struct xerr *e)
{
	_cleanup_free_ char *dom_xml = NULL, *disk = NULL, *path = NULL;

	if (hostdisk_domain_xml(virt, c->ph->domain, &dom_xml, e) < 0 ||
	    hostdisk_find(dom_xml, serial, &disk, &path, e) < 0 ||
	    hostdisk_detach(virt, c->ph->domain, disk, e) < 0)
		return -1;
	if (path && unlink(path) < 0)
		return xerr_errno(e, XERR_IO, "cannot remove %s", path);
	return 0;
}

/* A removed disk's file goes, and with it its part of every snapshot of
 * the lab: a revert would then fail on this host, halfway through the lab. */
static int snapshots_refuse(struct storage_ctx *c, const char *serial, struct xerr *e)
{
	struct db_snapshot *v = NULL;
	size_t n = 0;

	if (db_snapshots_list(c->v.ls.db, c->v.ls.lab, &v, &n, e) < 0)
		return -1;
	db_snapshots_free(v, n);
	if (n == 0)
		return 0;
	return xerr_set(e, XERR_CONFLICT,
			"lab '%s' has %zu snapshot(s) (`xlab snapshot list %s`) and disk %s holds "
			"its part of them; `xlab snapshot rm` them first",
			c->v.ls.lab, n, c->v.ls.lab, serial);
}

static int remove_disk(struct storage_ctx *c, struct virt *virt, const char *serial,
		       struct xerr *e)
{
	struct agent_disk_out d = { 0 };
	struct host_agent h;
	struct step s;
	char buf[32];
	int rc;

	if (strncmp(serial, HOSTDISK_SERIAL_PREFIX, strlen(HOSTDISK_SERIAL_PREFIX)) != 0)
		return xerr_set(e, XERR_USAGE,
				"remove-disk takes an added disk's serial (%sN, from `xlab "
				"storage %s %s`), not '%s'", HOSTDISK_SERIAL_PREFIX, c->v.ls.lab,
				c->ph->spec->name, serial);
	if (snapshots_refuse(c, serial, e) < 0 || change_begin(c, "storage remove-disk", e) < 0)
		return -1;
	step_begin(&s, &c->run, "storage.vg_reduce", serial);
	rc = host_agent_open(c, &h, e);
	if (rc == 0)
		rc = agent_disk_remove(h.ag, c->v.spec->vg, serial, &d, e);
	host_agent_close(&h);
	if (step_end(&s, rc, e) < 0)
		return -1;
	run_say(&c->run, c->ph->spec->name, "%s left volume group %s (%s moved off it first)",
		d.device, c->v.spec->vg, human(d.moved_bytes, buf));
	agent_disk_out_free(&d);
	step_begin(&s, &c->run, "disk.detach", serial);
	return step_end(&s, detach_disk(c, virt, serial, e), e);
}

static const char *guest_vg(const struct storage_ctx *c, const char *guest, struct xerr *e)
{
	const struct db_guest *g = labstate_guest(&c->v.ls, guest);
	const struct spec_guest *sg = spec_find_guest(c->v.spec, guest);

	if (!g) {
		labstate_no_such(&c->v.ls, "guest", guest, e);
		return NULL;
	}
	if (strcmp(g->host, c->ph->spec->name) != 0) {
		xerr_set(e, XERR_USAGE, "guest '%s' runs on host '%s', not '%s'", guest, g->host,
			 c->ph->spec->name);
		return NULL;
	}
	return sg && sg->shared ? c->v.spec->shared_vg : c->v.spec->vg;
}

static int resize(struct storage_ctx *c, const char *guest, const char *size_arg,
		  struct xerr *e)
{
	struct agent_lv_extend_out x = { 0 };
	struct host_agent h;
	const char *vg;
	uint64_t size;
	struct step s;
	char b0[32], b1[32], b2[32];
	int rc;

	if (size_parse(size_arg, &size, e) < 0)
		return xerr_prefix(e, "resize SIZE");
	if (!(vg = guest_vg(c, guest, e)) || change_begin(c, "storage resize", e) < 0)
		return -1;
	step_begin(&s, &c->run, "lv.extend", guest);
	rc = host_agent_open(c, &h, e);
	if (rc == 0)
		rc = agent_lv_extend(h.ag, vg, guest, size, &x, e);
	host_agent_close(&h);
	if (step_end(&s, rc, e) < 0)
		return -1;
	run_say(&c->run, guest, "%s: %s -> %s while the guest runs", x.lv_path,
		human(x.size_before, b0), human(x.size_bytes, b1));
	if (x.guest_sees_bytes >= 0)
		run_say(&c->run, guest, "the guest's xvda is now %s (blkback told it through "
			"xenstore); its ext4 keeps its size until `resize2fs /dev/xvda` runs inside "
			"the guest", human(x.guest_sees_bytes, b2));
	else
		run_say(&c->run, guest, "the guest is not running: it sees the new size when it "
			"next starts");
	agent_lv_extend_out_free(&x);
	return 0;
}

static int storage_do(struct storage_ctx *c, int argc, char **argv, struct xerr *e)
{
	struct virt *virt = NULL;
	const char *what = argv[3];
	int rc;

	if (!strcmp(what, "resize")) {
		if (argc != 6)
			return cmd_usage_error(e, "storage", "resize: expected GUEST and SIZE");
		return resize(c, argv[4], argv[5], e);
	}
	if (strcmp(what, "add-disk") && strcmp(what, "remove-disk"))
		return cmd_usage_error(e, "storage", "unknown action '%s'", what);
	if (argc != 5)
		return cmd_usage_error(e, "storage", "%s: expected one %s", what,
				       what[0] == 'a' ? "SIZE" : "SERIAL");
	/* Its disks are volumes of that server's pool: not done yet. */
	if (lab_host_server(&c->v.ls.dirs, c->ph->spec->name))
		return xerr_set(e, XERR_USAGE,
				"host '%s' runs on server '%s': %s there is not done yet; give the "
				"host the disk in the spec's `disks:` and `xlab up --recreate`",
				c->ph->spec->name, lab_host_server(&c->v.ls.dirs, c->ph->spec->name),
				what);
	if (virt_open(virt_default_uri(NULL, c->v.spec->libvirt_uri), &virt, e) < 0)
		return -1;
	rc = what[0] == 'a' ? add_disk(c, virt, argv[4], e) : remove_disk(c, virt, argv[4], e);
	virt_close(virt);
	return rc;
}

static const struct plan_host *plan_host_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_hosts; i++)
		if (!strcmp(p->hosts[i].spec->name, name))
			return &p->hosts[i];
	return NULL;
}

int cmd_storage(int argc, char **argv, struct xerr *e)
{
	struct storage_ctx c = { .lock = -1 };
	bool json = argc == 4 && !strcmp(argv[3], "--json");
	int rc = -1;

	if (argc < 3)
		return cmd_usage_error(e, "storage", "expected LAB and HOST");
	if (labview_load(argv[1], &c.v, e) < 0 || labview_plan(&c.v, NULL, e) < 0)
		goto out;
	c.ph = plan_host_find(c.v.plan, argv[2]);
	if (!c.ph || !labstate_host(&c.v.ls, argv[2])) {
		labstate_no_such(&c.v.ls, "host", argv[2], e);
		goto out;
	}
	rc = argc == 3 || json ? storage_show(&c, json, e) : storage_do(&c, argc, argv, e);
out:
	if (c.run_started)
		run_end(&c.run, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
	if (c.lock >= 0)
		lab_unlock(c.lock);
	labview_free(&c.v);
	return rc;
}
