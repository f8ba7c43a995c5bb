/* The one way xlab runs several labs at once (class copies, matrix cells):
 * each job is a forked process of its own, at most `at_once` at a time.
 *
 * Processes, not threads, because a lab's bring-up is long, talks to
 * libvirt, libssh and sqlite, and may crash or be killed: in its own
 * process that stays the job's failure, with its own lock, connections and
 * store handle, and its output reaches the terminal whole, line by line,
 * prefixed with its label. A job reports back through its exit status and
 * the store, never through memory.
 *
 * Signals stay with the entry point: a child inherits the disposition the
 * command chose (stop_on_signals), so a Ctrl-C reaches every running job,
 * each stops at its own safe point, and the executor starts no further job
 * once stop_requested(); a stop sent to this process alone (kill PID) is
 * passed on to the running jobs. */
#ifndef XLAB_EXECUTOR_H
#define XLAB_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct exec_job {
	const char *label; /* prefixes every line the job prints */
	/* Runs in the child: 0 when the job succeeded. Its output goes to
	 * the parent through a pipe. */
	int (*run)(void *arg);
	void *arg;
	/* Filled in by executor_run. */
	/* The slot it runs in (executor_run_slots), set before its process
	 * forks: run() reads it through the job. 0 with executor_run. */
	int slot;
	bool started;
	pid_t pid;
	int status; /* waitpid's, once it ended */
};

/* Called in the parent as each job starts (its pid known). */
typedef void (*exec_started_fn)(const struct exec_job *job, void *ctx);

/* Runs the jobs, at most at_once at a time (< 1: all at once), until every
 * started job has ended; after a stop request none further starts. Returns
 * -1 only when the executor itself failed (pipe, fork), once the jobs
 * already started have ended. */
int executor_run(struct exec_job *jobs, size_t n, int at_once, exec_started_fn started,
		 void *ctx, struct xerr *e);

/* The same over slots (the servers of a matrix): slot k runs at most
 * caps[k] jobs at once, and each job, as it starts, goes to the slot with
 * the most room left (the first on a tie); jobs wait while no slot has
 * room. */
int executor_run_slots(struct exec_job *jobs, size_t n, const int *caps, size_t n_slots,
		       exec_started_fn started, void *ctx, struct xerr *e);

/* The job ran and exited 0. */
bool exec_job_ok(const struct exec_job *job);
/* The job ran and died of a signal (it could record nothing itself). */
bool exec_job_killed(const struct exec_job *job);

#endif
