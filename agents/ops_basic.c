/* run: a test command in dom0. */
#include <string.h>

#include "args.h"
#include "ops.h"
#include "sys.h"
#include "util.h"

#define RUN_OUTPUT_MAX (64 * 1024)

static void add_capped(struct json_object *r, const char *key, const char *data, size_t len)
{
	char trunc_key[32];

	snprintf(trunc_key, sizeof(trunc_key), "%s" AGENT_RES_TRUNCATED_SUFFIX, key);
	json_object_object_add(r, key, json_object_new_string_len(data ? data : "",
		(int)(len > RUN_OUTPUT_MAX ? RUN_OUTPUT_MAX : len)));
	json_object_object_add(r, trunc_key, json_object_new_boolean(len > RUN_OUTPUT_MAX));
}

int op_run(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_strv_ char **argv = NULL;
	struct spawn_result res;
	struct json_object *r;
	int64_t timeout_s;

	if (arg_strv(args, AGENT_ARG_ARGV, true, 4096, &argv, e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, 300, 1, 86400, &timeout_s, e) < 0)
		return -1;
	if (!argv[0] || !argv[0][0])
		return xerr_set(e, XERR_USAGE, "argument \"argv\" must name a program");
	/* A test's command may reach xl through a shell: whatever it is, it
	 * runs once Xen's daemons do (a check of one file after that). */
	if (xen_daemons_wait(e) < 0)
		return -1;
	if (agent_cmd(argv, CMD_ANY_EXIT, (int)timeout_s, &res, e) < 0) {
		/* As a shell would: a missing program is exit 127, a test result. */
		res = (struct spawn_result){ .status = 127, .err = xasprintf("%s\n", e->msg) };
		res.err_len = strlen(res.err);
		xerr_clear(e);
	}
	r = json_object_new_object();
	json_object_object_add(r, AGENT_RES_STATUS, json_object_new_int(res.status));
	json_object_object_add(r, AGENT_RES_TIMED_OUT, json_object_new_boolean(res.status == -1));
	add_capped(r, AGENT_RES_STDOUT, res.out, res.out_len);
	add_capped(r, AGENT_RES_STDERR, res.err, res.err_len);
	spawn_result_free(&res);
	*result = r;
	return 0;
}
