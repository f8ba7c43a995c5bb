/* The host checks' decisions (agents/hostcheck.c) on output of real dom0s:
 * `xl dmesg` of Xen 4.17 and 4.20 hosts booted by xlab under TCG, and
 * `xl list`, `lvs` and `xenstore-ls -f /local/domain` of a Xen 4.17 dom0
 * running one guest g1 (tests/data/agent/). Healthy boot lines must not
 * match a pattern (too broad would fail every lab), and each of Xen's bug
 * paths must (one missing would pass a crashed Xen). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "captured.h"
#include "hostcheck.h"
#include "parse.h"
#include "util.h"

/* ---- xen-dmesg-clean ---- */

/* Both hold lines a loose pattern would take: "debug=n" in the banner
 * ("bug"), "Std. Loglevel: Errors and warnings" ("warn"). */
Test(hostcheck, real_boots_are_clean)
{
	static const struct {
		const char *file;
		size_t lines;
	} boots[] = { { "xl-dmesg-4.17.txt", 84 }, { "xl-dmesg-4.20.txt", 148 } };

	for (size_t i = 0; i < ARRAY_SIZE(boots); i++) {
		_cleanup_free_ char *text = captured(boots[i].file);
		_cleanup_strv_ char **bad = NULL;
		size_t xen_lines;

		bad = xen_dmesg_bugs(text, &xen_lines);
		cr_assert_null(bad[0], "%s: '%s' taken for a bug", boots[i].file, bad[0]);
		cr_assert_eq(xen_lines, boots[i].lines, "%s", boots[i].file);
	}
}

/* What healthy hosts print that a careless pattern ("WARN", "FATAL",
 * "fault", "BUG") would take for a bug: Xen's boot warnings (the text of
 * console.c's sync_console banner and spec_ctrl.c's warning_add()s, framed
 * by warning.c), messages of a host that works, a guest's own crash, and a
 * guest's debug output that only looks like Xen's. */
Test(hostcheck, healthy_lines_are_not_bugs)
{
	static const char *const fine[] = {
		"(XEN) ***************************************************",
		"(XEN) WARNING: CONSOLE OUTPUT IS SYNCHRONOUS",
		"(XEN) This option is intended to aid debugging of Xen by ensuring",
		"(XEN) timekeeping. It is NOT recommended for production use!",
		"(XEN) Booted on L1TF-vulnerable hardware with SMT/Hyperthreading",
		"(XEN) enabled.  Please assess your configuration and choose an",
		"(XEN) 3... 2... 1... ",
		"(XEN) WARNING: Buggy e820 map detected; truncated length",
		"(XEN) Warning: Most 32-bit PV guests will not work without NX",
		"(XEN) mtrr: your CPUs had inconsistent fixed MTRR settings",
		"(XEN) Speculative mitigation facilities:",
		"(XEN)   PV L1TF shadowing: Dom0 disabled, DomU disabled",
		"(XEN) TSC only partially writable",
		"(XEN) *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)",
		"(XEN) d1v0 Triple fault - invoking HVM shutdown action 1",
		"(XEN) Assertion checks are compiled in (debug=y)",
		"(d1) Xen BUG at fake.c:1",
		"(d2) Panic on CPU 0:",
		"Xen WARN at a line that is not Xen's",
		"",
	};

	for (size_t i = 0; i < ARRAY_SIZE(fine); i++) {
		const struct xen_dmesg_pattern *p = xen_dmesg_line_bug(fine[i]);

		cr_assert_null(p, "'%s' matched \"%s\"", fine[i], p ? p->has : "");
	}
}

/* Real-looking lines of each of Xen's bug paths (their format strings in
 * Xen 4.17 and 4.20); every pattern of the list is hit by one. */
Test(hostcheck, every_bug_path_is_found)
{
	static const struct {
		const char *line, *has;
	} bugs[] = {
		{ "(XEN) Xen BUG at common/sched/core.c:1234", "Xen BUG at" },
		{ "(XEN) Xen WARN at arch/x86/mm/p2m.c:2406", "Xen WARN at" },
		{ "(XEN) Assertion 'v->is_running' failed at arch/x86/domain.c:2101",
		  "Assertion '" },
		{ "(XEN) Assertion '!in_irq() && (local_irq_is_enabled() || num_online_cpus() "
		  "<= 1)' failed at common/xmalloc_tlsf.c:714",
		  "Assertion '" },
		{ "(XEN) Panic on CPU 1:", "Panic on CPU" },
		{ "(XEN) FATAL TRAP: vector = 6 (invalid opcode)", "FATAL TRAP" },
		{ "(XEN) FATAL TRAP: vec 14, #PF[0002] IN INTERRUPT CONTEXT", "FATAL TRAP" },
		{ "(XEN) FATAL PAGE FAULT", "FATAL PAGE FAULT" },
		{ "(XEN) GENERAL PROTECTION FAULT", "GENERAL PROTECTION FAULT" },
		{ "(XEN) *** DOUBLE FAULT ***", "DOUBLE FAULT" },
		{ "(XEN) CONTROL-FLOW PROTECTION FAULT: #CP[0003] ret", "CONTROL-FLOW PROTECTION FAULT" },
		{ "(XEN) [  123.456789] Xen WARN at drivers/passthrough/iommu.c:9", "Xen WARN at" },
	};
	bool hit[32] = { false };

	cr_assert_leq(xen_dmesg_n_patterns, ARRAY_SIZE(hit));
	for (size_t i = 0; i < ARRAY_SIZE(bugs); i++) {
		const struct xen_dmesg_pattern *p = xen_dmesg_line_bug(bugs[i].line);

		cr_assert_not_null(p, "'%s' not found", bugs[i].line);
		cr_assert_str_eq(p->has, bugs[i].has, "%s", bugs[i].line);
		hit[p - xen_dmesg_patterns] = true;
	}
	for (size_t i = 0; i < xen_dmesg_n_patterns; i++)
		cr_assert(hit[i], "pattern \"%s\" has no line in this test", xen_dmesg_patterns[i].has);
	/* An assertion's words are both parts, in order. */
	cr_assert_null(xen_dmesg_line_bug("(XEN) Assertion 'x' holds"));
	cr_assert_null(xen_dmesg_line_bug("(XEN) ' failed at x.c:1 Assertion '"));
}

