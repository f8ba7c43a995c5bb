#include "stop.h"

#include <signal.h>
#include <stddef.h>
#include <unistd.h>

static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t pass_on;

static void on_stop_signal(int sig)
{
	if (stop_sig)
		return;
	stop_sig = sig;
	/* A terminal's ^C reaches the whole group anyway; a `kill PID` does
	 * not, so the leader passes it on. */
	if (pass_on && getpgrp() == getpid())
		kill(0, sig);
}

void stop_on_signals(enum stop_mode mode)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old;

	if (mode == STOP_NEVER) {
		signal(SIGINT, SIG_IGN);
		return;
	}
	pass_on = mode == STOP_AND_PASS_ON;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A hang-up stops a job that takes its children with it (an image
	 * build); any other command dies of it as before, and under nohup(1),
	 * which ignores it, nothing changes. */
	if (mode == STOP_AND_PASS_ON && sigaction(SIGHUP, NULL, &old) == 0 &&
	    old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
}

bool stop_requested(void)
{
	return stop_sig != 0;
}

int stop_signal(void)
{
	return stop_sig;
}
