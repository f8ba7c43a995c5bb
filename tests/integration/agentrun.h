/* The real static xlab-agent ($XLAB_AGENT) as a child process, spoken to
 * over pipes the way the controller does over an SSH exec channel. */
#ifndef XLAB_TEST_AGENTRUN_H
#define XLAB_TEST_AGENTRUN_H

#include <stdio.h>
#include <sys/types.h>

#include <json-c/json.h>

struct agent_proc {
	pid_t pid;
	int in;      /* the agent's stdin */
	FILE *out;   /* the agent's stdout */
};

const char *agent_bin(void);
/* Starts the agent with env_add (NULL-terminated KEY=VALUE, may be NULL)
 * added to this process's environment. */
void agent_start(struct agent_proc *a, char *const env_add[]);
/* Closes stdin (EOF) and returns the exit status. */
int agent_finish(struct agent_proc *a);
/* Asserting nothing, for a test's teardown: kills the agent, if
 * agent_finish has not reaped it, and closes what is still open. A proc that
 * was never started has pid and in at -1. */
void agent_kill(struct agent_proc *a);
/* Sends one line and reads one response line within timeout_s. */
struct json_object *call_raw(struct agent_proc *a, const char *line, int timeout_s);

/* o[key], or NULL. */
struct json_object *get(struct json_object *o, const char *key);
/* Asserts an ok response to request `id`; returns its result. */
struct json_object *expect_ok(struct json_object *resp, int id);
/* Asserts a refusal of kind `code`; returns its message. */
const char *expect_err(struct json_object *resp, const char *code);

#endif
