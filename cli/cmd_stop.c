/* xlab stop LAB|FILE: park a lab (hosts shut off cleanly, disks, guests and
 * store rows kept) for `xlab start` to bring back. Never cut halfway: half
 * the hosts stopped is a lab neither up nor parked. */
#include "cmd.h"
#include "park.h"

int cmd_stop(int argc, char **argv, struct xerr *e)
{
	return cmd_lab_uncut(argc, argv, "stop", lab_stop, e);
}
