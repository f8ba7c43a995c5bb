/* The real static xlab-agent as a child process, spoken to over pipes the
 * way the controller does over an SSH exec channel. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sha256.h"
#include "spawn.h"
#include "util.h"

struct agent_proc {
	pid_t pid;
	int in;      /* the agent's stdin */
	FILE *out;   /* the agent's stdout */
};

static const char *agent_bin(void)
{
	const char *p = getenv("XLAB_AGENT");

	cr_assert(p && *p, "XLAB_AGENT is not set (run through meson test)");
	return p;
}

static void agent_start(struct agent_proc *a, char *const env_add[])
{
	int in[2], out[2];

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	a->pid = fork();
	cr_assert(a->pid >= 0);
	if (a->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		for (char *const *kv = env_add; kv && *kv; kv++)
			putenv(*kv);
		execl(agent_bin(), "xlab-agent", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	a->in = in[1];
	a->out = fdopen(out[0], "r");
	cr_assert_not_null(a->out);
}

/* Closes stdin (EOF) and returns the exit status. */
static int agent_finish(struct agent_proc *a)
{
	int status;
	char rest[16];

	close(a->in);
	cr_assert_null(fgets(rest, sizeof(rest), a->out), "agent wrote more than asked");
	fclose(a->out);
	cr_assert_eq(waitpid(a->pid, &status, 0), a->pid);
	cr_assert(WIFEXITED(status), "agent died of a signal");
	return WEXITSTATUS(status);
}

static void send_raw(struct agent_proc *a, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(a->in, data, len);

		cr_assert(n > 0, "write to agent failed");
		data += n;
		len -= (size_t)n;
	}
}

/* Sends one line and reads one response line within timeout_s. */
static struct json_object *call_raw(struct agent_proc *a, const char *line, int timeout_s)
{
	struct pollfd p = { .fd = fileno(a->out), .events = POLLIN };
	char *resp = NULL;
	size_t cap = 0;
	struct json_object *o;

	send_raw(a, line, strlen(line));
	send_raw(a, "\n", 1);
	cr_assert_eq(poll(&p, 1, timeout_s * 1000), 1, "no response within %d s to %.80s",
		     timeout_s, line);
	cr_assert(getline(&resp, &cap, a->out) > 0, "agent closed its output");
	cr_assert(resp[strlen(resp) - 1] == '\n');
	o = json_tokener_parse(resp);
	cr_assert_not_null(o, "response is not JSON: %s", resp);
	free(resp);
	return o;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static struct json_object *expect_ok(struct json_object *resp, int id)
{
	cr_assert_eq(json_object_get_int(get(resp, "v")), 1);
	cr_assert_eq(json_object_get_int(get(resp, "id")), id);
	cr_assert(json_object_get_boolean(get(resp, "ok")), "not ok: %s",
		  json_object_to_json_string(resp));
	return get(resp, "result");
}

static const char *expect_err(struct json_object *resp, const char *code)
{
	struct json_object *err = get(resp, "error");

	cr_assert(!json_object_get_boolean(get(resp, "ok")), "ok: %s",
		  json_object_to_json_string(resp));
	cr_assert_str_eq(json_object_get_string(get(err, "code")), code, "%s",
			 json_object_to_json_string(resp));
	return json_object_get_string(get(err, "message"));
}

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

/* The dom0 ops against stand-ins for xl and LVM (test_agent_fake_tools.sh),
 * with the real tar, mkfs.ext4 and blkid, and the agent's files under
 * $XLAB_AGENT_PREFIX. What is checked is the agent's part: argv, order,
 * idempotency, the filesystem it makes and the console it copies. */
struct fake_dom0 {
	char *dir, *prefix, *state;
	char *env[4];
	struct agent_proc a;
	int next_id;
};

static void put_file(const char *base, const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s%s", base, rel);
	_cleanup_free_ char *dir = xstrdup(path);
	struct xerr e = { 0 };

	*strrchr(dir, '/') = '\0';
	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(path, text, strlen(text), 0644, &e), 0, "%s", e.msg);
}

static char *run_out(char *const argv[])
{
	struct spawn_result r;
	struct xerr e = { 0 };
	struct spawn_opts o = { .capture_stdout = true };

	cr_assert_eq(spawn_check(argv, &o, &r, &e), 0, "%s", e.msg);
	free(r.err);
	return r.out ? r.out : xstrdup("");
}

static void fake_dom0_start(struct fake_dom0 *f)
{
	static const char *const tools[] = { "xl", "pvs", "vgs", "lvs", "pvcreate", "vgcreate",
					     "vgextend", "vgreduce", "lvcreate", "lvremove",
					     "vgchange", "ping" };
	const char *src = getenv("XLAB_SOURCE_DIR");
	char tmpl[] = "/tmp/xlab-agent-dom0.XXXXXX";
	_cleanup_free_ char *script = NULL, *bin = NULL, *tree = NULL, *tar = NULL;
	struct xerr e = { 0 };

	cr_assert(src, "XLAB_SOURCE_DIR is not set");
	*f = (struct fake_dom0){ .dir = xstrdup(mkdtemp(tmpl)) };
	f->prefix = xasprintf("%s/root", f->dir);
	f->state = xasprintf("%s/state", f->dir);
	script = xasprintf("%s/tests/integration/test_agent_fake_tools.sh", src);
	bin = xasprintf("%s/bin", f->dir);
	cr_assert_eq(mkdir_p(bin, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(mkdir_p(f->state, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		_cleanup_free_ char *link = xasprintf("%s/%s", bin, tools[i]);

		cr_assert_eq(symlink(script, link), 0);
	}
	put_file(f->prefix, "/sys/block/vda/size", "20971520\n");
	put_file(f->prefix, "/sys/block/vdb/serial", "xlab-data\n");
	put_file(f->prefix, "/sys/block/vdc/serial", "xlab-extra1\n");
	tree = xasprintf("%s/tree", f->dir);
	put_file(tree, "/etc/hostname", "guest\n");
	put_file(tree, "/init", "#!/bin/sh\necho XLAB-GUEST-UP\n");
	put_file(f->prefix, "/var/lib/xlab/guest/busybox.tar", "");
	tar = xasprintf("%s/var/lib/xlab/guest/busybox.tar", f->prefix);
	free(run_out((char *[]){ "tar", "-cf", tar, "-C", tree, ".", NULL }));
	f->env[0] = xasprintf("PATH=%s:%s", bin, getenv("PATH"));
	f->env[1] = xasprintf("XLAB_AGENT_PREFIX=%s", f->prefix);
	f->env[2] = xasprintf("XLAB_FAKE_STATE=%s", f->state);
	agent_start(&f->a, f->env);
}

static void fake_dom0_stop(struct fake_dom0 *f)
{
	struct xerr e = { 0 };

	cr_assert_eq(agent_finish(&f->a), 0);
	/* Console copiers end with their guest; give them a moment to go. */
	usleep(500 * 1000);
	cr_assert_eq(rm_rf(f->dir, &e), 0, "%s", e.msg);
	for (int i = 0; i < 3; i++)
		free(f->env[i]);
	free(f->dir);
	free(f->prefix);
	free(f->state);
}

/* Sends {"v":1,"id":N,"op":op,"args":ARGS} and returns the response. */
static struct json_object *fcall(struct fake_dom0 *f, const char *op, const char *args)
{
	_cleanup_free_ char *line = xasprintf("{\"v\":1,\"id\":%d,\"op\":\"%s\",\"args\":%s}",
					      ++f->next_id, op, args);
	struct json_object *resp = call_raw(&f->a, line, 60);

	cr_assert_eq(json_object_get_int(get(resp, "id")), f->next_id);
	return resp;
}

static size_t count_calls(struct fake_dom0 *f, const char *needle)
{
	_cleanup_free_ char *path = xasprintf("%s/calls", f->state);
	_cleanup_free_ char *text = NULL;
	struct xerr e = { 0 };
	size_t len, n = 0;

	if (file_read_all(path, 0, &text, &len, &e) < 0)
		return 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(agent_fake_dom0, storage_ops_are_idempotent)
{
	static const char init[] = "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\","
				   "\"extra_serials\":[\"xlab-extra1\"]}";
	struct fake_dom0 f;
	struct json_object *resp, *res;

	fake_dom0_start(&f);
	resp = fcall(&f, "storage.init", init);
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_get_int64(get(res, "size_bytes")), 2 * 10737418240LL);
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);

	resp = fcall(&f, "storage.init", init);
	res = expect_ok(resp, f.next_id);
	cr_assert(!json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "pvcreate -y /dev/vdb"), 1);
	cr_assert_eq(count_calls(&f, "vgcreate xlab /dev/vdb"), 1);
	cr_assert_eq(count_calls(&f, "vgextend xlab /dev/vdc"), 1);
	cr_assert_eq(count_calls(&f, "DM_DISABLE_UDEV= "), 0, "LVM always runs without udev");

	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\","
					 "\"extra_serials\":[\"xlab-extra9\"]}");
	expect_err(resp, "enoent");
	json_object_put(resp);
	resp = fcall(&f, "storage.init", "{\"vg\":\"-xlab\",\"data_serial\":\"xlab-data\"}");
	expect_err(resp, "einval");
	json_object_put(resp);

	resp = fcall(&f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
					      "\"size_bytes\":67108864}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "created")));
	cr_assert_eq(json_object_get_int64(get(res, "lv_size")), 67108864);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "lvcreate -y -Wy -Zy -n data1 -L 67108864b xlab"), 1);
	resp = fcall(&f, "storage.lv_create", "{\"vg\":\"xlab\",\"name\":\"data1\","
					      "\"size_bytes\":67108864}");
	cr_assert(!json_object_get_boolean(get(expect_ok(resp, f.next_id), "created")));
	json_object_put(resp);

	resp = fcall(&f, "storage.lvs", "{\"vg\":\"xlab\"}");
	res = get(expect_ok(resp, f.next_id), "lvs");
	cr_assert_eq(json_object_array_length(res), 1);
	cr_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(res, 0), "lv_name")),
			 "data1");
	json_object_put(resp);

	resp = fcall(&f, "storage.vg_reduce", "{\"vg\":\"xlab\",\"device\":\"/dev/vdc\"}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "removed")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 1);
	json_object_put(resp);
	put_file(f.state, "/pv_used/vdb", "67108864");
	resp = fcall(&f, "storage.vg_reduce", "{\"vg\":\"xlab\",\"device\":\"/dev/vdb\"}");
	cr_assert(strstr(expect_err(resp, "einval"), "/dev/vdb"));
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "vgreduce xlab /dev/vdb"), 0);

	resp = fcall(&f, "storage.vg_extend", "{\"vg\":\"xlab\",\"device\":\"/dev/vdc\"}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "added")));
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	resp = fcall(&f, "storage.vg_extend", "{\"vg\":\"xlab\",\"device\":\"/dev/../etc\"}");
	expect_err(resp, "einval");
	json_object_put(resp);

	resp = fcall(&f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"data1\"}");
	cr_assert(json_object_get_boolean(get(expect_ok(resp, f.next_id), "removed")));
	json_object_put(resp);
	resp = fcall(&f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"data1\"}");
	cr_assert(!json_object_get_boolean(get(expect_ok(resp, f.next_id), "removed")));
	json_object_put(resp);

	resp = fcall(&f, "facts", "{}");
	res = expect_ok(resp, f.next_id);
	cr_assert_str_eq(json_object_get_string(get(res, "xen_version")), "4.17.5");
	cr_assert_eq(json_object_get_int(get(res, "free_memory")), 2863);
	cr_assert_eq(json_object_array_length(get(res, "vgs")), 1);
	cr_assert_eq(json_object_array_length(get(res, "pvs")), 2);
	json_object_put(resp);
	fake_dom0_stop(&f);
}

