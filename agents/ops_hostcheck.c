/* host.check: osstest's host checks, in a dom0 after the lab's other tests.
 * `leak-check` (osstest's ts-leak-check): no domain, LV of the lab's VGs,
 * xenstore entry under /local/domain or device backend is left that the
 * lab does not account for; the controller says what it accounts for (the
 * guests the store has on this host, their LVs). `xen-dmesg-clean`: no line
 * of `xl dmesg` says Xen hit a bug (hostcheck.c's patterns).
 * What was found is the check's result (passed false, each finding named),
 * not an agent error; so is a tool that could not be run, since a check
 * that cannot look must not pass. */
#include <string.h>

#include "args.h"
#include "hostcheck.h"
#include "ops.h"
#include "parse.h"
#include "sys.h"
#include "util.h"

/* The guests of a lab on one host, and two LVs each (root and swap). */
#define HOSTCHECK_NAMES_MAX 1024
/* A finding quoted from a tool is cut here: a panic's line is not longer. */
#define FINDING_MAX 512
/* So many findings are shown; more are counted. */
#define FINDINGS_SHOWN 64

struct hostcheck {
	int64_t timeout_s;
	char **findings; /* NULL-terminated */
	struct buf log;
};

static void finding_add(struct hostcheck *h, char *msg)
{
	size_t n = strv_len(h->findings);

	if (strlen(msg) > FINDING_MAX)
		strcpy(msg + FINDING_MAX - 3, "...");
	h->findings = xrealloc(h->findings, (n + 2) * sizeof(*h->findings));
	h->findings[n] = msg;
	h->findings[n + 1] = NULL;
}

static void findings_take(struct hostcheck *h, char **found)
{
	for (size_t i = 0; found[i]; i++)
		finding_add(h, found[i]);
	free(found);
}

/* A tool's stdout, or NULL with a finding saying why there is none: it
 * could not be started, timed out or failed (with the first line of what
 * it said). */
static char *tool_out(struct hostcheck *h, char *const argv[], unsigned flags)
{
	struct spawn_result r;
	struct xerr why = { 0 };
	struct buf cmd = { 0 };
	char *out = NULL;
	const char *said;

	for (size_t i = 0; argv[i]; i++)
		buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
	if (agent_cmd(argv, flags | CMD_ANY_EXIT, (int)h->timeout_s, &r, &why) < 0) {
		finding_add(h, xasprintf("could not run %s: %s", cmd.data, why.msg));
		buf_free(&cmd);
		return NULL;
	}
	said = r.err && *r.err ? r.err : (r.out ? r.out : "");
	if (r.status == -1)
		finding_add(h, xasprintf("%s: still running after %lld s", cmd.data,
					 (long long)h->timeout_s));
	else if (r.status != 0)
		finding_add(h, xasprintf("%s failed (exit %d): %.*s", cmd.data, r.status,
					 (int)strcspn(said, "\n"), said));
	else
		out = r.out ? steal_ptr(r.out) : xstrdup("");
	spawn_result_free(&r);
	buf_free(&cmd);
	return out;
}

static const char *const lvs_argv[] = { "lvs", "--reportformat", "json", "--units", "b",
					"--nosuffix", "-o", "lv_name,vg_name", NULL };

static void leak_check(struct hostcheck *h, const struct leak_expect *x)
{
	_cleanup_free_ char *list = tool_out(h, (char *[]){ "xl", "list", NULL }, 0);
	_cleanup_free_ char *lvs = tool_out(h, (char **)lvs_argv, CMD_LVM);
	_cleanup_free_ char *xs = tool_out(h, (char *[]){ "xenstore-ls", "-f", "/local/domain",
							 NULL }, 0);
	struct leak_seen seen = { .xenstore = xs };
	struct buf checked = { 0 };
	struct xerr why = { 0 };

	if (list && xl_list_parse(list, &seen.domains, &why) < 0)
		finding_add(h, xstrdup(why.msg));
	xerr_clear(&why);
	if (lvs && lvm_report_parse(lvs, "lv", &seen.lvs, &why) < 0)
		finding_add(h, xstrdup(why.msg));
	findings_take(h, leaks_find(&seen, x, &checked));
	buf_printf(&h->log, "checked:\n%s  accounted for: guests", checked.data);
	for (const char *const *d = x->domains; *d; d++)
		buf_printf(&h->log, " %s", *d);
	buf_puts(&h->log, x->domains[0] ? "; LVs" : " none; LVs");
	for (const char *const *l = x->lvs; *l; l++)
		buf_printf(&h->log, " %s", *l);
	buf_puts(&h->log, x->lvs[0] ? "\n" : " none\n");
	buf_free(&checked);
	json_object_put(seen.domains);
	json_object_put(seen.lvs);
}

