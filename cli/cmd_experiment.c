/* xlab experiment LAB [NAME] [--rounds N]: run a lab's migration
 * experiments (all, or the one named) on the lab as it is up. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "experiment.h"
#include "stop.h"

int cmd_experiment(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct experiment_opts o = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		long v;

		if (c != 'r')
			return cmd_usage_error(e, "experiment", "unknown option");
		v = strtol(optarg, &end, 10);
		if (*end || end == optarg || v < 1 || v > 1000)
			return cmd_usage_error(e, "experiment",
					       "--rounds takes a number from 1 to 1000, not '%s'",
					       optarg);
		o.rounds = (int)v;
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cmd_usage_error(e, "experiment", "expected a lab and optionally an experiment");
	o.name = argc - optind == 2 ? argv[optind + 1] : NULL;
	stop_on_signals(STOP_AT_SAFE_POINT);
	return experiment_run_lab(argv[optind], &o, NULL, e);
}
