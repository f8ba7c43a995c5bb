/* The executor with real forks: limits, output, verdicts, a stop request. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "stop.h"
#include "util.h"

static char events[] = "/tmp/xlab-test-executor-XXXXXX";
static int events_fd = -1;

static void setup(void)
{
	strcpy(events, "/tmp/xlab-test-executor-XXXXXX");
	events_fd = mkstemp(events);
	cr_assert_geq(events_fd, 0);
}

static void teardown(void)
{
	close(events_fd);
	unlink(events);
}

TestSuite(executor, .init = setup, .fini = teardown);

static void event(char what, int i)
{
	char line[16];
	int n = snprintf(line, sizeof(line), "%c%d\n", what, i);

	/* O_APPEND writes this small are whole: the order is the order they ran. */
	if (write(events_fd, line, (size_t)n) != n)
		_exit(3);
}

static int job_sleepy(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct timespec ts = { 0, 80 * 1000 * 1000 };

	event('s', i);
	nanosleep(&ts, NULL);
	printf("job %d says hello\n", i);
	fprintf(stderr, "job %d unfinished line", i);
	event('e', i);
	return i == 2; /* job 2 fails */
}

/* The most jobs that ever ran at once, from the events file. */
static int max_overlap(void)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	struct xerr e = { 0 };
	int now = 0, most = 0;

	cr_assert_eq(file_read_all(events, 1 << 16, &data, &len, &e), 0, "%s", e.msg);
	for (char *p = data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		now += *p == 's' ? 1 : -1;
		most = now > most ? now : most;
	}
	return most;
}

static char *stderr_of(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/xlab-test-executor-err-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	struct xerr e = { 0 };

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	cr_assert_eq(file_read_all(path, 1 << 20, &data, &len, &e), 0, "%s", e.msg);
	unlink(path);
	return xstrdup(data ? data : "");
}

struct four {
	struct exec_job jobs[4];
	int at_once, rc;
};

static void run_four(void *arg)
{
	struct four *f = arg;
	struct xerr e = { 0 };
	static const char *labels[] = { "lab-0", "lab-1", "lab-2", "lab-3" };

	for (int i = 0; i < 4; i++)
		f->jobs[i] = (struct exec_job){ .label = labels[i], .run = job_sleepy,
						.arg = (void *)(intptr_t)i };
	f->rc = executor_run(f->jobs, 4, f->at_once, NULL, NULL, &e);
}

/* Two at a time means two at a time; every job runs; each line of a job's
 * stdout and stderr (even the last, unfinished one) comes out whole with
 * its label; a job's return is its verdict. */
Test(executor, runs_every_job_at_most_n_at_once_with_labelled_lines)
{
	struct four f = { .at_once = 2 };
	_cleanup_free_ char *err = stderr_of(run_four, &f);

	cr_assert_eq(f.rc, 0);
	cr_assert_eq(max_overlap(), 2, "jobs at once: %d", max_overlap());
	for (int i = 0; i < 4; i++) {
		char want[64];

		cr_assert(f.jobs[i].started);
		cr_assert_eq(exec_job_ok(&f.jobs[i]), i != 2, "job %d", i);
		cr_assert_not(exec_job_killed(&f.jobs[i]));
		snprintf(want, sizeof(want), "[lab-%d] job %d says hello\n", i, i);
		cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
		snprintf(want, sizeof(want), "[lab-%d] job %d unfinished line\n", i, i);
		cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	}
}

/* A job that says which slot it ran in (it reads its own job, as a matrix
 * cell reads its server). */
static int job_slotted(void *arg)
{
	const struct exec_job *j = arg;
	struct timespec ts = { 0, 60 * 1000 * 1000 };

	event('s', j->slot);
	nanosleep(&ts, NULL);
	event('e', j->slot);
	return 0;
}

/* Slots of 1 and 2: at most that many at once in each, both used, every
 * job run; the first job goes to the roomier slot. */
