/* The agent's parsers on output captured from a real Xen 4.17 dom0 of an
 * xlab lab (tests/data/agent/): one guest kg1 on VG xlab over two PVs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "captured.h"
#include "parse.h"
#include "util.h"

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_string(v);
}

static int64_t num(struct json_object *o, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, k, &v), "no %s", k);
	cr_assert(json_object_is_type(v, json_type_int), "%s is not an integer", k);
	return json_object_get_int64(v);
}

Test(agent_captured, xl_info)
{
	_cleanup_free_ char *text = captured("xl-info-4.17.txt");
	struct json_object *o = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(xl_info_parse(text, &o, &e), 0, "%s", e.msg);
	cr_assert_str_eq(str(o, "xen_version"), "4.17.5");
	cr_assert_not_null(strstr(str(o, "xen_caps"), "xen-3.0-x86_64"));
	cr_assert_eq(num(o, "total_memory"), 1535);
	cr_assert_eq(num(o, "free_memory"), 620);
	cr_assert_eq(num(o, "nr_cpus"), 2);
	cr_assert_str_eq(str(o, "virt_caps"), "pv hvm shadow gnttab-v1 gnttab-v2");
	json_object_put(o);
}

/* What virt_caps lets a guest type run: PVH and HVM need "hvm" and a
 * paging mode (Debian's 4.20 has no shadow, so HAP or nothing); asked to
 * prefer shadow (TCG), a Xen with both runs the guest on shadow and one
 * without is refused (HAP over TCG triple-faults guests at random). */
Test(agent_captured, guest_types_by_virt_caps)
{
	static const struct {
		const char *caps, *type;
		bool prefer_shadow, hap_off;
		const char *refusal;
	} cases[] = {
		{ "pv hvm shadow gnttab-v1 gnttab-v2", "hvm", true, false, NULL },
		{ "pv hvm shadow gnttab-v1 gnttab-v2", "pvh", false, false, NULL },
		{ "pv hvm hap gnttab-v1", "pvh", false, false, NULL },
		{ "pv hvm hap gnttab-v1", "pvh", true, false,
		  "no shadow paging (xl info virt_caps: pv hvm hap gnttab-v1), and under TCG a "
		  "pvh guest" },
		{ "pv hvm hap shadow gnttab-v1 gnttab-v2", "pvh", true, true, NULL },
		{ "pv hvm hvm_directio pv_directio hap shadow", "hvm", true, true, NULL },
		{ "pv hvm hvm_directio pv_directio hap shadow", "hvm", false, false, NULL },
		{ "pv hvm hap shadow", "pv", true, false, NULL },
		{ "pv", "pv", false, false, NULL },
		{ NULL, "hvm", true, false, NULL },
		{ "pv hvm", "pvh", false, false,
		  "neither HAP nor shadow paging (xl info virt_caps: pv hvm)" },
		{ "pv hvm_directio hap", "hvm", false, false, "no hardware virtualization" },
		{ "pv shadowy", "hvm", false, false, "cannot run hvm guests" },
		{ "pv hvm haps", "pvh", false, false, "neither HAP" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xerr e = { 0 };
		bool hap_off = !cases[i].hap_off;
		int rc = guest_paging_choose(cases[i].caps, cases[i].type, cases[i].prefer_shadow,
					     &hap_off, &e);

		if (!cases[i].refusal) {
			cr_expect_eq(rc, 0, "%s on '%s': %s", cases[i].type, cases[i].caps, e.msg);
			cr_expect_eq(hap_off, cases[i].hap_off, "%s on '%s'", cases[i].type,
				     cases[i].caps);
			continue;
		}
		cr_expect_eq(rc, -1, "%s on '%s' accepted", cases[i].type, cases[i].caps);
		cr_expect(strstr(e.msg, cases[i].refusal), "%s", e.msg);
	}
}

Test(agent_captured, lvm_reports)
{
	_cleanup_free_ char *vgs = captured("vgs.json");
	_cleanup_free_ char *pvs = captured("pvs.json");
	_cleanup_free_ char *lvs = captured("lvs.json");
	struct json_object *v = NULL, *p = NULL, *l = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(lvm_report_parse(vgs, "vg", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(v), 1);
	cr_assert_eq(num(json_object_array_get_idx(v, 0), "vg_size"), 3212836864);
	cr_assert_eq(num(json_object_array_get_idx(v, 0), "pv_count"), 2);
	cr_assert_eq(lvm_report_parse(pvs, "pv", &p, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(p), 2);
	cr_assert_str_eq(str(json_object_array_get_idx(p, 1), "pv_name"), "/dev/vdd");
	cr_assert_eq(num(json_object_array_get_idx(p, 1), "pv_free"), 1069547520);
	cr_assert_eq(lvm_report_parse(lvs, "lv", &l, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(l), 1);
	cr_assert_str_eq(str(json_object_array_get_idx(l, 0), "lv_name"), "kg1");
	cr_assert_eq(num(json_object_array_get_idx(l, 0), "lv_size"), 268435456);
	json_object_put(v);
	json_object_put(p);
	json_object_put(l);
}

Test(agent_captured, xl_list_with_long_form)
{
	_cleanup_free_ char *plain = captured("xl-list.txt");
	_cleanup_free_ char *lng = captured("xl-list-long.json");
	struct json_object *list = NULL, *g;
	struct xerr e = { 0 };

	cr_assert_eq(xl_list_parse(plain, &list, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(list), 2);
	cr_assert_eq(xl_list_long_merge(list, lng, &e), 0, "%s", e.msg);
	cr_assert_str_eq(str(json_object_array_get_idx(list, 0), "name"), "Domain-0");
	cr_assert_eq(num(json_object_array_get_idx(list, 0), "memory_kib"), 786431,
		     "target_memkb from xl list -l, where the table rounds to 768");
	g = json_object_array_get_idx(list, 1);
	cr_assert_str_eq(str(g, "name"), "kg1");
	cr_assert_eq(num(g, "domid"), 1);
	cr_assert_eq(num(g, "memory_kib"), 131072);
	cr_assert_eq(num(g, "vcpus"), 1);
	cr_assert_str_eq(str(g, "state"), "-b----");
	cr_assert_str_eq(str(g, "type"), "pv", "c_info.type from xl list -l");
	json_object_put(list);
}