static const char guest_args[] =
	"{\"name\":\"web1\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
	"\"xl_cfg\":\"name = \\\"web1\\\"\\ntype = \\\"pvh\\\"\\nmemory = 128\\n"
	"disk = [ 'phy:/dev/xlab/web1,xvda,w' ]\\n\"}";

/* A root filesystem with sshd (rootfs: debian): the agent makes its host
 * key and hands the public half back for pinning, and gives root the
 * dom0's authorized key; a suite the image lacks is refused by name. */
Test(agent_fake_dom0, debian_guest_gets_keys, .timeout = 90)
{
	static const char lab_key[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE xlab-lab\n";
	struct fake_dom0 f;
	struct json_object *resp, *res;
	_cleanup_free_ char *tree = NULL, *tar = NULL, *link = NULL, *lv = NULL, *auth = NULL;
	_cleanup_free_ char *key = NULL, *pub = NULL;
	const char *msg;

	fake_dom0_start(&f);
	tree = xasprintf("%s/debtree", f.dir);
	put_file(tree, "/usr/sbin/sshd", "#!/bin/sh\n");
	put_file(tree, "/etc/ssh/sshd_config", "");
	put_file(tree, "/root/.profile", "");
	tar = xasprintf("%s/var/lib/xlab/guest/debian-bookworm.tar", f.prefix);
	free(run_out((char *[]){ "tar", "-cf", tar, "-C", tree, ".", NULL }));
	link = xasprintf("%s/var/lib/xlab/guest/debian.tar", f.prefix);
	cr_assert_eq(symlink("debian-bookworm.tar", link), 0);
	put_file(f.prefix, "/root/.ssh/authorized_keys", lab_key);
	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);

	resp = fcall(&f, "guest.create",
		     "{\"name\":\"deb\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		     "\"rootfs\":\"debian\",\"xl_cfg\":\"name = \\\"deb\\\"\\n\"}");
	res = expect_ok(resp, f.next_id);
	pub = xstrdup(json_object_get_string(get(res, "ssh_host_key")));
	lv = xstrdup(json_object_get_string(get(res, "lv_path")));
	json_object_put(resp);
	cr_assert(!strncmp(pub, "ssh-ed25519 ", 12), "%s", pub);
	cr_assert(strstr(pub, " root@deb\n"), "%s", pub);
	auth = run_out((char *[]){ "debugfs", "-R", "cat /root/.ssh/authorized_keys", lv, NULL });
	cr_assert_str_eq(auth, lab_key);
	key = run_out((char *[]){ "debugfs", "-R", "cat /etc/ssh/ssh_host_ed25519_key.pub", lv,
				  NULL });
	cr_assert_str_eq(key, pub);

	/* Asked again (its first answer lost): the same key comes back. */
	resp = fcall(&f, "guest.create",
		     "{\"name\":\"deb\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		     "\"rootfs\":\"debian\",\"xl_cfg\":\"name = \\\"deb\\\"\\n\"}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "already")));
	cr_assert_str_eq(json_object_get_string(get(res, "ssh_host_key")), pub);
	json_object_put(resp);

	resp = fcall(&f, "guest.create",
		     "{\"name\":\"tx\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		     "\"rootfs\":\"debian-trixie\",\"xl_cfg\":\"name = \\\"tx\\\"\\n\"}");
	msg = expect_err(resp, "enoent");
	cr_assert(strstr(msg, "carries debian-bookworm only"), "%s", msg);
	json_object_put(resp);
	fake_dom0_stop(&f);
}

Test(agent_fake_dom0, guest_lifecycle, .timeout = 90)
{
	struct fake_dom0 f;
	struct json_object *resp, *res;
	_cleanup_free_ char *cfg = NULL, *lv = NULL, *fstab = NULL, *host = NULL;
	_cleanup_free_ char *cfg_text = NULL;
	struct xerr e = { 0 };
	size_t len;

	fake_dom0_start(&f);
	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);

	resp = fcall(&f, "guest.create", guest_args);
	res = expect_ok(resp, f.next_id);
	cr_assert(!json_object_get_boolean(get(res, "already")));
	cr_assert(json_object_get_boolean(get(res, "fs_made")));
	cr_assert_eq(json_object_get_int(get(res, "domid")), 1);
	lv = xstrdup(json_object_get_string(get(res, "lv_path")));
	cfg = xstrdup(json_object_get_string(get(res, "cfg")));
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "lvcreate -y -Wy -Zy -n web1 -L 67108864b xlab"), 1);
	cr_assert_eq(count_calls(&f, "xl create -p "), 1);
	cr_assert_eq(count_calls(&f, "xl unpause web1"), 1);
	cr_assert_eq(file_read_all(cfg, 0, &cfg_text, &len, &e), 0, "%s", e.msg);
	cr_assert(strstr(cfg_text, "name = \"web1\"\n"), "%s", cfg_text);
	cr_assert(strstr(cfg, "/etc/xen/xlab/web1.cfg"), "%s", cfg);

	/* The LV holds an ext4 made from the tarball, with the guest's fstab. */
	fstab = run_out((char *[]){ "debugfs", "-R", "cat /etc/fstab", lv, NULL });
	cr_assert_str_eq(fstab, "/dev/xvda / ext4 defaults 0 1\n");
	/* The tarball said "guest": every guest is named after itself. */
	host = run_out((char *[]){ "debugfs", "-R", "cat /etc/hostname", lv, NULL });
	cr_assert_str_eq(host, "web1\n");

	/* The console goes through a pty to the log, from the first line on. */
	resp = fcall(&f, "guest.wait_console", "{\"name\":\"web1\",\"text\":\"XLAB-GUEST-UP web1\","
					       "\"timeout_s\":30}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);
	resp = fcall(&f, "guest.console", "{\"name\":\"web1\"}");
	cr_assert(strstr(json_object_get_string(get(expect_ok(resp, f.next_id), "text")),
			 "Linux version"));
	json_object_put(resp);

	resp = fcall(&f, "guest.create", guest_args);
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "already")));
	cr_assert_eq(json_object_get_int(get(res, "domid")), 1);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "xl create -p "), 1, "a running guest is left alone");

	resp = fcall(&f, "guest.list", "{}");
	res = get(expect_ok(resp, f.next_id), "guests");
	cr_assert_eq(json_object_array_length(res), 2);
	res = json_object_array_get_idx(res, 1);
	cr_assert_str_eq(json_object_get_string(get(res, "name")), "web1");
	cr_assert_eq(json_object_get_int(get(res, "domid")), 1);
	cr_assert_eq(json_object_get_int(get(res, "memory_kib")), 131072);
	cr_assert_str_eq(json_object_get_string(get(res, "state")), "-b----");
	json_object_put(resp);

	resp = fcall(&f, "guest.destroy", "{\"name\":\"web1\",\"vg\":\"xlab\",\"remove_lv\":true}");
	res = expect_ok(resp, f.next_id);
	cr_assert(json_object_get_boolean(get(res, "destroyed")));
	cr_assert(json_object_get_boolean(get(res, "lv_removed")));
	json_object_put(resp);
	cr_assert(!path_exists(cfg));
	cr_assert(!path_exists(lv));
	resp = fcall(&f, "guest.destroy", "{\"name\":\"web1\",\"vg\":\"xlab\",\"remove_lv\":true}");
	res = expect_ok(resp, f.next_id);
	cr_assert(!json_object_get_boolean(get(res, "destroyed")));
	cr_assert(!json_object_get_boolean(get(res, "lv_removed")));
	json_object_put(resp);

	resp = fcall(&f, "guest.create", "{\"name\":\"db1\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
					 "\"rootfs\":\"/nonexistent/root.tar\",\"xl_cfg\":\"\"}");
	expect_err(resp, "enoent");
	json_object_put(resp);
	resp = fcall(&f, "guest.create", "{\"name\":\"db1\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
					 "\"rootfs\":\"root.tar\",\"xl_cfg\":\"\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(&f, "guest.create", "{\"name\":\"db1\",\"vg\":\"xlab\",\"size_bytes\":1,"
					 "\"rootfs\":\"busybox\",\"xl_cfg\":\"\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	fake_dom0_stop(&f);
}

static void hwvirt_create(struct fake_dom0 *f, const char *name, const char *type,
			  const char *virt_caps, bool prefer_shadow, char **cfg_text)
{
	_cleanup_free_ char *caps_path = xasprintf("%s/virt_caps", f->state);
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"type\":\"%s\",\"prefer_shadow\":%s,\"xl_cfg\":\"name = \\\"%s\\\"\\n\"}",
		name, type, prefer_shadow ? "true" : "false", name);
	struct json_object *resp;
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_write_atomic(caps_path, virt_caps, strlen(virt_caps), 0644, &e), 0);
	resp = fcall(f, "guest.create", args);
	if (!cfg_text) {
		expect_err(resp, "efail");
		cr_assert(strstr(json_object_get_string(get(get(resp, "error"), "message")),
				 !strcmp(virt_caps, "pv") ? "cannot run hvm guests"
							  : "no shadow paging"),
			  "%s", json_object_to_json_string(resp));
		json_object_put(resp);
		return;
	}
	cr_assert_eq(file_read_all(json_object_get_string(get(expect_ok(resp, f->next_id), "cfg")),
				   0, cfg_text, &len, &e), 0, "%s", e.msg);
	json_object_put(resp);
}

