/* xlab-agent: reads protocol requests on stdin, one per line, and answers
 * each with one line on stdout. Silent until asked; exits 0 on EOF. */
#include <sha2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hotplug.h"
#include "ops.h"
#include "proto.h"
#include "sys.h"
#include "util.h"

static int op_hello(struct json_object *args, struct json_object **result, struct xerr *e);

/* What this agent answers, by the ops proto.h defines. */
static const agent_op_fn ops[AGENT_OP_COUNT] = {
	[AGENT_OP_HELLO] = op_hello,
	[AGENT_OP_FACTS] = op_facts,
	[AGENT_OP_STORAGE_INIT] = op_storage_init,
	[AGENT_OP_STORAGE_LV_CREATE] = op_storage_lv_create,
	[AGENT_OP_STORAGE_LV_REMOVE] = op_storage_lv_remove,
	[AGENT_OP_STORAGE_LVS] = op_storage_lvs,
	[AGENT_OP_STORAGE_VG_EXTEND] = op_storage_vg_extend,
	[AGENT_OP_STORAGE_VG_REDUCE] = op_storage_vg_reduce,
	[AGENT_OP_GUEST_CREATE] = op_guest_create,
	[AGENT_OP_GUEST_DESTROY] = op_guest_destroy,
	[AGENT_OP_GUEST_LIST] = op_guest_list,
	[AGENT_OP_GUEST_START] = op_guest_start,
	[AGENT_OP_GUESTS_SHUTDOWN] = op_guests_shutdown,
	[AGENT_OP_GUEST_CONSOLE] = op_guest_console,
	[AGENT_OP_GUEST_WAIT_CONSOLE] = op_guest_wait_console,
	[AGENT_OP_RUN] = op_run,
	[AGENT_OP_GUEST_MIGRATE] = op_guest_migrate,
	[AGENT_OP_GUEST_CHECK] = op_guest_check,
	[AGENT_OP_HOST_CHECK] = op_host_check,
	[AGENT_OP_STORAGE_DISK_ADD] = op_storage_disk_add,
	[AGENT_OP_STORAGE_DISK_REMOVE] = op_storage_disk_remove,
	[AGENT_OP_STORAGE_LV_EXTEND] = op_storage_lv_extend,
};

/* The stat data a digest was taken from, as git's index keeps it: a binary
 * replaced by a push (a new file renamed in) or changed in place differs. */
static char *stat_key(const struct stat *st)
{
	return xasprintf("%ju %ju %jd %jd.%09ld", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
			 (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
			 (long)st->st_mtim.tv_nsec);
}

/* BINARY.sha256 beside the binary, which a push replaces with it; none for
 * a binary replaced since it started. */
static char *self_cache_path(void)
{
	bool replaced;
	_cleanup_free_ char *exe = agent_self_path(&replaced);

	return exe && !replaced ? xasprintf("%s.sha256", exe) : NULL;
}

/* The digest this agent wrote for this very file, if it is still that file. */
static bool digest_cached(const char *path, const char *key, char *hex)
{
	_cleanup_free_ char *text = NULL;
	struct xerr ignore = { 0 };
	size_t klen = strlen(key), len;

	if (file_read_all(path, 4096, &text, &len, &ignore) < 0 || !text)
		return false;
	if (len != klen + 1 + SHA256_DIGEST_STRING_LENGTH || strncmp(text, key, klen) ||
	    text[klen] != ' ' || text[len - 1] != '\n')
		return false;
	memcpy(hex, text + klen + 1, SHA256_DIGEST_STRING_LENGTH - 1);
	hex[SHA256_DIGEST_STRING_LENGTH - 1] = '\0';
	return strspn(hex, "0123456789abcdef") == SHA256_DIGEST_STRING_LENGTH - 1;
}

/* This very binary's digest, so the controller learns from the hello alone
 * whether the agent it would push is already here, without a second exec
 * channel for sha256sum. NULL when the binary cannot be read: the controller
 * then pushes. Hashing 1.2 MB takes a third of a second on an emulated CPU,
 * so the digest is kept beside the agent with the stat data it belongs to
 * and hashed again only when the binary changed. *ms: what it cost. */
static const char *self_sha256(int64_t *ms)
{
	static char hex[SHA256_DIGEST_STRING_LENGTH];
	static int64_t took = -1;
	_cleanup_free_ char *cache = NULL, *key = NULL, *line = NULL;
	struct xerr ignore = { 0 };
	struct stat st;
	int64_t t0;

	if (took >= 0)
		goto out;
	t0 = now_ms();
	hex[0] = '\0';
	if (stat("/proc/self/exe", &st) < 0)
		goto done;
	cache = self_cache_path();
	key = stat_key(&st);
	if (cache && digest_cached(cache, key, hex))
		goto done;
	if (!SHA256File("/proc/self/exe", hex)) {
		hex[0] = '\0';
		goto done;
	}
	line = xasprintf("%s %s\n", key, hex);
	/* Without a cache the next start hashes again: slower, not wrong. */
	if (cache)
		file_write_atomic(cache, line, strlen(line), 0644, &ignore);
done:
	took = now_ms() - t0;
out:
	*ms = took;
	return hex[0] ? hex : NULL;
}

static int op_hello(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct json_object *r = json_object_new_object(), *names = json_object_new_array();
	int64_t ms;
	const char *sha256 = self_sha256(&ms);

	(void)args;
	(void)e;
	for (int i = 0; i < AGENT_OP_COUNT; i++)
		if (ops[i])
			json_object_array_add(names, json_object_new_string(agent_op_name(i)));
	json_object_object_add(r, AGENT_RES_PROTO, json_object_new_int(AGENT_PROTO_VERSION));
	json_object_object_add(r, AGENT_RES_VERSION, json_object_new_string(AGENT_VERSION));
	json_object_object_add(r, AGENT_RES_OPS, names);
	/* What the skip check costs in the dom0: the bench reports it. */
	if (sha256) {
		json_object_object_add(r, AGENT_RES_SHA256, json_object_new_string(sha256));
		json_object_object_add(r, AGENT_RES_SHA256_MS, json_object_new_int64(ms));
	}
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

int main(int argc, char **argv)
{
	struct buf line = { 0 };

	if (argc > 0 && hotplug_invoked(argv[0]))
		return hotplug_main(argc, argv);

	/* A controller that went away is EPIPE on write, then a clean exit. */
	signal(SIGPIPE, SIG_IGN);
	while (read_line(stdin, &line)) {
		_cleanup_free_ char *resp = agent_dispatch(ops,
							   line.data ? line.data : "", line.len);

		if (fputs(resp, stdout) == EOF || fflush(stdout) == EOF)
			break;
	}
	buf_free(&line);
	return 0;
}
