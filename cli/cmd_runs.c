/* xlab runs [LAB] [--json] [--limit N]: the recorded runs, newest first. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "db.h"
#include "table.h"
#include "lab.h"
#include "util.h"

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void runs_json(const struct db_run *r, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(r[i].id));
		json_object_object_add(o, "lab", jstr(r[i].lab));
		json_object_object_add(o, "command", jstr(r[i].command));
		json_object_object_add(o, "status", jstr(r[i].status));
		json_object_object_add(o, "message", jstr(r[i].message));
		json_object_object_add(o, "spec_sha256", jstr(r[i].spec_sha256));
		json_object_object_add(o, "started", jstr(r[i].started));
		json_object_object_add(o, "ended", jstr(r[i].ended));
		json_object_object_add(o, "duration_ms", r[i].duration_ms < 0 ? NULL :
					json_object_new_int64(r[i].duration_ms));
		json_object_object_add(o, "pid", json_object_new_int(r[i].pid));
		json_object_object_add(o, "steps", json_object_new_int(r[i].steps));
		json_object_object_add(o, "steps_failed", json_object_new_int(r[i].steps_failed));
		json_object_object_add(o, "tests", json_object_new_int(r[i].tests));
		json_object_object_add(o, "tests_failed", json_object_new_int(r[i].tests_failed));
		json_object_array_add(a, o);
	}
	printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

static void runs_table(const struct db_run *r, size_t n)
{
	struct table *t = TABLE_NEW("", "ID", "LAB", "COMMAND", "STATUS", "TIME", "STEPS",
				    "TESTS", "STARTED");

	table_right(t, 0);
	for (size_t i = 4; i <= 6; i++)
		table_right(t, i);
	for (size_t i = 0; i < n; i++) {
		char id[24], tm[32] = "-", steps[24], tests[24] = "-";

		snprintf(id, sizeof(id), "%" PRId64, r[i].id);
		if (r[i].duration_ms >= 0)
			snprintf(tm, sizeof(tm), "%.1fs", (double)r[i].duration_ms / 1000.0);
		snprintf(steps, sizeof(steps), "%d", r[i].steps);
		if (r[i].tests)
			snprintf(tests, sizeof(tests), "%d/%d", r[i].tests - r[i].tests_failed,
				 r[i].tests);
		TABLE_ROW(t, id, r[i].lab, r[i].command, r[i].status, tm, steps, tests,
			  r[i].started);
	}
	table_print(t, stdout);
	table_free(t);
}

int cmd_runs(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct db *db = NULL;
	struct db_run *runs = NULL;
	size_t n = 0;
	bool json = false;
	int limit = 50, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 1 || v > 1000000)
				return cmd_usage_error(e, "runs", "--limit takes a number of runs "
						       "from 1 to 1000000, not '%s'", optarg);
			limit = (int)v;
			break;
		}
		default:
			return cmd_usage_error(e, "runs", "unknown option");
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error(e, "runs", "at most one lab name");
	if (db_open_default(&db, e) < 0)
		return -1;
	if (optind < argc && lab_require(db, argv[optind], NULL, e) < 0) {
		db_close(db);
		return -1;
	}
	if (db_runs_list(db, optind < argc ? argv[optind] : NULL, limit, &runs, &n, e) < 0) {
		db_close(db);
		return -1;
	}
	if (json)
		runs_json(runs, n);
	else if (n == 0)
		printf("no runs recorded%s%s\n", optind < argc ? " for lab " : "",
		       optind < argc ? argv[optind] : "");
	else
		runs_table(runs, n);
	db_runs_free(runs, n);
	db_close(db);
	return 0;
}
