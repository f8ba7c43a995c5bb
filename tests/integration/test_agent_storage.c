/* The storage ops in a dom0 of fake LVM tools (fakedom0.h): the volume
 * group on the data disks and its logical volumes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agentrun.h"
#include "dom0paths.h"
#include "fakedom0.h"
#include "util.h"

TestSuite(agent_fake_dom0, .fini = fake_dom0_cleanup);

Test(agent_fake_dom0, storage_ops_are_idempotent)
{
	static const char init[] = "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\","
				   "\"extra_serials\":[\"xlab-extra1\"]}";
	struct fake_dom0 *f;
	struct json_object *resp, *res;

	f = fake_dom0_start();
	/* The disks can be read, and carry no LVM label yet: a new host. */
	{
		char blank[4097];

		memset(blank, ' ', sizeof(blank) - 1);
		blank[sizeof(blank) - 1] = '\0';
		put_file(f->state, "/dev/vdb", blank);
		put_file(f->state, "/dev/vdc", blank);
	}
	resp = fcall(f, "storage.init", init);
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "created")));
	cr_assert_str_eq(json_object_get_string(get(res, "vg")), "xlab");
	json_object_put(resp);
	cr_assert_eq(count_calls(f, " pvs"), 0, "blank disks: no report before, none after");

	resp = fcall(f, "storage.init", init);
	res = expect_ok(resp, f->next_id);
	cr_assert(!json_object_get_boolean(get(res, "created")));
	json_object_put(resp);
	/* vgcreate and vgextend make the disks PVs themselves; disks with no
	 * LVM label need no report first, and on an up again one pvs report
	 * tells whether the VG is there. */
	cr_assert_eq(count_calls(f, "pvcreate"), 0);
	cr_assert_eq(count_calls(f, "vgcreate -y xlab /dev/vdb"), 1);
	cr_assert_eq(count_calls(f, "vgextend -y xlab /dev/vdc"), 1);
	cr_assert_eq(count_calls(f, " vgs"), 0);
	cr_assert_eq(count_calls(f, " pvs"), 1, "first init (blank disks): none; again: once");
	cr_assert_eq(count_calls(f, "DM_DISABLE_UDEV= "), 0, "LVM always runs without udev");

	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\","
					"\"extra_serials\":[\"xlab-extra9\"]}");
	expect_err(resp, "enoent");
	json_object_put(resp);
	resp = fcall(f, "storage.init", "{\"vg\":\"-xlab\",\"data_serial\":\"xlab-data\"}");
	expect_err(resp, "einval");
	json_object_put(resp);

	resp = fcall(f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
					     "\"size_bytes\":67108864}");
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_get_int64(get(res, "lv_size")), 67108864);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "lvcreate -y -Wy -Zy -n data1 -L 67108864b xlab"), 1);
	/* It exists: lvcreate refuses, lvs finds it; not made again, no error,
	 * active or not (no /dev entry: nothing trusts one). */
	resp = fcall(f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
					     "\"size_bytes\":67108864}");
	cr_assert(!json_object_get_boolean(get(expect_ok(resp, f->next_id), "created")));
	json_object_put(resp);
	cr_assert_eq(count_calls(f, " lvcreate "), 2);
	cr_assert_eq(count_calls(f, " lvs "), 3, "a new LV: its row; an old one: found, its row");
	{
		char node[4096];

		snprintf(node, sizeof(node), "%s/dev/xlab/data1", f->state);
		cr_assert_eq(unlink(node), 0);
		resp = fcall(f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
						     "\"size_bytes\":67108864}");
		cr_assert(!json_object_get_boolean(get(expect_ok(resp, f->next_id), "created")));
		json_object_put(resp);
		cr_assert_eq(count_calls(f, " lvcreate "), 3);
		put_file(f->state, "/dev/xlab/data1", "");
	}
	/* A VG that is not there: lvcreate's refusal is the answer. */
	resp = fcall(f, "storage.lv_create", "{\"vg\":\"nosuch\",\"name\":\"data1\","
					     "\"size_bytes\":67108864}");
	cr_assert(strstr(expect_err(resp, "efail"), "nosuch"), "%s", json_object_to_json_string(resp));
	json_object_put(resp);

	resp = fcall(f, "storage.lvs", "{\"vg\":\"xlab\"}");
	res = get(expect_ok(resp, f->next_id), "lvs");
	cr_assert_eq(json_object_array_length(res), 1);
	cr_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(res, 0), "lv_name")),
			 "data1");
	json_object_put(resp);

	resp = fcall(f, "storage.vg_reduce", "{\"vg\":\"xlab\",\"device\":\"/dev/vdc\"}");
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "removed")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 1);
	json_object_put(resp);
	put_file(f->state, "/pv_used/vdb", "67108864");
	resp = fcall(f, "storage.vg_reduce", "{\"vg\":\"xlab\",\"device\":\"/dev/vdb\"}");
	cr_assert(strstr(expect_err(resp, "einval"), "/dev/vdb"));
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "vgreduce xlab /dev/vdb"), 0);

	resp = fcall(f, "storage.vg_extend", "{\"vg\":\"xlab\",\"device\":\"/dev/vdc\"}");
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "added")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	resp = fcall(f, "storage.vg_extend", "{\"vg\":\"xlab\",\"device\":\"/dev/../etc\"}");
	expect_err(resp, "einval");
	json_object_put(resp);

	resp = fcall(f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"data1\"}");
	cr_assert(json_object_get_boolean(get(expect_ok(resp, f->next_id), "removed")));
	json_object_put(resp);
	resp = fcall(f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"data1\"}");
	cr_assert(!json_object_get_boolean(get(expect_ok(resp, f->next_id), "removed")));
	json_object_put(resp);

	resp = fcall(f, "facts", "{}");
	res = expect_ok(resp, f->next_id);
	cr_assert_str_eq(json_object_get_string(get(res, "xen_version")), "4.17.5");
	cr_assert_eq(json_object_get_int(get(res, "free_memory")), 2863);
	cr_assert_eq(json_object_array_length(get(res, "vgs")), 1);
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	fake_dom0_stop(f);
}

