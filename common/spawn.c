#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stop.h"
#include "util.h"

/* On exec failure the child writes errno into exec_fd (close-on-exec, so the
 * parent reads nothing when exec succeeds). */
static void child_exec(char *const argv[], const struct spawn_opts *o, int in_fd,
		       int out_fd, int err_fd, int exec_fd)
{
	int saved;

	if (o->cwd && chdir(o->cwd) < 0)
		_exit(127);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	for (char *const *kv = o->env_add; kv && *kv; kv++)
		putenv(*kv);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	saved = errno;
	if (write(exec_fd, &saved, sizeof(saved)) < 0)
		_exit(127);
	_exit(127);
}

static int open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* A child may exit before it has read all its input (or never start: exec
 * failed): the write then fails with EPIPE, and the child's exit status says
 * what happened, instead of SIGPIPE ending xlab. The signal is blocked
 * around the write, and one the write raised (Linux raises it even when part
 * of the data went in first) is taken off before it is unblocked. */
static ssize_t write_no_sigpipe(int fd, const void *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t w;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	w = write(fd, p, n);
	saved = errno;
	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w;
}

/* A stop that reached xlab but not its child (`kill PID` from a script,
 * where xlab leads no process group to pass it on to) is handed to the
 * child once, or xlab would wait out a whole build or command. */
static void stop_forward(pid_t pid, bool *done)
{
	if (!*done && stop_requested()) {
		kill(pid, stop_signal());
		*done = true;
	}
}

/* Moves data between the child's pipes until both outputs close. */
static int pump(pid_t pid, int in_w, int out_r, int err_r, const struct spawn_opts *o,
		struct buf *out, struct buf *err, bool *timed_out)
{
	size_t in_off = 0;
	int64_t deadline = o->timeout_ms ? now_ms() + o->timeout_ms : 0;
	bool forwarded = false;

	while (out_r >= 0 || err_r >= 0 || in_w >= 0) {
		struct pollfd p[3];
		int n = 0, wait = -1, r;

		if (in_w >= 0)
			p[n++] = (struct pollfd){ .fd = in_w, .events = POLLOUT };
		if (out_r >= 0)
			p[n++] = (struct pollfd){ .fd = out_r, .events = POLLIN };
		if (err_r >= 0)
			p[n++] = (struct pollfd){ .fd = err_r, .events = POLLIN };
		if (deadline) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				kill(pid, SIGKILL);
				*timed_out = true;
				break;
			}
			wait = (int)left;
		}
		r = poll(p, (nfds_t)n, wait);
		if (r < 0 && errno == EINTR) {
			stop_forward(pid, &forwarded);
			continue;
		}
		if (r < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			char chunk[65536];
			ssize_t got;

			if (!p[i].revents)
				continue;
			if (p[i].fd == in_w) {
				ssize_t w = write_no_sigpipe(in_w, o->stdin_data + in_off,
							     o->stdin_len - in_off);

				if (w > 0)
					in_off += (size_t)w;
				if (w < 0 || in_off == o->stdin_len) {
					close(in_w);
					in_w = -1;
				}
				continue;
			}
			got = read(p[i].fd, chunk, sizeof(chunk));
			if (got > 0) {
				buf_append(p[i].fd == out_r ? out : err, chunk, (size_t)got);
				continue;
			}
			if (got < 0 && errno == EINTR)
				continue;
			close(p[i].fd);
			if (p[i].fd == out_r)
				out_r = -1;
			else
				err_r = -1;
		}
	}
	if (in_w >= 0)
		close(in_w);
	if (out_r >= 0)
		close(out_r);
	if (err_r >= 0)
		close(err_r);
	return 0;
}

