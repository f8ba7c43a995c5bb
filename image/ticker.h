/* What the Xen and kernel builds share: a build of minutes says it is
 * alive, the compiler a build used (its first line of `gcc --version`),
 * and the lock that makes two builds of one cache entry wait for each
 * other. */
#ifndef XLAB_TICKER_H
#define XLAB_TICKER_H

#include <pthread.h>
#include <stdbool.h>

#include "err.h"

struct ticker {
	void (*alive)(void *ctx);
	void *ctx;
	int period_s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool done, running;
};

/* alive(ctx) every period_s seconds, from a thread, until ticker_stop. */
void ticker_start(struct ticker *t, int period_s, void (*alive)(void *ctx), void *ctx);
void ticker_stop(struct ticker *t);

/* The first line of `PREFIX... gcc --version` (prefix: NULL, or argv that
 * runs gcc elsewhere, NULL-terminated); "no gcc" when it does not run. */
char *gcc_version(char *const *prefix);

/* An exclusive flock on path (created) into *fd. When another build holds
 * it, says on stderr that it waits for another build of what, then waits;
 * a signal that asks xlab to stop ends the wait as an interruption. */
int build_lock_take(const char *path, const char *what, int *fd, struct xerr *e);

#endif
