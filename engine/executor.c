#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stop.h"
#include "util.h"
#include "virt.h"

struct exec_pipe {
	int fd;        /* read end, -1 when not running */
	struct buf line; /* the job's unfinished line */
};

/* The child: output into the pipe, the job, its verdict as the exit status. */
static void __attribute__((noreturn))
job_child(struct exec_job *job, struct exec_pipe *pipes, size_t n, int wfd)
{
	int rc;

	/* Other jobs' read ends came along with the fork; they are not ours. */
	for (size_t k = 0; k < n; k++)
		if (pipes[k].fd >= 0)
			close(pipes[k].fd);
	dup2(wfd, STDOUT_FILENO);
	dup2(wfd, STDERR_FILENO);
	close(wfd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The parent ran no libvirt event loop (virt.h): the job's own, here. */
	virt_event_loop_defer(false);
	rc = job->run(job->arg);
	fflush(NULL);
	_exit(rc == 0 ? 0 : 1);
}

static int job_start(struct exec_job *job, struct exec_pipe *pipes, size_t n, size_t i,
		     struct xerr *e)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return xerr_errno(e, XERR_IO, "pipe for %s", job->label);
	/* The child inherits unwritten stdio buffers: empty them first. */
	fflush(NULL);
	job->pid = fork();
	if (job->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return xerr_errno(e, XERR_IO, "fork for %s", job->label);
	}
	if (job->pid == 0) {
		close(fds[0]);
		job_child(job, pipes, n, fds[1]);
	}
	close(fds[1]);
	pipes[i].fd = fds[0];
	job->started = true;
	return 0;
}

static void lines_print(const char *label, struct buf *line, const char *data, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		if (data[k] != '\n') {
			buf_append(line, &data[k], 1);
			continue;
		}
		fprintf(stderr, "[%s] %s\n", label, line->data ? line->data : "");
		buf_free(line);
	}
}

/* Reads what one job wrote; at its end, its last line and its status. */
static bool job_read(struct exec_job *job, struct exec_pipe *p)
{
	char data[4096];
	ssize_t r = read(p->fd, data, sizeof(data));

	if (r > 0) {
		lines_print(job->label, &p->line, data, (size_t)r);
		return false;
	}
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (p->line.data)
		lines_print(job->label, &p->line, "\n", 1);
	close(p->fd);
	p->fd = -1;
	while (waitpid(job->pid, &job->status, 0) < 0)
		if (errno != EINTR) {
			job->status = -1;
			break;
		}
	return true;
}

static void jobs_wait_any(struct exec_job *jobs, struct exec_pipe *pipes, size_t n,
			  size_t *running, int *busy)
{
	struct pollfd *p = xcalloc(n, sizeof(*p));

	for (size_t k = 0; k < n; k++)
		p[k] = (struct pollfd){ .fd = pipes[k].fd, .events = POLLIN };
	/* A stop signal interrupts the wait; the caller looks at the flag. */
	if (poll(p, n, -1) > 0)
		for (size_t k = 0; k < n; k++)
			if (pipes[k].fd >= 0 && (p[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    job_read(&jobs[k], &pipes[k])) {
				(*running)--;
				busy[jobs[k].slot]--;
			}
	free(p);
}

/* A stop asked of this process alone (`kill PID`, not a terminal's ^C,
 * which reaches the whole group) is passed to the running jobs once, so
 * each stops at its safe point as a thread of the old matrix did; a job
 * that already had it ignores the second. */
static void stop_pass_on(const struct exec_job *jobs, const struct exec_pipe *pipes, size_t n,
			 bool *passed)
{
	if (*passed || !stop_requested())
		return;
	*passed = true;
	for (size_t k = 0; k < n; k++)
		if (pipes[k].fd >= 0)
			kill(jobs[k].pid, stop_signal());
}

/* The slot with the most room left, or -1 when none has any. */
static int slot_pick(const int *caps, const int *busy, size_t n_slots)
{
	int best = -1;

	for (size_t k = 0; k < n_slots; k++)
		if (caps[k] - busy[k] > 0 && (best < 0 || caps[k] - busy[k] > caps[best] - busy[best]))
			best = (int)k;
	return best;
}

int executor_run_slots(struct exec_job *jobs, size_t n, const int *caps, size_t n_slots,
		       exec_started_fn started, void *ctx, struct xerr *e)
{
	bool passed = false;
	struct exec_pipe *pipes = xcalloc(n ? n : 1, sizeof(*pipes));
	int *busy = xcalloc(n_slots ? n_slots : 1, sizeof(*busy)), slot;
	size_t next = 0, running = 0;
	int rc = 0;

	for (size_t k = 0; k < n; k++) {
		pipes[k].fd = -1;
		jobs[k].started = false;
		jobs[k].status = -1;
		jobs[k].slot = 0;
	}
	for (;;) {
		while (rc == 0 && next < n && !stop_requested() &&
		       (slot = slot_pick(caps, busy, n_slots)) >= 0) {
			jobs[next].slot = slot;
			if (job_start(&jobs[next], pipes, n, next, e) < 0) {
				rc = -1;
				break;
			}
			busy[slot]++;
			if (started)
				started(&jobs[next], ctx);
			next++;
			running++;
		}
		if (!running)
			break;
		stop_pass_on(jobs, pipes, n, &passed);
		jobs_wait_any(jobs, pipes, n, &running, busy);
	}
	for (size_t k = 0; k < n; k++)
		buf_free(&pipes[k].line);
	free(pipes);
	free(busy);
	return rc;
}

int executor_run(struct exec_job *jobs, size_t n, int at_once, exec_started_fn started,
		 void *ctx, struct xerr *e)
{
	int limit = at_once < 1 || (size_t)at_once > n ? (int)n : at_once;

	return executor_run_slots(jobs, n, &limit, 1, started, ctx, e);
}

bool exec_job_ok(const struct exec_job *job)
{
	return job->started && job->status >= 0 && WIFEXITED(job->status) &&
	       WEXITSTATUS(job->status) == 0;
}

bool exec_job_killed(const struct exec_job *job)
{
	return job->started && job->status >= 0 && WIFSIGNALED(job->status);
}
