/* xlab up FILE: boot the lab's nested Xen hosts, build its guests, run its tests. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "experiment.h"
#include "up.h"

int cmd_up(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "accel", required_argument, NULL, 'a' },
		{ "recreate", no_argument, NULL, 'r' },
		{ "no-guests", no_argument, NULL, 'G' },
		{ "no-tests", no_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 't' },
		{ "experiments", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	struct up_opts o = { .boot_timeout_s = 600 };
	bool experiments = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.connect = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "kvm") != 0 && strcmp(optarg, "qemu") != 0)
				return cmd_usage_error(e, "up", "--accel takes kvm or qemu, not '%s'",
						       optarg);
			o.accel = optarg;
			break;
		case 'r':
			o.recreate = true;
			break;
		case 'G':
			o.no_guests = true;
			break;
		case 'T':
			o.no_tests = true;
			break;
		case 'X':
			experiments = true;
			break;
		case 't':
			o.boot_timeout_s = atoi(optarg);
			if (o.boot_timeout_s <= 0)
				return cmd_usage_error(e, "up", "--timeout takes seconds > 0");
			break;
		default:
			return cmd_usage_error(e, "up", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "up", "expected one spec file");
	if (lab_up(argv[optind], &o, e) < 0)
		return -1;
	return experiments ? experiment_run_lab(argv[optind], &(struct experiment_opts){ 0 }, NULL, e) :
			     0;
}