/* A host that warned and then died: the boot as it was, then the lines
 * BUG() and panic() print. The result is every offending line, in order,
 * as xl dmesg printed it (a \r of a serial capture dropped). */
Test(hostcheck, a_crash_gives_its_lines)
{
	_cleanup_free_ char *boot = captured("xl-dmesg-4.17.txt");
	_cleanup_free_ char *text = xasprintf(
		"%s"
		"(XEN) Xen WARN at arch/x86/hvm/vmx/vmcs.c:1851\r\n"
		"(XEN) ----[ Xen-4.17.5  x86_64  debug=n  Not tainted ]----\n"
		"(XEN) CPU:    1\n"
		"(XEN) Xen call trace:\n"
		"(XEN)    [<ffff82d04023a1b2>] R vmx_vmcs_enter+0x42/0x80\n"
		"(XEN) Xen BUG at common/page_alloc.c:1400\n"
		"(XEN) \n"
		"(XEN) ****************************************\n"
		"(XEN) Panic on CPU 1:\n"
		"(XEN) Xen BUG at common/page_alloc.c:1400\n"
		"(XEN) ****************************************\n"
		"(XEN) \n"
		"(XEN) Reboot in five seconds...",
		boot);
	_cleanup_strv_ char **bad = NULL;
	size_t xen_lines;

	bad = xen_dmesg_bugs(text, &xen_lines);
	cr_assert_eq(strv_len(bad), 4);
	cr_assert_str_eq(bad[0], "(XEN) Xen WARN at arch/x86/hvm/vmx/vmcs.c:1851");
	cr_assert_str_eq(bad[1], "(XEN) Xen BUG at common/page_alloc.c:1400");
	cr_assert_str_eq(bad[2], "(XEN) Panic on CPU 1:");
	cr_assert_str_eq(bad[3], "(XEN) Xen BUG at common/page_alloc.c:1400");
	cr_assert_eq(xen_lines, 84 + 13);
}

Test(hostcheck, a_ring_without_xen_lines_has_none)
{
	_cleanup_strv_ char **bad = NULL;
	size_t xen_lines = 7;

	bad = xen_dmesg_bugs("", &xen_lines);
	cr_assert_null(bad[0]);
	cr_assert_eq(xen_lines, 0, "the op fails a ring of no Xen lines on this");
}

/* ---- leak-check ---- */

struct dom0 {
	struct json_object *domains, *lvs;
	char *xenstore;
};

/* The captured dom0 (g1 running as domain 1, LV xlab/g1); `xs_more` is
 * appended to its xenstore, `lvs_more` rows (JSON objects) to its LVs. */
static void dom0_load(struct dom0 *d, const char *xs_more, const char *lvs_more)
{
	_cleanup_free_ char *list = captured("xl-list-g1.txt");
	_cleanup_free_ char *lvs = captured("lvs-g1.json");
	_cleanup_free_ char *xs = captured("xenstore-ls-g1.txt");
	struct xerr e = { 0 };

	cr_assert_eq(xl_list_parse(list, &d->domains, &e), 0, "%s", e.msg);
	cr_assert_eq(lvm_report_parse(lvs, "lv", &d->lvs, &e), 0, "%s", e.msg);
	if (lvs_more) {
		struct json_object *more = json_tokener_parse(lvs_more);

		cr_assert_not_null(more);
		for (size_t i = 0; i < json_object_array_length(more); i++)
			json_object_array_add(d->lvs,
					      json_object_get(json_object_array_get_idx(more, i)));
		json_object_put(more);
	}
	d->xenstore = xasprintf("%s%s", xs, xs_more ? xs_more : "");
}

static void dom0_free(struct dom0 *d)
{
	json_object_put(d->domains);
	json_object_put(d->lvs);
	free(d->xenstore);
}

