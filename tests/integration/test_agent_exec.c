/* The agent's own part, no dom0 tools: the conversation, hello and its
 * digest, run and its limits, the console logs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agentrun.h"
#include "sha256.h"
#include "spawn.h"
#include "util.h"

Test(agent_exec, silent_until_asked_and_exits_0_on_eof)
{
	char *argv[] = { (char *)agent_bin(), NULL };
	struct spawn_opts o = { .stdin_data = "", .capture_stdout = true, .capture_stderr = true,
				.timeout_ms = 10000 };
	struct spawn_result r;
	struct xerr e = { 0 };

	cr_assert_eq(spawn_run(argv, &o, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(r.out_len, 0, "agent printed on start: %s", r.out);
	spawn_result_free(&r);
}

Test(agent_exec, conversation)
{
	struct agent_proc a;
	struct json_object *resp, *res;
	const char *msg;

	agent_start(&a, NULL);
	resp = call_raw(&a, "{\"v\":1,\"id\":1,\"op\":\"hello\"}", 10);
	res = expect_ok(resp, 1);
	cr_assert_eq(json_object_get_int(get(res, "proto")), 1);
	cr_assert_str_eq(json_object_get_string(get(res, "version")), "0.1.0");
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":2,\"op\":\"run\",\"args\":{\"argv\":[\"sh\",\"-c\","
			    "\"echo hi; echo oops >&2; exit 3\"],\"timeout_s\":30}}", 30);
	res = expect_ok(resp, 2);
	cr_assert_eq(json_object_get_int(get(res, "status")), 3);
	cr_assert_str_eq(json_object_get_string(get(res, "stdout")), "hi\n");
	cr_assert_str_eq(json_object_get_string(get(res, "stderr")), "oops\n");
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":3,\"op\":\"no.such.op\"}", 10);
	cr_assert_eq(json_object_get_int(get(resp, "id")), 3);
	msg = expect_err(resp, "eproto");
	cr_assert(strstr(msg, "no.such.op"), "%s", msg);
	json_object_put(resp);

	resp = call_raw(&a, "{this is not json", 10);
	expect_err(resp, "eproto");
	cr_assert_null(get(resp, "id"));
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":4,\"op\":\"run\",\"args\":{\"argv\":\"ls\"}}", 10);
	cr_assert_eq(json_object_get_int(get(resp, "id")), 4);
	expect_err(resp, "einval");
	json_object_put(resp);

	/* Still answering after all those errors. */
	resp = call_raw(&a, "{\"v\":1,\"id\":5,\"op\":\"hello\"}", 10);
	expect_ok(resp, 5);
	json_object_put(resp);
	cr_assert_eq(agent_finish(&a), 0);
}

/* The controller skips the push when hello's digest is that of the binary
 * it would push; the second hello answers from the digest kept. */
Test(agent_exec, hello_reports_its_own_sha256)
{
	const char *hellos[] = { "{\"v\":1,\"id\":1,\"op\":\"hello\"}",
				 "{\"v\":1,\"id\":2,\"op\":\"hello\"}" };
	char want[SHA256_HEX_LEN + 1];
	struct xerr e = { 0 };
	struct agent_proc a;
	int64_t cost[2];

	cr_assert_eq(sha256_file_hex(agent_bin(), want, &e), 0, "%s", e.msg);
	agent_start(&a, NULL);
	for (int i = 0; i < 2; i++) {
		struct json_object *resp = call_raw(&a, hellos[i], 10);
		struct json_object *res = expect_ok(resp, i + 1);

		cr_assert_str_eq(json_object_get_string(get(res, "sha256")), want, "%s",
				 json_object_to_json_string(res));
		cr_assert(json_object_is_type(get(res, "sha256_ms"), json_type_int));
		cost[i] = json_object_get_int64(get(res, "sha256_ms"));
		cr_assert_geq(cost[i], 0);
		json_object_put(resp);
	}
	/* Worked out once per process: the second hello reports the same cost. */
	cr_assert_eq(cost[0], cost[1]);
	cr_assert_eq(agent_finish(&a), 0);
}

/* A private copy of the agent: its digest cache beside it is this test's
 * alone (criterion runs tests in parallel). XLAB_AGENT=copy in *env. */
