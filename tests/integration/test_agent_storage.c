/* The storage ops in a dom0 of fake LVM tools (fakedom0.h): the volume
 * group on the data disks and its logical volumes. */
#include <criterion/criterion.h>
#include <string.h>

#include <json-c/json.h>

#include "agentrun.h"
#include "fakedom0.h"

Test(agent_fake_dom0, storage_ops_are_idempotent)
{
	static const char init[] = "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\","
				   "\"extra_serials\":[\"xlab-extra1\"]}";
	struct fake_dom0 f;
	struct json_object *resp, *res;

	fake_dom0_start(&f);
	resp = fcall(&f, "storage.init", init);
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_get_int64(get(res, "size_bytes")), 2 * 10737418240LL);
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);

	resp = fcall(&f, "storage.init", init);
	res = expect_ok(resp, f.next_id);
	cr_assert(!json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "pvcreate -y /dev/vdb"), 1);
	cr_assert_eq(count_calls(&f, "vgcreate xlab /dev/vdb"), 1);
	cr_assert_eq(count_calls(&f, "vgextend xlab /dev/vdc"), 1);
	cr_assert_eq(count_calls(&f, "DM_DISABLE_UDEV= "), 0, "LVM always runs without udev");

	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\","
					 "\"extra_serials\":[\"xlab-extra9\"]}");
	expect_err(resp, "enoent");
	json_object_put(resp);
	resp = fcall(&f, "storage.init", "{\"vg\":\"-xlab\",\"data_serial\":\"xlab-data\"}");
	expect_err(resp, "einval");
	json_object_put(resp);

	resp = fcall(&f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
					      "\"size_bytes\":67108864}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_get_int64(get(res, "lv_size")), 67108864);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "lvcreate -y -Wy -Zy -n data1 -L 67108864b xlab"), 1);
	resp = fcall(&f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
					      "\"size_bytes\":67108864}");
	cr_assert(!json_object_get_boolean(get(expect_ok(resp, f.next_id), "created")));
	json_object_put(resp);

	resp = fcall(&f, "storage.lvs", "{\"vg\":\"xlab\"}");
	res = get(expect_ok(resp, f.next_id), "lvs");
	cr_assert_eq(json_object_array_length(res), 1);
	cr_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(res, 0), "lv_name")),
			 "data1");
	json_object_put(resp);

	resp = fcall(&f, "storage.vg_reduce", "{\"vg\":\"xlab\",\"device\":\"/dev/vdc\"}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "removed")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 1);
	json_object_put(resp);
	put_file(f.state, "/pv_used/vdb", "67108864");
	resp = fcall(&f, "storage.vg_reduce", "{\"vg\":\"xlab\",\"device\":\"/dev/vdb\"}");
	cr_assert(strstr(expect_err(resp, "einval"), "/dev/vdb"));
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "vgreduce xlab /dev/vdb"), 0);

	resp = fcall(&f, "storage.vg_extend", "{\"vg\":\"xlab\",\"device\":\"/dev/vdc\"}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "added")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	resp = fcall(&f, "storage.vg_extend", "{\"vg\":\"xlab\",\"device\":\"/dev/../etc\"}");
	expect_err(resp, "einval");
	json_object_put(resp);

	resp = fcall(&f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"data1\"}");
	cr_assert(json_object_get_boolean(get(expect_ok(resp, f.next_id), "removed")));
	json_object_put(resp);
	resp = fcall(&f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"data1\"}");
	cr_assert(!json_object_get_boolean(get(expect_ok(resp, f.next_id), "removed")));
	json_object_put(resp);

	resp = fcall(&f, "facts", "{}");
	res = expect_ok(resp, f.next_id);
	cr_assert_str_eq(json_object_get_string(get(res, "xen_version")), "4.17.5");
	cr_assert_eq(json_object_get_int(get(res, "free_memory")), 2863);
	cr_assert_eq(json_object_array_length(get(res, "vgs")), 1);
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	fake_dom0_stop(&f);
}