/* The leftovers the captured dom0 (with xs_more and lvs_more added) shows a
 * lab that accounts for x; `checked` gets what was looked at. */
static char **leaks_of(const struct leak_expect *x, const char *xs_more, const char *lvs_more,
		       struct buf *checked)
{
	struct dom0 d = { 0 };
	struct leak_seen seen;
	char **found;

	dom0_load(&d, xs_more, lvs_more);
	seen = (struct leak_seen){ d.domains, d.lvs, d.xenstore };
	found = leaks_find(&seen, x, checked);
	dom0_free(&d);
	return found;
}

static const char *const lab_g1[] = { "g1", NULL };
static const char *const lab_vgs[] = { "xlab", "shared", NULL };
static const char *const lab_lvs[] = { "xlab/g1", "xlab/g1-swap", "shared/m1", NULL };
static const char *const none[] = { NULL };

/* The dom0 as the lab left it: Domain-0 and g1, g1's LV, the xenstore of
 * both and g1's three backends. Nothing is left over, and the answer says
 * what was looked at. */
Test(hostcheck, a_clean_dom0_has_no_leaks)
{
	struct leak_expect x = { lab_g1, lab_vgs, lab_lvs };
	struct buf checked = { 0 };
	_cleanup_strv_ char **found = leaks_of(&x, NULL, NULL, &checked);

	cr_assert_null(found[0], "%s", found[0]);
	cr_assert_str_eq(checked.data, "  xl list: Domain-0 (id 0), g1 (id 1)\n"
				       "  LVs in VG xlab, shared: xlab/g1\n"
				       "  xenstore /local/domain: 0, 1\n"
				       "  backends in /local/domain/0/backend: vbd/1, console/1, vif/1\n");
	buf_free(&checked);
}

/* Each kind of leftover, named, to a lab that has no guest on this host
 * (only a shared one elsewhere): a domain it does not account for, LVs of
 * its VGs no guest owns (one in a VG not the lab's is not looked at), the
 * xenstore directory and the backends of a domain that is gone. */
Test(hostcheck, every_leftover_is_named)
{
	static const char xs_more[] =
		"/local/domain/0/backend/vbd/9 = \"\"\n"
		"/local/domain/0/backend/vbd/9/51712 = \"\"\n"
		"/local/domain/0/backend/vbd/9/51712/state = \"6\"\n"
		"/local/domain/0/backend/qdisk/9/51728/state = \"6\"\n"
		"/local/domain/9 = \"\"\n"
		"/local/domain/9/name = \"old\"\n";
	static const char lvs_more[] =
		"[{\"lv_name\":\"old\",\"vg_name\":\"xlab\"},"
		"{\"lv_name\":\"m2\",\"vg_name\":\"shared\"},"
		"{\"lv_name\":\"m1\",\"vg_name\":\"shared\"},"
		"{\"lv_name\":\"root\",\"vg_name\":\"system\"}]";
	static const char *const shared_m1[] = { "shared/m1", "shared/m1-swap", NULL };
	struct leak_expect x = { none, lab_vgs, shared_m1 };
	struct buf checked = { 0 };
	_cleanup_strv_ char **found = leaks_of(&x, xs_more, lvs_more, &checked);

	cr_assert_eq(strv_len(found), 7, "%s", checked.data);
	cr_assert_str_eq(found[0], "domain 'g1' (id 1) is not a guest of the lab on this host");
	cr_assert_str_eq(found[1], "LV xlab/g1 is not a guest's");
	cr_assert_str_eq(found[2], "LV xlab/old is not a guest's");
	cr_assert_str_eq(found[3], "LV shared/m2 is not a guest's");
	cr_assert_str_eq(found[4], "xenstore /local/domain/9 has no running domain");
	cr_assert_str_eq(found[5], "vbd backend for domain 9 has no running domain");
	cr_assert_str_eq(found[6], "qdisk backend for domain 9 has no running domain");
	cr_assert(strstr(checked.data, "LVs in VG xlab, shared: xlab/g1, xlab/old, shared/m2, "
				       "shared/m1\n"),
		  "%s", checked.data);
	cr_assert(strstr(checked.data, "xenstore /local/domain: 0, 1, 9\n"), "%s", checked.data);
	buf_free(&checked);
}

/* A tool that could not be read is no leak (the op says the tool failed):
 * without xl's list, xenstore is not compared, since every domain in it
 * would look left over. */
Test(hostcheck, what_was_not_read_is_said)
{
	_cleanup_free_ char *xs = captured("xenstore-ls-g1.txt");
	struct leak_expect x = { lab_g1, lab_vgs, lab_lvs };
	struct leak_seen seen = { NULL, NULL, xs };
	struct buf checked = { 0 };
	_cleanup_strv_ char **found = leaks_find(&seen, &x, &checked);

	cr_assert_null(found[0], "%s", found[0]);
	cr_assert_str_eq(checked.data, "  xl list: not read\n"
				       "  LVs in VG xlab, shared: not read\n"
				       "  xenstore /local/domain: not compared\n");
	buf_free(&checked);
}