/* pvh and hvm guests: the agent reads virt_caps first and refuses a type
 * this Xen cannot run before any LV is made; asked to prefer shadow paging
 * (TCG), a Xen with both gets `hap = 0` in the kept config and one without
 * shadow is refused. */
Test(agent_fake_dom0, pvh_and_hvm_guests_by_virt_caps, .timeout = 90)
{
	struct fake_dom0 f;
	struct json_object *resp;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	fake_dom0_start(&f);
	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);

	hwvirt_create(&f, "a", "pvh", "pv hvm hap shadow", true, &a);
	cr_assert(strstr(a, "name = \"a\"\nhap = 0\n"), "%s", a);
	hwvirt_create(&f, "b", "hvm", "pv hvm hap", false, &b);
	cr_assert_null(strstr(b, "hap"), "xl.hap given: the spec's choice: %s", b);
	hwvirt_create(&f, "c", "pvh", "pv hvm hap shadow", false, &c);
	cr_assert_null(strstr(c, "hap"), "KVM: HAP stays: %s", c);
	hwvirt_create(&f, "d", "hvm", "pv", true, NULL);
	cr_assert_eq(count_calls(&f, "lvcreate -y -Wy -Zy -n d "), 0, "refused before any LV");
	hwvirt_create(&f, "g", "pvh", "pv hvm hap", true, NULL);
	cr_assert_eq(count_calls(&f, "lvcreate -y -Wy -Zy -n g "), 0, "refused before any LV");
	resp = fcall(&f, "guest.create", "{\"name\":\"e\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
					 "\"rootfs\":\"busybox\",\"type\":\"kvm\",\"xl_cfg\":\"\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	fake_dom0_stop(&f);
}

