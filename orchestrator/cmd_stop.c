/* xlab stop LAB|FILE: park a lab (hosts shut off cleanly, disks, guests and
 * store rows kept) for `xlab start` to bring back. */
#include <getopt.h>

#include "cmd.h"
#include "lab.h"
#include "park.h"
#include "util.h"

int cmd_stop(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *connect = NULL;
	_cleanup_free_ char *lab = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'c')
			return cmd_usage_error(e, "stop", "unknown option");
		connect = optarg;
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "stop", "expected one lab name or spec file");
	if (lab_name_from_arg(argv[optind], &lab, e) < 0)
		return -1;
	return lab_stop(lab, connect, e);
}