static char *agent_copy(char **env)
{
	char tmpl[] = "/tmp/xlab-agent-copy.XXXXXX";
	_cleanup_free_ char *data = NULL;
	struct xerr e = { 0 };
	char *copy;
	size_t len;

	cr_assert_not_null(mkdtemp(tmpl));
	copy = xasprintf("%s/xlab-agent", tmpl);
	cr_assert_eq(file_read_all(agent_bin(), 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(copy, data, len, 0755, &e), 0, "%s", e.msg);
	*env = xasprintf("XLAB_AGENT=%s", copy);
	return copy;
}

/* The digest is kept beside the binary with the stat data it belongs to:
 * a cache for another file (a stale key) is ignored and rewritten. */
Test(agent_exec, hello_digest_cache_follows_the_binary)
{
	char *env[2] = { NULL, NULL };
	_cleanup_free_ char *copy = agent_copy(&env[0]);
	_cleanup_free_ char *cache = xasprintf("%s.sha256", copy);
	_cleanup_free_ char *text = NULL;
	char want[SHA256_HEX_LEN + 1];
	struct xerr e = { 0 };
	struct agent_proc a;
	struct json_object *resp;
	size_t len;

	cr_assert_eq(sha256_file_hex(copy, want, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(cache, "1 2 3 4.000000000 "
					      "00000000000000000000000000000000"
					      "00000000000000000000000000000000\n",
				       strlen("1 2 3 4.000000000 \n") + 64, 0644, &e),
		     0, "%s", e.msg);
	agent_start(&a, env);
	resp = call_raw(&a, "{\"v\":1,\"id\":1,\"op\":\"hello\"}", 10);
	cr_assert_str_eq(json_object_get_string(get(expect_ok(resp, 1), "sha256")), want);
	json_object_put(resp);
	cr_assert_eq(agent_finish(&a), 0);
	cr_assert_eq(file_read_all(cache, 4096, &text, &len, &e), 0, "%s", e.msg);
	cr_assert(len > SHA256_HEX_LEN && !strncmp(text + len - 1 - SHA256_HEX_LEN, want,
						   SHA256_HEX_LEN), "%s", text);
	cr_assert(strncmp(text, "1 2 3 4.", 8) != 0, "stale key kept: %s", text);
	free(env[0]);
	*strrchr(copy, '/') = '\0';
	cr_assert_eq(rm_rf(copy, &e), 0, "%s", e.msg);
}

/* A cache whose stat data matches the binary is believed without hashing:
 * proven by a digest the binary does not have. */
Test(agent_exec, hello_trusts_a_matching_digest_cache)
{
	static const char fake[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char *env[2] = { NULL, NULL };
	_cleanup_free_ char *copy = agent_copy(&env[0]);
	_cleanup_free_ char *cache = xasprintf("%s.sha256", copy);
	_cleanup_free_ char *line = NULL;
	struct xerr e = { 0 };
	struct agent_proc a;
	struct json_object *resp;
	struct stat st;

	cr_assert_eq(stat(copy, &st), 0);
	line = xasprintf("%ju %ju %jd %jd.%09ld %s\n", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
			 (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
			 fake);
	cr_assert_eq(file_write_atomic(cache, line, strlen(line), 0644, &e), 0, "%s", e.msg);
	agent_start(&a, env);
	resp = call_raw(&a, "{\"v\":1,\"id\":1,\"op\":\"hello\"}", 10);
	cr_assert_str_eq(json_object_get_string(get(expect_ok(resp, 1), "sha256")), fake);
	json_object_put(resp);
	cr_assert_eq(agent_finish(&a), 0);
	free(env[0]);
	*strrchr(copy, '/') = '\0';
	cr_assert_eq(rm_rf(copy, &e), 0, "%s", e.msg);
}

Test(agent_exec, commands_cannot_read_the_protocol_channel)
{
	struct agent_proc a;
	struct json_object *resp, *res;

	agent_start(&a, NULL);
	/* cat gets /dev/null, so it ends at once instead of eating the next line. */
	resp = call_raw(&a, "{\"v\":1,\"id\":1,\"op\":\"run\",\"args\":{\"argv\":[\"cat\"]}}", 10);
	res = expect_ok(resp, 1);
	cr_assert_eq(json_object_get_int(get(res, "status")), 0);
	cr_assert_str_eq(json_object_get_string(get(res, "stdout")), "");
	json_object_put(resp);
	resp = call_raw(&a, "{\"v\":1,\"id\":2,\"op\":\"hello\"}", 10);
	expect_ok(resp, 2);
	json_object_put(resp);
	cr_assert_eq(agent_finish(&a), 0);
}

Test(agent_exec, run_limits)
{
	struct agent_proc a;
	struct json_object *resp, *res;
	int64_t t0 = now_ms();

	agent_start(&a, NULL);
	resp = call_raw(&a, "{\"v\":1,\"id\":1,\"op\":\"run\",\"args\":{\"argv\":[\"sleep\",\"30\"],"
			    "\"timeout_s\":1}}", 15);
	res = expect_ok(resp, 1);
	cr_assert(json_object_get_boolean(get(res, "timed_out")));
	cr_assert_eq(json_object_get_int(get(res, "status")), -1);
	cr_assert_lt(now_ms() - t0, 10000);
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":2,\"op\":\"run\",\"args\":{\"argv\":[\"head\",\"-c\","
			    "\"100000\",\"/dev/zero\"]}}", 15);
	res = expect_ok(resp, 2);
	cr_assert_eq(json_object_get_string_len(get(res, "stdout")), 64 * 1024);
	cr_assert(json_object_get_boolean(get(res, "stdout_truncated")));
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":3,\"op\":\"run\",\"args\":{\"argv\":"
			    "[\"/nonexistent/prog\"]}}", 15);
	res = expect_ok(resp, 3);
	cr_assert_eq(json_object_get_int(get(res, "status")), 127);
	json_object_put(resp);
	cr_assert_eq(agent_finish(&a), 0);
}

Test(agent_exec, refuses_a_line_over_one_mib_and_goes_on)
{
	struct agent_proc a;
	struct json_object *resp;
	size_t n = 3 * 512 * 1024;
	char *big = xmalloc(n + 1);
	const char *msg;

	memset(big, 'x', n);
	big[n] = '\0';
	agent_start(&a, NULL);
	resp = call_raw(&a, big, 20);
	msg = expect_err(resp, "eproto");
	cr_assert(strstr(msg, "longer"), "%s", msg);
	json_object_put(resp);
	resp = call_raw(&a, "{\"v\":1,\"id\":9,\"op\":\"hello\"}", 10);
	expect_ok(resp, 9);
	json_object_put(resp);
	cr_assert_eq(agent_finish(&a), 0);
	free(big);
}

/* Console logs under $XLAB_AGENT_PREFIX: the ops that read them need no Xen. */
static char *console_prefix(void)
{
	char tmpl[] = "/tmp/xlab-agent-test.XXXXXX";
	char *dir = xstrdup(mkdtemp(tmpl));
	_cleanup_free_ char *logs = xasprintf("%s/var/log/xlab", dir);
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(logs, 0755, &e), 0, "%s", e.msg);
	return dir;
}

static void write_log(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *p = xasprintf("%s/var/log/xlab/%s.console", dir, name);
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(p, text, strlen(text), 0644, &e), 0, "%s", e.msg);
}

