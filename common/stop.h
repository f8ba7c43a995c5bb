/* Ctrl-C and SIGTERM (and, for a job that passes it on, SIGHUP unless nohup
 * ignores it) as a request to stop at the next safe point.
 * Signals belong to a process's entry point: the command (cli/) says how the
 * process takes them (the executor's children inherit that); the layers below never touch
 * a signal disposition, they only ask stop_requested() where stopping is
 * safe, and a lab_down never asks at all. */
#ifndef XLAB_STOP_H
#define XLAB_STOP_H

#include <stdbool.h>

enum stop_mode {
	/* The first signal sets the flag; the work stops at its next safe point
	 * and says so (kind XERR_INTERRUPTED). */
	STOP_AT_SAFE_POINT,
	/* The same, and as its job's leader the process passes the signal on
	 * to its group: long child tools (mmdebstrap) stop too. */
	STOP_AND_PASS_ON,
	/* Never cut: SIGINT is ignored (a down, a stop: half of one is worse). */
	STOP_NEVER,
};

void stop_on_signals(enum stop_mode mode);
bool stop_requested(void);
/* The signal that asked (0: none). */
int stop_signal(void);

#endif