/* A disk the controller hot-plugs joins the VG once it shows up; leaving,
 * its extents are moved off first (when another PV has room: else it stays
 * in the VG and the answer says why), then vgreduce and pvremove, so the
 * controller may unplug it. Asking twice changes nothing the second time. */
Test(agent_fake_dom0, disk_add_and_remove, .timeout = 90)
{
	static const char add[] = "{\"vg\":\"xlab\",\"serial\":\"xlab-extra1\"}";
	struct fake_dom0 *f;
	struct json_object *resp, *res;
	const char *msg;
	pid_t plug;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	for (int i = 0; i < 2; i++) {
		resp = fcall(f, "storage.disk_add", add);
		res = expect_ok(resp, f->next_id);
		cr_assert_str_eq(json_object_get_string(get(res, "device")), "/dev/vdc");
		cr_assert_eq(json_object_get_boolean(get(res, "added")), i == 0, "call %d", i + 1);
		cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
		cr_assert_eq(json_object_get_int64(get(res, "size_bytes")), 2 * 10737418240LL);
		json_object_put(resp);
	}
	cr_assert_eq(count_calls(f, "vgextend -y xlab /dev/vdc"), 1);

	/* The disk libvirt attaches appears in the dom0 a moment later. */
	plug = fork();
	cr_assert(plug >= 0);
	if (plug == 0) {
		usleep(700 * 1000);
		put_file(f->prefix, "/sys/block/vdd/serial", "xlab-hot\n");
		_exit(0);
	}
	resp = fcall(f, "storage.disk_add", "{\"vg\":\"xlab\",\"serial\":\"xlab-hot\","
					    "\"timeout_s\":10}");
	res = expect_ok(resp, f->next_id);
	cr_assert_str_eq(json_object_get_string(get(res, "device")), "/dev/vdd");
	cr_assert(json_object_get_boolean(get(res, "added")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 3);
	json_object_put(resp);
	waitpid(plug, NULL, 0);
	resp = fcall(f, "storage.disk_add", "{\"vg\":\"xlab\",\"serial\":\"xlab-absent\","
					    "\"timeout_s\":1}");
	msg = expect_err(resp, "enoent");
	cr_assert(strstr(msg, "'xlab-absent'") && strstr(msg, "after 1 s"), "%s", msg);
	json_object_put(resp);

	/* 64 MiB on vdc and no room for it on the others: it stays. */
	put_file(f->state, "/pv_used/vdb", "10737418240");
	put_file(f->state, "/pv_used/vdd", "10737418240");
	put_file(f->state, "/pv_used/vdc", "67108864");
	resp = fcall(f, "storage.disk_remove", add);
	msg = expect_err(resp, "efail");
	cr_assert(strstr(msg, "moving 67108864 bytes off /dev/vdc"), "%s", msg);
	cr_assert(strstr(msg, "Insufficient free space"), "pvmove's words: %s", msg);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "vgreduce xlab /dev/vdc"), 0);
	cr_assert_eq(count_calls(f, "pvremove"), 0);

	put_file(f->state, "/pv_used/vdb", "0");
	resp = fcall(f, "storage.disk_remove", add);
	res = expect_ok(resp, f->next_id);
	cr_assert_str_eq(json_object_get_string(get(res, "device")), "/dev/vdc");
	cr_assert_eq(json_object_get_int64(get(res, "moved_bytes")), 67108864);
	cr_assert(json_object_get_boolean(get(res, "removed")));
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "pvmove /dev/vdc"), 2, "the refused one and this");
	cr_assert_eq(count_calls(f, "DM_DISABLE_UDEV=1 vgreduce xlab /dev/vdc"), 1);
	cr_assert_eq(count_calls(f, "DM_DISABLE_UDEV=1 pvremove -y /dev/vdc"), 1);

	resp = fcall(f, "storage.disk_remove", add);
	res = expect_ok(resp, f->next_id);
	cr_assert(!json_object_get_boolean(get(res, "removed")));
	cr_assert_eq(json_object_get_int64(get(res, "moved_bytes")), 0);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "pvremove"), 1, "a disk already out is left alone");

	resp = fcall(f, "facts", "{}");
	cr_assert_eq(json_object_array_length(get(expect_ok(resp, f->next_id), "pvs")), 2,
		     "vdb and vdd");
	json_object_put(resp);
	fake_dom0_stop(f);
}

