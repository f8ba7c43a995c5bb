/* facts: what the controller needs to know about a dom0 before using it. */
#include "ops.h"
#include "parse.h"
#include "sys.h"
#include "util.h"

static int facts_lvm(struct json_object *r, struct xerr *e)
{
	static const struct {
		const char *tool, *kind, *fields, *key;
	} reports[] = {
		{ "vgs", "vg", "vg_name,vg_size,vg_free,pv_count,lv_count", AGENT_RES_VGS },
		{ "pvs", "pv", "pv_name,vg_name,pv_size,pv_free,pv_used", AGENT_RES_PVS },
		{ "lvs", "lv", "lv_name,vg_name,lv_size,lv_path,lv_attr", AGENT_RES_LVS },
	};

	for (size_t i = 0; i < ARRAY_SIZE(reports); i++) {
		struct json_object *rows;

		if (lvm_report(reports[i].tool, reports[i].kind, reports[i].fields, NULL, &rows,
			       e) < 0)
			return -1;
		json_object_object_add(r, reports[i].key, rows);
	}
	return 0;
}

int xl_info(struct json_object **out, struct xerr *e)
{
	struct spawn_result res;
	int rc;

	if (agent_cmd((char *[]){ "xl", "info", NULL }, 0, 60, &res, e) < 0)
		return -1;
	rc = xl_info_parse(res.out ? res.out : "", out, e);
	spawn_result_free(&res);
	return rc;
}

int op_facts(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct json_object *r;

	(void)args;
	if (xl_info(&r, e) < 0)
		return -1;
	if (facts_lvm(r, e) < 0) {
		json_object_put(r);
		return -1;
	}
	*result = r;
	return 0;
}
