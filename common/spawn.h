/* Child processes as argv vectors: input never becomes shell text. */
#ifndef XLAB_SPAWN_H
#define XLAB_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct spawn_opts {
	const char *stdin_data;   /* fed to the child's stdin (NULL: /dev/null) */
	size_t stdin_len;
	bool capture_stdout;      /* else inherited (or to log_fd) */
	bool capture_stderr;
	int log_fd;               /* >0: uncaptured stdout/stderr go here */
	int timeout_ms;           /* 0: none; on expiry the child gets SIGKILL */
	const char *cwd;
	char *const *env_add;     /* "KEY=VALUE" entries added to the environment */
};

struct spawn_result {
	int status;   /* exit code; 128+signal when killed; -1 timed out */
	char *out;    /* captured stdout, NUL-terminated (or NULL) */
	size_t out_len;
	char *err;    /* captured stderr, NUL-terminated (or NULL) */
	size_t err_len;
};

/* Runs argv[0] (found in PATH) to completion. Returns 0 when it could be run
 * (whatever its exit status), -1 when it could not be started (errno says
 * why: ENOENT when argv[0] is not in PATH). */
int spawn_run(char *const argv[], const struct spawn_opts *opts,
	      struct spawn_result *res, struct xerr *e);
/* Runs and turns a non-zero exit into an error naming the program and the
 * last line of its stderr. */
int spawn_check(char *const argv[], const struct spawn_opts *opts,
		struct spawn_result *res, struct xerr *e);
void spawn_result_free(struct spawn_result *res);
/* Runs argv (env added) with its stdout and stderr appended to log_fd, as
 * the long builds do so that they can be followed with tail -f. A non-zero
 * exit is an error saying how it ended; after a stop request, interrupted. */
int spawn_logged(char *const argv[], char *const env[], int log_fd, struct xerr *e);

#endif
