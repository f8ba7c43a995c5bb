/* xlab matrix FILE [--xen 4.17,4.20 | --image IMG,...] [--types pv,pvh,hvm] [--jobs N] [--keep] [--json] [--junit FILE]
 * xlab matrix --compare ID1 ID2 [--json] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "matrix_run.h"
#include "stop.h"

static int id_parse(const char *s, int64_t *id, struct xerr *e)
{
	char *end;

	*id = strtoll(s, &end, 10);
	if (*end || *id <= 0)
		return cmd_usage_error(e, "matrix", "'%s' is not a matrix id", s);
	return 0;
}

int cmd_matrix(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "xen", required_argument, NULL, 'x' },
		{ "image", required_argument, NULL, 'i' },
		{ "types", required_argument, NULL, 'T' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'J' },
		{ "junit", required_argument, NULL, 'u' },
		{ "compare", no_argument, NULL, 'C' },
		{ "connect", required_argument, NULL, 'c' },
		{ "accel", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "servers", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct matrix_opts o = { .boot_timeout_s = 600 };
	bool compare = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'x':
			o.xen = optarg;
			break;
		case 'i':
			o.images = optarg;
			break;
		case 'T':
			o.types = optarg;
			break;
		case 'j':
			o.jobs = atoi(optarg);
			if (o.jobs <= 0)
				return cmd_usage_error(e, "matrix", "--jobs takes a number > 0");
			break;
		case 'k':
			o.keep = true;
			break;
		case 'S':
			o.servers = optarg;
			break;
		case 'J':
			o.json = true;
			break;
		case 'u':
			o.junit = optarg;
			break;
		case 'C':
			compare = true;
			break;
		case 'c':
			o.connect = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "kvm") != 0 && strcmp(optarg, "qemu") != 0)
				return cmd_usage_error(e, "matrix",
						       "--accel takes kvm or qemu, not '%s'", optarg);
			o.accel = optarg;
			break;
		case 't':
			o.boot_timeout_s = atoi(optarg);
			if (o.boot_timeout_s <= 0)
				return cmd_usage_error(e, "matrix", "--timeout takes seconds > 0");
			break;
		default:
			return cmd_usage_error(e, "matrix", "unknown option");
		}
	}
	/* Checked before anything runs: a matrix takes long to learn this. */
	if (o.json && o.junit && strcmp(o.junit, "-") == 0)
		return cmd_usage_error(e, "matrix", "--junit - and --json would both write to "
					 "stdout; give --junit a FILE");
	if (o.xen && o.images)
		return cmd_usage_error(e, "matrix", "--xen and --image both choose the columns; "
					 "give one (an image named for a version, xen-4.20, is the "
					 "same column as --xen 4.20)");
	if (compare) {
		int64_t a, b;

		if (argc - optind != 2)
			return cmd_usage_error(e, "matrix", "--compare takes two matrix ids");
		if (id_parse(argv[optind], &a, e) < 0 || id_parse(argv[optind + 1], &b, e) < 0)
			return -1;
		return matrix_compare(a, b, o.json, e);
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "matrix", "expected one spec file");
	stop_on_signals(STOP_AT_SAFE_POINT);
	return matrix_run(argv[optind], &o, e);
}
