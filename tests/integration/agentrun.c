#include "agentrun.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *agent_bin(void)
{
	const char *p = getenv("XLAB_AGENT");

	cr_assert(p && *p, "XLAB_AGENT is not set (run through meson test)");
	return p;
}

void agent_start(struct agent_proc *a, char *const env_add[])
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

int agent_finish(struct agent_proc *a)
{
	int status;
	char rest[16];
	pid_t pid = a->pid, got;

	/* Each part let go is marked so, for agent_kill after a failed assert. */
	close(a->in);
	a->in = -1;
	cr_assert_null(fgets(rest, sizeof(rest), a->out), "agent wrote more than asked");
	fclose(a->out);
	a->out = NULL;
	got = waitpid(pid, &status, 0);
	a->pid = -1;
	cr_assert_eq(got, pid);
	cr_assert(WIFEXITED(status), "agent died of a signal");
	return WEXITSTATUS(status);
}

void agent_kill(struct agent_proc *a)
{
	if (a->in >= 0)
		close(a->in);
	if (a->out)
		fclose(a->out);
	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
	}
	*a = (struct agent_proc){ .pid = -1, .in = -1 };
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

struct json_object *call_raw(struct agent_proc *a, const char *line, int timeout_s)
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

struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

struct json_object *expect_ok(struct json_object *resp, int id)
{
	cr_assert_eq(json_object_get_int(get(resp, "v")), 1);
	cr_assert_eq(json_object_get_int(get(resp, "id")), id);
	cr_assert(json_object_get_boolean(get(resp, "ok")), "not ok: %s",
		  json_object_to_json_string(resp));
	return get(resp, "result");
}

const char *expect_err(struct json_object *resp, const char *code)
{
	struct json_object *err = get(resp, "error");

	cr_assert(!json_object_get_boolean(get(resp, "ok")), "ok: %s",
		  json_object_to_json_string(resp));
	cr_assert_str_eq(json_object_get_string(get(err, "code")), code, "%s",
			 json_object_to_json_string(resp));
	return json_object_get_string(get(err, "message"));
}
