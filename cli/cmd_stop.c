/* xlab stop LAB|FILE: park a lab (hosts shut off cleanly, disks, guests and
 * store rows kept) for `xlab start` to bring back. */
#include "cmd.h"
#include "lab.h"
#include "park.h"
#include "stop.h"
#include "util.h"

int cmd_stop(int argc, char **argv, struct xerr *e)
{
	const char *connect;
	_cleanup_free_ char *lab = NULL;

	if (cmd_lab_args(argc, argv, "stop", &lab, &connect, e) < 0)
		return -1;
	/* Finish once begun: half the hosts stopped is a lab neither up nor parked. */
	stop_on_signals(STOP_NEVER);
	return lab_stop(lab, connect, e);
}
