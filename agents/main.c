/* xlab-agent: reads protocol requests on stdin, one per line, and answers
 * each with one line on stdout. Silent until asked; exits 0 on EOF. */
#include <sha2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "proto.h"
#include "util.h"

static int op_hello(struct json_object *args, struct json_object **result, struct xerr *e);

static const struct agent_op ops[] = {
	{ "hello", op_hello },
	{ "facts", op_facts },
	{ "storage.init", op_storage_init },
	{ "storage.lv_create", op_storage_lv_create },
	{ "storage.lv_remove", op_storage_lv_remove },
	{ "storage.lvs", op_storage_lvs },
	{ "storage.vg_extend", op_storage_vg_extend },
	{ "storage.vg_reduce", op_storage_vg_reduce },
	{ "guest.create", op_guest_create },
	{ "guest.destroy", op_guest_destroy },
	{ "guest.list", op_guest_list },
	{ "guest.console", op_guest_console },
	{ "guest.wait_console", op_guest_wait_console },
	{ "run", op_run },
	{ "guest.migrate", op_guest_migrate },
	{ "storage.disk_add", op_storage_disk_add },
	{ "storage.disk_remove", op_storage_disk_remove },
	{ "storage.lv_extend", op_storage_lv_extend },
};

/* This very binary's digest, so the controller learns from the hello alone
 * whether the agent it would push is already here, without a second exec
 * channel for sha256sum. NULL when the binary cannot be read: the controller
 * then pushes. Hashed at the first hello and kept for the process. */
static const char *self_sha256(void)
{
	static char hex[SHA256_DIGEST_STRING_LENGTH];
	static bool done;

	if (!done) {
		done = true;
		if (!SHA256File("/proc/self/exe", hex))
			hex[0] = '\0';
	}
	return hex[0] ? hex : NULL;
}

static int op_hello(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct json_object *r = json_object_new_object(), *names = json_object_new_array();
	const char *sha256 = self_sha256();

	(void)args;
	(void)e;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		json_object_array_add(names, json_object_new_string(ops[i].name));
	json_object_object_add(r, "proto", json_object_new_int(AGENT_PROTO_VERSION));
	json_object_object_add(r, "version", json_object_new_string(AGENT_VERSION));
	json_object_object_add(r, "ops", names);
	if (sha256)
		json_object_object_add(r, "sha256", json_object_new_string(sha256));
	*result = r;
	return 0;
}

/* Reads one line into b, keeping at most AGENT_LINE_MAX + 1 bytes so an
 * endless line cannot exhaust memory (the excess still counts as too long).
 * Returns false at EOF with nothing read. */
static bool read_line(FILE *in, struct buf *b)
{
	int c;

	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	while ((c = getc_unlocked(in)) != EOF && c != '\n') {
		char ch = (char)c;

		if (b->len <= AGENT_LINE_MAX)
			buf_append(b, &ch, 1);
	}
	return c != EOF || b->len > 0;
}

int main(void)
{
	struct buf line = { 0 };

	/* A controller that went away is EPIPE on write, then a clean exit. */
	signal(SIGPIPE, SIG_IGN);
	while (read_line(stdin, &line)) {
		_cleanup_free_ char *resp = agent_dispatch(ops, ARRAY_SIZE(ops),
							   line.data ? line.data : "", line.len);

		if (fputs(resp, stdout) == EOF || fflush(stdout) == EOF)
			break;
	}
	buf_free(&line);
	return 0;
}