static void kernel_create(struct fake_dom0 *f, const char *name, const char *type,
			  char **cfg_text)
{
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"type\":\"%s\",\"xl_cfg\":\"name = \\\"%s\\\"\\n"
		"kernel = \\\"/var/lib/xlab/guest/vmlinuz\\\"\\nmemory = 64\\n\"}",
		name, type, name);
	struct json_object *resp = fcall(f, "guest.create", args);
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_read_all(json_object_get_string(get(expect_ok(resp, f->next_id), "cfg")),
				   0, cfg_text, &len, &e), 0, "%s", e.msg);
	json_object_put(resp);
}

/* The kept config of a PV or PVH guest names the kit's unpacked kernel when
 * the image has one (libxl then loads it without unpacking it in the dom0);
 * an HVM guest's, and any on an image without it, keeps the bzImage. */
Test(agent_fake_dom0, unpacked_kernel_for_pv_and_pvh, .timeout = 90)
{
	static const char packed[] = "\nkernel = \"/var/lib/xlab/guest/vmlinuz\"\nmemory = 64\n";
	static const char unpacked[] = "\nkernel = \"/var/lib/xlab/guest/vmlinux\"\nmemory = 64\n";
	_cleanup_free_ char *old = NULL, *pv = NULL, *pvh = NULL, *hvm = NULL;
	_cleanup_free_ char *caps = NULL;
	struct fake_dom0 f;
	struct json_object *resp;
	struct xerr e = { 0 };

	fake_dom0_start(&f);
	caps = xasprintf("%s/virt_caps", f.state);
	cr_assert_eq(file_write_atomic(caps, "pv hvm hap shadow", 17, 0644, &e), 0);
	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);

	kernel_create(&f, "old", "pv", &old);
	cr_assert(strstr(old, packed), "no vmlinux in this image: %s", old);
	put_file(f.prefix, "/var/lib/xlab/guest/vmlinux", "\177ELF");
	kernel_create(&f, "pv", "pv", &pv);
	cr_assert(strstr(pv, unpacked), "%s", pv);
	kernel_create(&f, "pvh", "pvh", &pvh);
	cr_assert(strstr(pvh, unpacked), "%s", pvh);
	kernel_create(&f, "hvm", "hvm", &hvm);
	cr_assert(strstr(hvm, packed), "the device model boots the bzImage: %s", hvm);
	fake_dom0_stop(&f);
}

