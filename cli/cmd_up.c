/* xlab up FILE: boot the lab's nested Xen hosts, build its guests, run its tests. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cmd.h"
#include "db.h"
#include "experiment.h"
#include "lab.h"
#include "stop.h"
#include "up.h"
#include "util.h"

/* `up LAB`: the spec the store recorded at the lab's last up, as `down`
 * and `test` take a name. A path, or a file that exists, is a spec. */
static int spec_of(const char *arg, char **path, struct xerr *e)
{
	struct db *db = NULL;
	struct db_lab *l = NULL;
	struct stat st;
	int rc = -1;

	if (strchr(arg, '/') || (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) || strstr(arg, ".y")) {
		*path = xstrdup(arg);
		return 0;
	}
	if (db_open_default(&db, e) < 0)
		return -1;
	if (lab_require(db, arg, &l, e) < 0)
		goto out;
	if (!l->spec_path || !*l->spec_path) {
		xerr_set(e, XERR_FAIL, "lab '%s' has no spec recorded; give its FILE", arg);
		goto out;
	}
	*path = xstrdup(l->spec_path);
	rc = 0;
out:
	db_lab_free(l);
	db_close(db);
	return rc;
}

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
		{ "server", required_argument, NULL, 's' },
		{ "servers", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct up_opts o = { .boot_timeout_s = 600 };
	bool experiments = false;
	_cleanup_free_ char *path = NULL;
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
		case 's':
			o.server = optarg;
			break;
		case 'S':
			o.servers = optarg;
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
		return cmd_usage_error(e, "up", "expected one spec file or lab name");
	stop_on_signals(STOP_AT_SAFE_POINT);
	if (spec_of(argv[optind], &path, e) < 0 || lab_up(path, &o, e) < 0)
		return -1;
	return experiments ? experiment_run_lab(path, &(struct experiment_opts){ 0 }, NULL, e) : 0;
}