static void dmesg_check(struct hostcheck *h)
{
	_cleanup_free_ char *text = tool_out(h, (char *[]){ "xl", "dmesg", NULL }, 0);
	size_t xen_lines = 0;

	if (!text)
		return;
	findings_take(h, xen_dmesg_bugs(text, &xen_lines));
	/* A ring with nothing of Xen's in it would pass every pattern. */
	if (!xen_lines)
		finding_add(h, xstrdup("xl dmesg printed no line of Xen's (\"(XEN) ...\")"));
	buf_printf(&h->log, "checked: %zu lines of Xen's in xl dmesg, for", xen_lines);
	for (size_t i = 0; i < xen_dmesg_n_patterns; i++) {
		const struct xen_dmesg_pattern *p = &xen_dmesg_patterns[i];

		buf_printf(&h->log, "%s \"%s%s%s\"", i ? "," : "", p->has, p->then ? "..." : "",
			   p->then ? p->then : "");
	}
	buf_puts(&h->log, "\n");
}

/* The names the controller sent: domain and VG names, LVs as VG/NAME. */
static int names_valid(char **v, bool vg_slash_lv, const char *key, struct xerr *e)
{
	for (; *v; v++) {
		_cleanup_free_ char *copy = xstrdup(*v);
		char *slash = strchr(copy, '/');

		if (vg_slash_lv && slash)
			*slash = '\0';
		if (!agent_name_valid(copy) || (vg_slash_lv && (!slash || !agent_name_valid(slash + 1))))
			return xerr_set(e, XERR_USAGE, "argument \"%s\": '%s' is not a %s", key, *v,
					vg_slash_lv ? "VG/LV name" : "name");
	}
	return 0;
}

static int expect_read(struct json_object *args, char ***doms, char ***vgs, char ***lvs,
		       struct xerr *e)
{
	if (arg_strv(args, AGENT_ARG_DOMAINS, false, HOSTCHECK_NAMES_MAX, doms, e) < 0 ||
	    arg_strv(args, AGENT_ARG_VGS, false, 16, vgs, e) < 0 ||
	    arg_strv(args, AGENT_ARG_LVS, false, HOSTCHECK_NAMES_MAX, lvs, e) < 0)
		return -1;
	if (names_valid(*doms, false, AGENT_ARG_DOMAINS, e) < 0 ||
	    names_valid(*vgs, false, AGENT_ARG_VGS, e) < 0 ||
	    names_valid(*lvs, true, AGENT_ARG_LVS, e) < 0)
		return -1;
	return 0;
}

static struct json_object *result_make(struct hostcheck *h, const char *action)
{
	struct json_object *r = json_object_new_object(), *found = json_object_new_array();
	size_t n = strv_len(h->findings);
	struct buf out = { 0 };

	if (n)
		buf_printf(&out, "%s: FAILED, %zu finding(s):\n", action, n);
	else
		buf_printf(&out, "%s: passed, nothing found\n", action);
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(found, json_object_new_string(h->findings[i]));
		if (i < FINDINGS_SHOWN)
			buf_printf(&out, "  %s\n", h->findings[i]);
	}
	if (n > FINDINGS_SHOWN)
		buf_printf(&out, "  ... and %zu more\n", n - FINDINGS_SHOWN);
	buf_puts(&out, h->log.data ? h->log.data : "");
	json_object_object_add(r, AGENT_RES_PASSED, json_object_new_boolean(n == 0));
	json_object_object_add(r, AGENT_RES_OUTPUT, json_object_new_string(out.data));
	json_object_object_add(r, AGENT_RES_FINDINGS, found);
	buf_free(&out);
	return r;
}

int op_host_check(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_strv_ char **doms = NULL, **vgs = NULL, **lvs = NULL;
	struct hostcheck h = { .findings = xcalloc(1, sizeof(char *)) };
	const char *action;
	int rc = -1;

	if (arg_str(args, AGENT_ARG_ACTION, true, &action, e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, 120, 1, 86400, &h.timeout_s, e) < 0)
		goto out;
	if (!strcmp(action, "leak-check")) {
		struct leak_expect x;

		if (expect_read(args, &doms, &vgs, &lvs, e) < 0)
			goto out;
		x = (struct leak_expect){ .domains = (const char *const *)doms,
					  .vgs = (const char *const *)vgs,
					  .lvs = (const char *const *)lvs };
		leak_check(&h, &x);
	} else if (!strcmp(action, "xen-dmesg-clean")) {
		dmesg_check(&h);
	} else {
		xerr_set(e, XERR_USAGE, "no host action '%s' (leak-check, xen-dmesg-clean)", action);
		goto out;
	}
	*result = result_make(&h, action);
	rc = 0;
out:
	strv_free(h.findings);
	buf_free(&h.log);
	return rc;
}