/* One round, `round` of `of`, as the controller asks it. */
static struct json_object *check_call(struct fake_dom0 *f, const char *name, const char *action,
				      const char *ip, int round, int of)
{
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"action\":\"%s\",\"ip\":\"%s\",\"round\":%d,"
		"\"rounds_of\":%d,\"timeout_s\":2}",
		name, action, ip, round, of);

	return fcall(f, "guest.check", args);
}

/* A round that passes, whose output the caller may read (it puts resp). */
static const char *round_passes(struct fake_dom0 *f, struct json_object *resp)
{
	struct json_object *res = expect_ok(resp, f->next_id);
	const char *out = json_object_get_string(get(res, "output"));

	cr_assert(json_object_get_boolean(get(res, "passed")), "%s", out);
	return out;
}

/* A round that fails: a result, not an agent error. */
static const char *round_fails(struct fake_dom0 *f, struct json_object *resp)
{
	struct json_object *res = expect_ok(resp, f->next_id);
	const char *out = json_object_get_string(get(res, "output"));

	cr_assert_not(json_object_get_boolean(get(res, "passed")), "%s", out);
	return out;
}

static void guest_make(struct fake_dom0 *f, const char *name)
{
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"xl_cfg\":\"name = \\\"%s\\\"\\n\"}",
		name, name);
	struct json_object *resp = fcall(f, "guest.create", args);

	expect_ok(resp, f->next_id);
	json_object_put(resp);
}

