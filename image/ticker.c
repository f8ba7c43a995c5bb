#include "ticker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "spawn.h"
#include "stop.h"
#include "util.h"

static void *tick(void *arg)
{
	struct ticker *t = arg;
	struct timespec ts;

	pthread_mutex_lock(&t->mu);
	while (!t->done) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t->period_s;
		if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) != 0 && !t->done)
			t->alive(t->ctx);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

void ticker_start(struct ticker *t, int period_s, void (*alive)(void *ctx), void *ctx)
{
	*t = (struct ticker){ .alive = alive, .ctx = ctx, .period_s = period_s };
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	/* Without the thread the build runs as well, only quietly. */
	t->running = pthread_create(&t->th, NULL, tick, t) == 0;
}

void ticker_stop(struct ticker *t)
{
	pthread_mutex_lock(&t->mu);
	t->done = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (t->running)
		pthread_join(t->th, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}

char *gcc_version(char *const *prefix)
{
	char *argv[16];
	size_t n = 0;
	struct spawn_opts so = { .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r = { 0 };
	struct xerr ignore = { 0 };
	char *id;

	for (; prefix && prefix[n] && n < ARRAY_SIZE(argv) - 3; n++)
		argv[n] = prefix[n];
	argv[n++] = prefix ? "/usr/bin/gcc" : "gcc";
	argv[n++] = "--version";
	argv[n] = NULL;
	if (spawn_run(argv, &so, &r, &ignore) < 0 || r.status != 0 || !r.out) {
		spawn_result_free(&r);
		return xstrdup("no gcc");
	}
	id = xstrndup(r.out, strcspn(r.out, "\n"));
	spawn_result_free(&r);
	return id;
}

int build_lock_take(const char *path, const char *what, int *fd, struct xerr *e)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	fprintf(stderr, "waiting for another build of %s (%s)\n", what, path);
	if (flock(*fd, LOCK_EX) < 0) {
		if (errno == EINTR && stop_requested())
			return xerr_set(e, XERR_INTERRUPTED,
					"interrupted while waiting for the other build (%s)", path);
		return xerr_errno(e, XERR_IO, "cannot lock %s", path);
	}
	return 0;
}
