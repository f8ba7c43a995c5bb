#include "run.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "text.h"
#include "util.h"

int run_begin(struct run *r, struct db *db, const char *lab, const char *command,
	      const char *spec_sha256, struct xerr *e)
{
	memset(r, 0, sizeof(*r));
	r->db = db;
	r->lab = lab;
	r->t0_ms = now_ms();
	pthread_mutex_init(&r->mu, NULL);
	return db_run_begin(db, lab, command, spec_sha256, &r->id, e);
}

void run_end(struct run *r, const char *status, const char *message)
{
	struct xerr e = { 0 };

	pthread_mutex_lock(&r->mu);
	if (db_run_end(r->db, r->id, status, message, &e) < 0)
		xerr_print(&e, "xlab: warning");
	pthread_mutex_unlock(&r->mu);
}

static void fault_point(const char *when, const struct step *s)
{
	const char *f = getenv("XLAB_FAULT");
	char want[160], with_target[160];

	if (!f || !*f)
		return;
	snprintf(want, sizeof(want), "%s:%s", when, s->name);
	snprintf(with_target, sizeof(with_target), "%s:%s@%s", when, s->name, s->target);
	if (strcmp(f, want) == 0 || strcmp(f, with_target) == 0) {
		fprintf(stderr, "xlab: fault injection: killing myself at %s\n", with_target);
		fflush(NULL);
		kill(getpid(), SIGKILL);
	}
}

void run_say(struct run *r, const char *target, const char *fmt, ...)
{
	char msg[1024];
	_cleanup_free_ char *shown = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote what dom0s and guests said: no escape sequence of
	 * theirs reaches the terminal. */
	shown = text_term(msg);
	pthread_mutex_lock(&r->mu);
	fprintf(stderr, "[%6.1fs] %s%s%s\n", (double)(now_ms() - r->t0_ms) / 1000.0,
		target && *target ? target : "", target && *target ? ": " : "", shown);
	pthread_mutex_unlock(&r->mu);
}

/* Steps that take long enough under TCG that silence would look like a hang. */
static bool step_is_slow(const char *name)
{
	static const char *const slow[] = { "host.prepare", "agent.push", "storage.init",
					    "guest.create", "guest.boot" };

	for (size_t i = 0; i < ARRAY_SIZE(slow); i++)
		if (strcmp(slow[i], name) == 0)
			return true;
	return false;
}

void step_begin(struct step *s, struct run *r, const char *name, const char *target)
{
	struct xerr e = { 0 };

	memset(s, 0, sizeof(*s));
	s->run = r;
	s->t0_ms = now_ms();
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->target, sizeof(s->target), "%s", target ? target : "");
	fault_point("begin", s);
	if (step_is_slow(name))
		run_say(r, s->target, "%s...", name);
	pthread_mutex_lock(&r->mu);
	if (db_step_begin(r->db, r->id, s->name, s->target, &s->id, &e) < 0)
		xerr_print(&e, "xlab: warning");
	pthread_mutex_unlock(&r->mu);
}

int step_end(struct step *s, int rc, const struct xerr *e)
{
	struct xerr dbe = { 0 };
	double secs = (double)(now_ms() - s->t0_ms) / 1000.0;

	pthread_mutex_lock(&s->run->mu);
	if (db_step_end(s->run->db, s->id, rc < 0 ? "failed" : "ok",
			rc < 0 && e ? e->msg : NULL, &dbe) < 0)
		xerr_print(&dbe, "xlab: warning");
	pthread_mutex_unlock(&s->run->mu);
	if (rc < 0 || secs >= 1.0)
		run_say(s->run, s->target, "%s %s (%.1f s)", s->name, rc < 0 ? "FAILED" : "done",
			secs);
	fault_point("end", s);
	return rc;
}

void step_skip(struct step *s, const char *why)
{
	struct xerr dbe = { 0 };

	pthread_mutex_lock(&s->run->mu);
	if (db_step_end(s->run->db, s->id, "skipped", why, &dbe) < 0)
		xerr_print(&dbe, "xlab: warning");
	pthread_mutex_unlock(&s->run->mu);
	fault_point("end", s);
}
