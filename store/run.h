/* A run of a command that changes a lab (up, down, test): every step is
 * recorded in the store before and after it runs, and shown on the terminal.
 * Safe to use from the per-host worker threads. */
#ifndef XLAB_RUN_H
#define XLAB_RUN_H

#include <pthread.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

struct run {
	struct db *db;
	int64_t id;
	const char *lab;
	int64_t t0_ms;
	pthread_mutex_t mu;
};

int run_begin(struct run *r, struct db *db, const char *lab, const char *command,
	      const char *spec_sha256, struct xerr *e);
/* status: "ok", "failed", "interrupted". */
void run_end(struct run *r, const char *status, const char *message);

struct step {
	struct run *run;
	int64_t id;
	int64_t t0_ms;
	char name[64];
	char target[64];
};

/* Records and announces a step. XLAB_FAULT=begin:NAME[@TARGET] or
 * end:NAME[@TARGET] kills the process with SIGKILL at that boundary, so tests
 * can prove that a run cut anywhere converges on the next one. */
void step_begin(struct step *s, struct run *r, const char *name, const char *target);
/* rc < 0: failed with e's message; returns rc so callers can `return step_end(...)`. */
int step_end(struct step *s, int rc, const struct xerr *e);
/* A step that had nothing to do. */
void step_skip(struct step *s, const char *why);

/* Thread-safe progress line: "[  12.3s] TARGET: text". */
void run_say(struct run *r, const char *target, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