/* osstest's guest-saverestore, guest-localmigrate, guest-stop/start: one
 * round per call is xl's work and then the guest answering at its address;
 * a round that fails is the result (not an agent error), with xl's words. */
Test(agent_fake_dom0, guest_checks, .timeout = 90)
{
	_cleanup_free_ char *host = xcalloc(1, 256);
	_cleanup_free_ char *migrate = NULL, *silent = NULL, *saved = NULL;
	struct fake_dom0 f;
	struct json_object *resp, *steps, *last;
	struct xerr e = { 0 };
	const char *out;

	fake_dom0_start(&f);
	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);
	guest_make(&f, "g");

	for (int round = 1; round <= 2; round++) {
		resp = check_call(&f, "g", "save-restore", "10.0.0.50", round, 2);
		out = round_passes(&f, resp);
		json_object_put(resp);
	}
	resp = check_call(&f, "g", "save-restore", "10.0.0.50", 3, 5);
	out = round_passes(&f, resp);
	cr_assert(!strncmp(out, "save-restore 3/5:\n  xl save: done", 33), "%s", out);
	cr_assert(strstr(out, "xl restore: done"), "%s", out);
	cr_assert(strstr(out, "ping 10.0.0.50: answered"), "%s", out);
	steps = get(get(resp, "result"), "steps");
	cr_assert_eq(json_object_array_length(steps), 3, "save, restore, ping");
	last = json_object_array_get_idx(steps, 2);
	cr_assert_eq(json_object_get_int(get(last, "round")), 3, "numbered as in the whole");
	cr_assert_str_eq(json_object_get_string(get(last, "step")), "ping");
	cr_assert(json_object_get_boolean(get(last, "ok")));
	cr_assert_geq(json_object_get_int(get(last, "ms")), 0);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "xl save g "), 3);
	cr_assert_eq(count_calls(&f, "xl restore "), 3);
	saved = xasprintf("%s/var/lib/xlab-agent/save/g", f.prefix);
	cr_assert_not(path_exists(saved), "the save file is removed");

	cr_assert_eq(gethostname(host, 255), 0);
	migrate = xasprintf("xl migrate g %s", host);
	resp = check_call(&f, "g", "local-migrate", "10.0.0.50", 1, 1);
	round_passes(&f, resp);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, migrate), 1, "to this host by its own name");

	guest_make(&f, "unsaveable");
	resp = check_call(&f, "unsaveable", "save-restore", "10.0.0.51", 1, 3);
	out = round_fails(&f, resp);
	cr_assert(strstr(out, "xl save: FAILED"), "%s", out);
	cr_assert(strstr(out, "Failed to save domain"), "xl's words: %s", out);
	json_object_put(resp);

	/* stop-start: a clean shutdown, then a boot from the kept config. */
	resp = check_call(&f, "g", "stop-start", "10.0.0.50", 1, 1);
	out = round_passes(&f, resp);
	cr_assert(strstr(out, "stop-start 1/1:\n  xl shutdown -w: done"), "%s", out);
	cr_assert(strstr(out, "xl create: done"), "%s", out);
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "xl shutdown -w g"), 1);
	cr_assert_eq(count_calls(&f, "xl create -p "), 3, "two guests made, one start");
	guest_make(&f, "stubborn");
	resp = check_call(&f, "stubborn", "stop-start", "10.0.0.52", 1, 1);
	out = round_fails(&f, resp);
	cr_assert(strstr(out, "xl shutdown -w: FAILED, still running after 2 s"), "%s", out);
	json_object_put(resp);

	silent = xasprintf("%s/silent", f.state);
	cr_assert_eq(file_write_atomic(silent, "10.0.0.50\n", 10, 0644, &e), 0);
	resp = check_call(&f, "g", "local-migrate", "10.0.0.50", 1, 1);
	out = round_fails(&f, resp);
	cr_assert(strstr(out, "ping 10.0.0.50: NO ANSWER"), "%s", out);
	json_object_put(resp);

	resp = check_call(&f, "g", "reboot", "10.0.0.50", 1, 1);
	cr_assert(strstr(expect_err(resp, "einval"), "no action 'reboot'"));
	json_object_put(resp);
	resp = check_call(&f, "g", "save-restore", "10.0.0", 1, 1);
	cr_assert(strstr(expect_err(resp, "einval"), "not an IPv4 address"));
	json_object_put(resp);
	resp = check_call(&f, "g", "save-restore", "10.0.0.50", 3, 2);
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = check_call(&f, "g", "save-restore", "10.0.0.50", 101, 101);
	expect_err(resp, "einval");
	json_object_put(resp);
	fake_dom0_stop(&f);
}