Test(agent_exec, console_tail_and_wait)
{
	_cleanup_free_ char *dir = console_prefix();
	_cleanup_free_ char *env = xasprintf("XLAB_AGENT_PREFIX=%s", dir);
	char *env_add[] = { env, NULL };
	struct agent_proc a;
	struct json_object *resp, *res;
	const char *msg;
	struct xerr e = { 0 };
	pid_t writer;

	write_log(dir, "web1", "booting\nXLAB-GUEST-UP web1\n");
	agent_start(&a, env_add);
	resp = call_raw(&a, "{\"v\":1,\"id\":1,\"op\":\"guest.console\",\"args\":{\"name\":\"web1\","
			    "\"max_bytes\":5}}", 10);
	res = expect_ok(resp, 1);
	cr_assert_str_eq(json_object_get_string(get(res, "text")), "web1\n");
	cr_assert_eq(json_object_get_int(get(res, "size")), 27);
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":2,\"op\":\"guest.wait_console\",\"args\":{\"name\":"
			    "\"web1\",\"text\":\"XLAB-GUEST-UP web1\",\"timeout_s\":5}}", 10);
	res = expect_ok(resp, 2);
	cr_assert(json_object_get_boolean(get(res, "found")));
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":3,\"op\":\"guest.wait_console\",\"args\":{\"name\":"
			    "\"web1\",\"text\":\"never printed\",\"timeout_s\":1}}", 10);
	msg = expect_err(resp, "etimeout");
	cr_assert(strstr(msg, "XLAB-GUEST-UP web1"), "the log tail is in the message: %s", msg);
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":4,\"op\":\"guest.console\",\"args\":{\"name\":\"db1\"}}",
			10);
	expect_err(resp, "enoent");
	json_object_put(resp);

	resp = call_raw(&a, "{\"v\":1,\"id\":5,\"op\":\"guest.console\",\"args\":{\"name\":"
			    "\"../../etc/passwd\"}}", 10);
	expect_err(resp, "einval");
	json_object_put(resp);

	/* A log that appears (and fills) while the agent waits. */
	writer = fork();
	cr_assert(writer >= 0);
	if (writer == 0) {
		usleep(700 * 1000);
		write_log(dir, "db1", "XLAB-GUEST-UP db1\n");
		_exit(0);
	}
	resp = call_raw(&a, "{\"v\":1,\"id\":6,\"op\":\"guest.wait_console\",\"args\":{\"name\":"
			    "\"db1\",\"text\":\"XLAB-GUEST-UP db1\",\"timeout_s\":20}}", 25);
	expect_ok(resp, 6);
	json_object_put(resp);
	waitpid(writer, NULL, 0);
	cr_assert_eq(agent_finish(&a), 0);
	cr_assert_eq(rm_rf(dir, &e), 0, "%s", e.msg);
}
