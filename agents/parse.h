/* Parsers of the dom0 tools' output (xl, LVM). Pure, so they are tested on
 * captured output without Xen. */
#ifndef XLAB_AGENT_PARSE_H
#define XLAB_AGENT_PARSE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "err.h"

/* `xl info` ("key : value" lines) -> {xen_version, xen_caps, virt_caps
 * (when xl says), total_memory, free_memory (MiB, as xl prints them),
 * nr_cpus}. */
int xl_info_parse(const char *text, struct json_object **out, struct xerr *e);

/* Whether a Xen whose `xl info` says virt_caps (NULL: an older xl that does
 * not say) can run a guest of type "pv", "pvh" or "hvm": PVH and HVM need
 * hardware virtualization and HAP or shadow paging. prefer_shadow (TCG)
 * asks for shadow paging and refuses a Xen without it; *hap_off: the
 * guest's config gets `hap = 0` (Xen has both). */
int guest_paging_choose(const char *virt_caps, const char *type, bool prefer_shadow,
			bool *hap_off, struct xerr *e);

/* `vgs|pvs|lvs --reportformat json --units b --nosuffix` -> the array of
 * `kind` ("vg", "pv", "lv") rows; sizes and counts become integers. */
int lvm_report_parse(const char *text, const char *kind, struct json_object **out,
		     struct xerr *e);

/* Plain `xl list` -> [{name, domid, memory_kib, vcpus, state, time_s}]. */
int xl_list_parse(const char *text, struct json_object **out, struct xerr *e);
/* Overrides memory_kib/vcpus of `list` rows from `xl list -l` JSON, which is
 * exact where the plain table rounds to MiB, and adds the guest's type
 * ("pv", "pvh", "hvm"). Unknown rows are left alone. */
int xl_list_long_merge(struct json_object *list, const char *json, struct xerr *e);

#endif
