/* xlab down LAB|FILE: take a lab down (engine/down.c), never cut halfway. */
#include "cmd.h"
#include "down.h"

int cmd_down(int argc, char **argv, struct xerr *e)
{
	return cmd_lab_uncut(argc, argv, "down", lab_down, e);
}