/* Serials become /sys paths and names become LVM argv: a malformed one is
 * refused (einval) before any tool runs, and so is a disk of another VG. */
Test(agent_fake_dom0, disk_ops_refuse_bad_arguments, .timeout = 90)
{
	static const char *const bad[] = {
		"{\"vg\":\"xlab\",\"serial\":\"../vdb\"}",
		"{\"vg\":\"xlab\",\"serial\":\"\"}",
		"{\"vg\":\"xlab\",\"serial\":7}",
		"{\"vg\":\"xlab\"}",
		"{\"serial\":\"xlab-extra1\"}",
		"{\"vg\":\"-xlab\",\"serial\":\"xlab-extra1\"}",
	};
	struct fake_dom0 *f;
	struct json_object *resp;
	const char *msg;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	resp = fcall(f, "storage.init", "{\"vg\":\"other\",\"data_serial\":\"xlab-extra1\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		resp = fcall(f, "storage.disk_add", bad[i]);
		expect_err(resp, "einval");
		json_object_put(resp);
		resp = fcall(f, "storage.disk_remove", bad[i]);
		expect_err(resp, "einval");
		json_object_put(resp);
	}
	resp = fcall(f, "storage.disk_add", "{\"vg\":\"xlab\",\"serial\":\"xlab-extra1\","
					    "\"timeout_s\":0}");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(f, "storage.disk_remove", "{\"vg\":\"xlab\",\"serial\":\"xlab-nothere\"}");
	cr_assert(strstr(expect_err(resp, "enoent"), "'xlab-nothere'"));
	json_object_put(resp);

	resp = fcall(f, "storage.disk_add", "{\"vg\":\"xlab\",\"serial\":\"xlab-extra1\"}");
	msg = expect_err(resp, "einval");
	cr_assert(strstr(msg, "/dev/vdc already belongs to volume group 'other'"), "%s", msg);
	json_object_put(resp);
	resp = fcall(f, "storage.disk_remove", "{\"vg\":\"xlab\",\"serial\":\"xlab-extra1\"}");
	msg = expect_err(resp, "einval");
	cr_assert(strstr(msg, "/dev/vdc belongs to volume group 'other', not 'xlab'"), "%s", msg);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "vgextend"), 0);
	cr_assert_eq(count_calls(f, "pvmove"), 0);
	cr_assert_eq(count_calls(f, "vgreduce"), 0);
	cr_assert_eq(count_calls(f, "pvremove"), 0);
	fake_dom0_stop(f);
}

/* xlab-init starts sshd before Xen's daemons: op (args) asked of a new
 * dom0 whose daemons "start" half a second later, when a child removes the
 * marker. Returns how long the answer took; *lvm_first: whether LVM had run
 * by the time the marker went. The answer must be ok. */
static int64_t asked_while_daemons_start(const char *op, const char *args, bool *lvm_first)
{
	struct fake_dom0 *f = fake_dom0_start();
	_cleanup_free_ char *marker = xasprintf("%s%s", f->prefix, DOM0_XEN_STARTING);
	struct json_object *resp;
	int64_t t0, took;
	int status;
	pid_t pid;

	put_file(f->prefix, DOM0_XEN_STARTING, "");
	t0 = now_ms();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		usleep(500 * 1000);
		_exit(unlink(marker) == 0 ? count_calls(f, "vgcreate") ? 0 : 2 : 1);
	}
	resp = fcall(f, op, args);
	took = now_ms() - t0;
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 1, "the marker was not removed");
	*lvm_first = WEXITSTATUS(status) == 0;
	fake_dom0_stop(f);
	return took;
}

/* storage.init makes the VG while Xen's daemons start, then answers once
 * they run: up's hosts are ready for xl whoever runs it. */
Test(agent_fake_dom0, storage_init_ends_once_the_xen_daemons_run, .timeout = 90)
{
	bool lvm_first;

	cr_assert_geq(asked_while_daemons_start("storage.init",
						"{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}",
						&lvm_first),
		      500, "storage.init answered before the marker went");
	cr_assert(lvm_first, "the VG was not made while the daemons started");
}

/* xl, and a test's command (which may run it through a shell), wait. */
Test(agent_fake_dom0, xl_waits_for_the_xen_daemons, .timeout = 90)
{
	bool lvm_first;

	cr_assert_geq(asked_while_daemons_start("guest.list", "{}", &lvm_first), 500,
		      "guest.list answered before the marker went");
	cr_assert_geq(asked_while_daemons_start("run", "{\"argv\":[\"true\"]}", &lvm_first), 500,
		      "run answered before the marker went");
}