/* `xlab stop` then `xlab start`, the dom0's part: guests.shutdown shuts
 * every guest down (destroying one that ignores the request) and keeps their
 * LVs and configs; guest.start brings one back from those alone: no lvcreate,
 * no mkfs (a marker written into its filesystem is still there), and a guest
 * never made here is refused. */
Test(agent_fake_dom0, guests_stop_and_start_keep_filesystems, .timeout = 90)
{
	static const char stubborn_args[] =
		"{\"name\":\"stubborn\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"xl_cfg\":\"name = \\\"stubborn\\\"\\n\"}";
	struct fake_dom0 f;
	struct json_object *resp, *res;
	_cleanup_free_ char *lv = NULL, *marker = NULL, *marker_src = NULL, *write = NULL;
	const char *msg;

	fake_dom0_start(&f);
	resp = fcall(&f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);
	resp = fcall(&f, "guest.create", guest_args);
	lv = xstrdup(json_object_get_string(get(expect_ok(resp, f.next_id), "lv_path")));
	json_object_put(resp);
	resp = fcall(&f, "guest.create", stubborn_args);
	expect_ok(resp, f.next_id);
	json_object_put(resp);
	marker_src = xasprintf("%s/marker", f.dir);
	put_file(f.dir, "/marker", "kept\n");
	write = xasprintf("write %s /marker", marker_src);
	free(run_out((char *[]){ "debugfs", "-w", "-R", write, lv, NULL }));

	resp = fcall(&f, "guests.shutdown", "{\"timeout_s\":5}");
	res = get(expect_ok(resp, f.next_id), "destroyed");
	cr_assert_eq(json_object_array_length(res), 1, "only the one that ignored it");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(res, 0)), "stubborn");
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "xl shutdown -a -w"), 1);
	cr_assert_eq(count_calls(&f, "xl sysrq stubborn s"), 1);
	resp = fcall(&f, "guest.list", "{}");
	cr_assert_eq(json_object_array_length(get(expect_ok(resp, f.next_id), "guests")), 1,
		     "Domain-0 alone");
	json_object_put(resp);

	resp = fcall(&f, "guest.start", "{\"name\":\"web1\"}");
	res = expect_ok(resp, f.next_id);
	cr_assert(!json_object_get_boolean(get(res, "already")));
	cr_assert(strstr(json_object_get_string(get(res, "cfg")), "/etc/xen/xlab/web1.cfg"));
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "lvcreate -y -Wy -Zy -n web1 "), 1, "the LV is not made again");
	cr_assert_eq(count_calls(&f, "vgchange -ay"), 1);
	cr_assert_eq(count_calls(&f, "xl create -p "), 3);
	marker = run_out((char *[]){ "debugfs", "-R", "cat /marker", lv, NULL });
	cr_assert_str_eq(marker, "kept\n", "the filesystem is the one it had");
	resp = fcall(&f, "guest.wait_console", "{\"name\":\"web1\",\"text\":\"XLAB-GUEST-UP web1\","
					       "\"timeout_s\":30}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);

	resp = fcall(&f, "guest.start", "{\"name\":\"web1\"}");
	cr_assert(json_object_get_boolean(get(expect_ok(resp, f.next_id), "already")));
	json_object_put(resp);
	cr_assert_eq(count_calls(&f, "xl create -p "), 3, "a running guest is left alone");

	resp = fcall(&f, "guest.start", "{\"name\":\"never\"}");
	msg = expect_err(resp, "enoent");
	cr_assert(strstr(msg, "never made here"), "%s", msg);
	json_object_put(resp);
	resp = fcall(&f, "guests.shutdown", "{}");
	expect_ok(resp, f.next_id);
	json_object_put(resp);
	fake_dom0_stop(&f);
}
