#include "sys.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dom0paths.h"
#include "parse.h"
#include "proto.h"
#include "util.h"

char *agent_self_path(bool *replaced)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof(deleted) - 1;

	*replaced = false;
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* The kernel says so of a file renamed over: "PATH (deleted)". */
	if ((size_t)n > dl && !strcmp(exe + n - dl, deleted)) {
		exe[n - dl] = '\0';
		*replaced = true;
	}
	return xstrdup(exe);
}

char *agent_path(const char *fmt, ...)
{
	const char *prefix = getenv("XLAB_AGENT_PREFIX");
	_cleanup_free_ char *tail = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&tail, fmt, ap) < 0)
		abort();
	va_end(ap);
	return xasprintf("%s%s", prefix ? prefix : "", tail);
}

/* Longer than any boot of the daemons, even on a loaded TCG host. */
#define XEN_DAEMONS_WAIT_S 120

int xen_daemons_wait(struct xerr *e)
{
	static enum { WAIT, STARTED, GAVE_UP } state = WAIT;
	_cleanup_free_ char *marker = NULL;
	int64_t deadline;

	if (state == STARTED)
		return 0;
	marker = agent_path("%s", DOM0_XEN_STARTING);
	/* Once given up on, every later call says so at once. */
	deadline = state == GAVE_UP ? 0 : now_ms() + XEN_DAEMONS_WAIT_S * 1000;
	while (access(marker, F_OK) == 0) {
		if (now_ms() > deadline) {
			state = GAVE_UP;
			return xerr_set(e, XERR_FAIL,
					"Xen's daemons have not started in this dom0 after %d s "
					"(xlab-init's %s is still there): its console says why "
					"(`xlab console LAB HOST --log`)",
					XEN_DAEMONS_WAIT_S, DOM0_XEN_STARTING);
		}
		usleep(20 * 1000);
	}
	state = STARTED;
	return 0;
}

static bool needs_xen_daemons(const char *prog)
{
	const char *base = strrchr(prog, '/');

	base = base ? base + 1 : prog;
	return strcmp(base, "xl") == 0 || strncmp(base, "xenstore", 8) == 0;
}

int agent_cmd(char *const argv[], unsigned flags, int timeout_s, struct spawn_result *res,
	      struct xerr *e)
{
	static char *const lvm_env[] = { "DM_DISABLE_UDEV=1", "LVM_SUPPRESS_FD_WARNINGS=1",
					 NULL };
	struct spawn_opts o = {
		.capture_stdout = true,
		.capture_stderr = true,
		.timeout_ms = timeout_s * 1000,
		.env_add = (flags & CMD_LVM) ? lvm_env : NULL,
	};
	int rc;

	if (needs_xen_daemons(argv[0]) && xen_daemons_wait(e) < 0)
		return -1;
	rc = (flags & CMD_ANY_EXIT) ? spawn_run(argv, &o, res, e) : spawn_check(argv, &o, res, e);
	if (rc < 0)
		e->kind = XERR_FAIL;
	return rc;
}

int lvm_report(const char *tool, const char *kind, const char *fields, const char *target,
	       struct json_object **rows, struct xerr *e)
{
	char *argv[] = { (char *)tool, "--reportformat", "json", "--units", "b", "--nosuffix",
			 "-o", (char *)fields, (char *)target, NULL };
	struct spawn_result r;
	int rc;

	if (agent_cmd(argv, CMD_LVM, 60, &r, e) < 0)
		return -1;
	rc = lvm_report_parse(r.out ? r.out : "", kind, rows, e);
	spawn_result_free(&r);
	return rc;
}

struct json_object *rows_find(struct json_object *rows, const char *key, const char *value)
{
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *s = row_str(row, key);

		if (s && strcmp(s, value) == 0)
			return row;
	}
	return NULL;
}

const char *row_str(struct json_object *row, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(row, key, &v) ? json_object_get_string(v) : NULL;
}

int64_t row_int(struct json_object *row, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(row, key, &v) ? json_object_get_int64(v) : 0;
}
