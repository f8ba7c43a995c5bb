/* What the host checks (host.check) decide, apart from running anything:
 * whether a line of `xl dmesg` says Xen hit a bug, and what a dom0 shows that
 * its lab does not account for. Pure, so the unit tests feed them captured
 * output of real dom0s. */
#ifndef XLAB_AGENT_HOSTCHECK_H
#define XLAB_AGENT_HOSTCHECK_H

#include <json-c/json.h>

#include "util.h"

/* ---- xen-dmesg-clean ---- */

/* A line says Xen hit a bug when it holds `has`, and after it `then` when
 * that is set (an assertion's expression sits between the two). */
struct xen_dmesg_pattern {
	const char *has, *then;
	const char *what; /* which of Xen's bug paths prints it */
};

/* The list docs/spec.md gives: text that Xen's own bug paths print (BUG(),
 * WARN(), ASSERT(), panic(), the fatal traps) and no healthy boot does. */
extern const struct xen_dmesg_pattern xen_dmesg_patterns[];
extern const size_t xen_dmesg_n_patterns;

/* The pattern a line of `xl dmesg` matches, or NULL. Only Xen's own lines
 * ("(XEN) ...") are read: a guest's debug output ("(d1) ...") cannot pass
 * for the hypervisor's. */
const struct xen_dmesg_pattern *xen_dmesg_line_bug(const char *line);

/* Each line of `xl dmesg` text that says Xen hit a bug, in order
 * (NULL-terminated, strv_free); *xen_lines: how many lines were Xen's. */
char **xen_dmesg_bugs(const char *text, size_t *xen_lines);

/* ---- leak-check ---- */

/* What the lab accounts for on one host, each NULL-terminated. */
struct leak_expect {
	const char *const *domains; /* the lab's guests there (Domain-0 always is) */
	const char *const *vgs;     /* the VGs to look in: the lab's, the shared one */
	const char *const *lvs;     /* "VG/NAME": the guests' volumes in them */
};

/* What a dom0 shows, as the agent read it. */
struct leak_seen {
	struct json_object *domains; /* xl_list_parse rows: name, domid */
	struct json_object *lvs;     /* lvm_report_parse "lv" rows: lv_name, vg_name */
	const char *xenstore;        /* `xenstore-ls -f /local/domain` */
};

/* Every leftover, one sentence each ("domain 'x' (id 7) is not a guest of the
 * lab", "LV xlab/old is not a guest's", "xenstore /local/domain/9 has no
 * running domain", "vbd backend for domain 9 has no running domain"), in
 * that order (NULL-terminated, strv_free). `checked` gets what was looked
 * at, a line per kind, so a pass says what it covered. */
char **leaks_find(const struct leak_seen *seen, const struct leak_expect *x, struct buf *checked);

#endif
