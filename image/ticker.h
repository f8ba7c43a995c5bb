/* What the Xen builds share: a build of minutes says it is alive, and the
 * compiler a build used, as its first line of `gcc --version`. */
#ifndef XLAB_TICKER_H
#define XLAB_TICKER_H

#include <pthread.h>
#include <stdbool.h>

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

#endif