int spawn_run(char *const argv[], const struct spawn_opts *opts, struct spawn_result *res,
	      struct xerr *e)
{
	static const struct spawn_opts none = { 0 };
	const struct spawn_opts *o = opts ? opts : &none;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int child_out, child_err, status, exec_pipe[2] = { -1, -1 }, exec_errno = 0;
	struct buf bo = { 0 }, be = { 0 };
	bool timed_out = false, forwarded = false;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (o->stdin_data ? pipe2(in, O_CLOEXEC) : (in[0] = open_null(O_RDONLY)) < 0)
		return xerr_errno(e, XERR_IO, "cannot run %s", argv[0]);
	if (o->capture_stdout && pipe2(out, O_CLOEXEC) < 0)
		goto fail;
	if (o->capture_stderr && pipe2(err, O_CLOEXEC) < 0)
		goto fail;
	child_out = o->capture_stdout ? out[1] : o->log_fd > 0 ? o->log_fd : 1;
	child_err = o->capture_stderr ? err[1] : o->log_fd > 0 ? o->log_fd : 2;
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child_exec(argv, o, in[0], child_out, child_err, exec_pipe[1]);
	close(exec_pipe[1]);
	exec_pipe[1] = -1;
	if (read(exec_pipe[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
		exec_errno = 0;
	close(exec_pipe[0]);
	close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err[1] >= 0)
		close(err[1]);
	pump(pid, in[1], out[0], err[0], o, &bo, &be, &timed_out);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		stop_forward(pid, &forwarded);
	if (timed_out)
		res->status = -1;
	else if (WIFEXITED(status))
		res->status = WEXITSTATUS(status);
	else
		res->status = 128 + WTERMSIG(status);
	if (exec_errno) {
		buf_free(&bo);
		buf_free(&be);
		errno = exec_errno;
		return xerr_errno(e, XERR_IO, "cannot run %s%s", argv[0],
				  exec_errno == ENOENT ? " (is it installed? see README)" : "");
	}
	if (o->capture_stdout) {
		res->out_len = bo.len;
		res->out = buf_steal(&bo);
	}
	if (o->capture_stderr) {
		res->err_len = be.len;
		res->err = buf_steal(&be);
	}
	return 0;
fail:
	xerr_errno(e, XERR_IO, "cannot run %s", argv[0]);
	for (int i = 0; i < 2; i++) {
		if (exec_pipe[i] >= 0)
			close(exec_pipe[i]);
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

static const char *last_line(const char *s, char *tmp, size_t tmpsz)
{
	size_t n;
	const char *start;

	if (!s)
		return "";
	n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	start = s + n;
	while (start > s && start[-1] != '\n')
		start--;
	snprintf(tmp, tmpsz, "%.*s", (int)(s + n - start), start);
	return tmp;
}

int spawn_check(char *const argv[], const struct spawn_opts *opts, struct spawn_result *res,
		struct xerr *e)
{
	struct spawn_opts o = opts ? *opts : (struct spawn_opts){ 0 };
	char tmp[512];

	o.capture_stderr = true;
	if (spawn_run(argv, &o, res, e) < 0)
		return -1;
	if (res->status == 0)
		return 0;
	if (res->status == -1)
		xerr_set(e, XERR_FAIL, "%s timed out after %d s", argv[0], o.timeout_ms / 1000);
	else
		xerr_set(e, XERR_FAIL, "%s failed (exit %d): %s", argv[0], res->status,
			 last_line(res->err, tmp, sizeof(tmp)));
	spawn_result_free(res);
	return -1;
}

void spawn_result_free(struct spawn_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}

int spawn_logged(char *const argv[], char *const env[], int log_fd, struct xerr *e)
{
	struct spawn_opts o = { .log_fd = log_fd, .env_add = env };
	struct spawn_result r;
	int status;

	if (spawn_run(argv, &o, &r, e) < 0)
		return -1;
	status = r.status;
	spawn_result_free(&r);
	if (status == 0)
		return 0;
	if (stop_requested())
		return xerr_set(e, XERR_INTERRUPTED, "interrupted (signal %d)", stop_signal());
	if (status > 128)
		return xerr_set(e, XERR_FAIL, "%s killed by signal %d", argv[0], status - 128);
	return xerr_set(e, XERR_FAIL, "%s exited with status %d", argv[0], status);
}
