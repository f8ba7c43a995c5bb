/* xlab down LAB|FILE: take a lab down (engine/down.c). */
#include "cmd.h"
#include "down.h"
#include "stop.h"
#include "util.h"

int cmd_down(int argc, char **argv, struct xerr *e)
{
	const char *connect;
	_cleanup_free_ char *lab = NULL;

	if (cmd_lab_args(argc, argv, "down", &lab, &connect, e) < 0)
		return -1;
	/* Finish even when the user presses Ctrl-C again: half a down is worse. */
	stop_on_signals(STOP_NEVER);
	return lab_down(lab, connect, e);
}