Test(executor, slots_hold_at_most_their_caps)
{
	struct exec_job jobs[7];
	const int caps[] = { 1, 2 };
	_cleanup_free_ char *data = NULL;
	int now[2] = { 0 }, most[2] = { 0 }, ran[2] = { 0 };
	struct xerr e = { 0 };
	size_t len = 0;

	for (int i = 0; i < 7; i++) {
		jobs[i] = (struct exec_job){ .label = "slot", .run = job_slotted };
		jobs[i].arg = &jobs[i];
	}
	cr_assert_eq(executor_run_slots(jobs, 7, caps, 2, NULL, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(jobs[0].slot, 1);
	cr_assert_eq(file_read_all(events, 1 << 16, &data, &len, &e), 0, "%s", e.msg);
	for (char *p = data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		int k = p[1] - '0';

		cr_assert(k == 0 || k == 1, "%s", data);
		now[k] += *p == 's' ? 1 : -1;
		ran[k] += *p == 's';
		most[k] = now[k] > most[k] ? now[k] : most[k];
	}
	cr_expect_eq(most[0], 1, "slot 0 at once: %d", most[0]);
	cr_expect_eq(most[1], 2, "slot 1 at once: %d", most[1]);
	cr_expect_eq(ran[0] + ran[1], 7);
	cr_expect(ran[0] > 0 && ran[1] > 0);
	for (int i = 0; i < 7; i++)
		cr_expect(exec_job_ok(&jobs[i]), "job %d", i);
}

Test(executor, all_at_once_when_not_limited)
{
	struct four f = { .at_once = 0 };
	_cleanup_free_ char *err = stderr_of(run_four, &f);

	cr_assert_eq(f.rc, 0);
	cr_assert_eq(max_overlap(), 4, "jobs at once: %d", max_overlap());
}

static int job_killed(void *arg)
{
	(void)arg;
	raise(SIGKILL);
	return 0;
}

static int job_asks_stop(void *arg)
{
	(void)arg;
	event('s', 0);
	/* What a Ctrl-C does to the parent: the flag, not its death. */
	kill(getppid(), SIGINT);
	event('e', 0);
	return 0;
}

/* A job that dies of a signal is told apart from one that failed. */
Test(executor, a_killed_job_is_killed_not_failed)
{
	struct exec_job j = { .label = "k", .run = job_killed };
	struct xerr e = { 0 };

	cr_assert_eq(executor_run(&j, 1, 1, NULL, NULL, &e), 0);
	cr_assert(j.started);
	cr_assert_not(exec_job_ok(&j));
	cr_assert(exec_job_killed(&j));
}

static void started_count(const struct exec_job *job, void *ctx)
{
	cr_assert_gt(job->pid, 0);
	(*(int *)ctx)++;
}

/* A stop request while a job runs lets it end, and starts no further job. */
Test(executor, a_stop_request_starts_no_further_job)
{
	struct exec_job j[3];
	struct xerr e = { 0 };
	int started = 0;

	stop_on_signals(STOP_AT_SAFE_POINT);
	for (int i = 0; i < 3; i++)
		j[i] = (struct exec_job){ .label = "s", .run = job_asks_stop };
	cr_assert_eq(executor_run(j, 3, 1, started_count, &started, &e), 0);
	cr_assert(stop_requested());
	cr_assert_eq(started, 1);
	cr_assert(exec_job_ok(&j[0]));
	cr_assert_not(j[1].started);
	cr_assert_not(j[2].started);
	cr_assert_not(exec_job_ok(&j[1]));
}

/* Waits for a stop for up to 5 s: 7 when it saw one, 0 when none came. */
static int job_waits_for_stop(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500 && !stop_requested(); i++)
		usleep(10 * 1000);
	return stop_requested() ? 7 : 0;
}

static int job_kills_parent_only(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	/* `kill PID` of the command: only the parent gets it. */
	kill(getppid(), SIGTERM);
	return 0;
}

/* A stop that reached only the executor's process is passed to the jobs
 * still running, which end early at their safe point. */
Test(executor, a_stop_of_the_parent_alone_reaches_the_running_jobs)
{
	struct exec_job j[2] = {
		{ .label = "waiter", .run = job_waits_for_stop },
		{ .label = "killer", .run = job_kills_parent_only },
	};
	struct xerr e = { 0 };
	int64_t t0 = now_ms();

	stop_on_signals(STOP_AT_SAFE_POINT);
	cr_assert_eq(executor_run(j, 2, 2, NULL, NULL, &e), 0);
	cr_assert(j[0].started && WIFEXITED(j[0].status));
	cr_expect_eq(WEXITSTATUS(j[0].status), 1, "the waiter never heard of the stop");
	cr_expect_lt(now_ms() - t0, 4000, "the waiter ran its full 5 s");
}
