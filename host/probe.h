/* A ping probe: a thread sends ICMP echo requests to one address every
 * interval and records when each reply came back (CLOCK_MONOTONIC, µs), so
 * the longest gap between replies measures how long a guest was unreachable.
 * Uses a raw socket (root); the caller runs in the lab's network. */
#ifndef XLAB_PROBE_H
#define XLAB_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct probe;

int probe_start(const char *ipv4, int interval_ms, struct probe **out, struct xerr *e);
/* A copy of the reply times so far (caller frees *t) and how many. */
size_t probe_replies(struct probe *p, int64_t **t);
/* The time of the latest reply, or -1 when none came yet. */
int64_t probe_last_reply(struct probe *p);
size_t probe_sent(struct probe *p);
void probe_stop(struct probe *p);

/* CLOCK_MONOTONIC in µs: the clock of the reply times. */
int64_t probe_now_us(void);

#endif
