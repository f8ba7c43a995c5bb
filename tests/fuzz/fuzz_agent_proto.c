/* libFuzzer harness: the agent's request decoder and dispatcher (what a
 * controller, or anything on the channel, can feed it) and the parsers of
 * dom0 tool output must turn any bytes into a response or an error, never a
 * crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "parse.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the usual argument shapes, as the real ops do first. */
static int op_args(struct json_object *args, struct json_object **result, struct xerr *e)
{
	char **v = NULL;
	const char *s;
	int64_t n;
	bool b;

	if (arg_name(args, "name", &s, e) < 0 || arg_dev(args, "device", &s, e) < 0 ||
	    arg_int(args, "size_bytes", false, 0, 0, INT64_MAX, &n, e) < 0 ||
	    arg_bool(args, "remove_lv", false, &b, e) < 0 ||
	    arg_strv(args, "argv", false, 4096, &v, e) < 0)
		return -1;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
	*result = json_object_get(args);
	return 0;
}

static const agent_op_fn ops[AGENT_OP_COUNT] = {
	[AGENT_OP_RUN] = op_args,
	[AGENT_OP_GUEST_CREATE] = op_args,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct json_object *o = NULL;
	struct xerr e = { 0 };

	free(agent_dispatch(ops, (const char *)data, size));
	/* The controller's end reads what a dom0 (maybe a hostile one) sends. */
	if (agent_resp_decode((const char *)data, size, 1, &o, &e) == 0)
		json_object_put(o);
	o = NULL;
	/* The parsers read NUL-terminated tool output. */
	memcpy(text, data, size);
	text[size] = '\0';
	if (xl_info_parse(text, &o, &e) == 0)
		json_object_put(o);
	if (lvm_report_parse(text, "lv", &o, &e) == 0)
		json_object_put(o);
	if (xl_list_parse(text, &o, &e) == 0) {
		xl_list_long_merge(o, text, &e);
		json_object_put(o);
	}
	free(text);
	return 0;
}
