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
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_stop_signal };

	if (mode == STOP_NEVER) {
		signal(SIGINT, SIG_IGN);
		return;
	}
	pass_on = mode == STOP_AND_PASS_ON;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

bool stop_requested(void)
{
	return stop_sig != 0;
}

int stop_signal(void)
{
	return stop_sig;
}
