/* xlab start LAB|FILE: bring a stopped lab back as it was: its hosts from
 * their kept disks, its guests (the spec's and those made by hand) from
 * their kept volumes, nothing made again. */
#include <getopt.h>
#include <stdlib.h>

#include "cmd.h"
#include "lab.h"
#include "park.h"
#include "util.h"

int cmd_start(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *connect = NULL;
	_cleanup_free_ char *lab = NULL;
	int c, timeout_s = 600;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			connect = optarg;
			break;
		case 't':
			timeout_s = atoi(optarg);
			if (timeout_s <= 0)
				return cmd_usage_error(e, "start", "--timeout takes seconds > 0");
			break;
		default:
			return cmd_usage_error(e, "start", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "start", "expected one lab name or spec file");
	if (lab_name_from_arg(argv[optind], &lab, e) < 0)
		return -1;
	return lab_start(lab, connect, timeout_s, e);
}
