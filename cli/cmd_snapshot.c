/* xlab snapshot [create] LAB NAME | list LAB [--json] | rm LAB NAME, and
 * xlab revert LAB NAME: a running lab kept whole and brought back
 * (engine/snapshot.c). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "lab.h"
#include "snapshot.h"
#include "stop.h"
#include "table.h"
#include "util.h"

/* LAB NAME and --connect (and --timeout when timeout_s is not NULL). */
static int lab_name_args(int argc, char **argv, const char *where, char **lab,
			 const char **name, const char **connect, int *timeout_s,
			 struct xerr *e)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*connect = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'c') {
			*connect = optarg;
		} else if (c == 't' && timeout_s) {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v <= 0 || v > 86400)
				return cmd_usage_error(e, where,
						       "--timeout takes seconds (1-86400), not '%s'",
						       optarg);
			*timeout_s = (int)v;
		} else {
			return cmd_usage_error(e, where, "unknown option");
		}
	}
	if (optind != argc - 2)
		return cmd_usage_error(e, where, "expected a lab and a snapshot name");
	*name = argv[optind + 1];
	return lab_name_from_arg(argv[optind], lab, e);
}

static int snapshot_create(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *lab = NULL;
	const char *name, *connect;

	if (lab_name_args(argc, argv, "snapshot", &lab, &name, &connect, NULL, e) < 0)
		return -1;
	/* Cut halfway a lab would stay paused: the snapshot finishes first. */
	stop_on_signals(STOP_NEVER);
	return lab_snapshot(lab, name, connect, NULL, e);
}

static int snapshot_rm(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *lab = NULL;
	const char *name, *connect;

	if (lab_name_args(argc, argv, "snapshot rm", &lab, &name, &connect, NULL, e) < 0)
		return -1;
	stop_on_signals(STOP_NEVER);
	return lab_snapshot_rm(lab, name, connect, e);
}

static void list_json(const struct db_snapshot *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		struct json_object *hosts = json_object_new_array();
		char *save = NULL, *dup = xstrdup(v[i].hosts);

		for (char *h = strtok_r(dup, ",", &save); h; h = strtok_r(NULL, ",", &save))
			json_object_array_add(hosts, json_object_new_string(h));
		free(dup);
		json_object_object_add(o, "name", json_object_new_string(v[i].name));
		json_object_object_add(o, "created", json_object_new_string(v[i].created));
		json_object_object_add(o, "hosts", hosts);
		json_object_object_add(o, "guests", json_object_new_int(v[i].guests));
		json_object_object_add(o, "duration_ms",
				       v[i].duration_ms < 0 ? NULL
							    : json_object_new_int64(v[i].duration_ms));
		json_object_array_add(a, o);
	}
	printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

static void list_table(const char *lab, const struct db_snapshot *v, size_t n)
{
	struct table *t;

	if (n == 0) {
		printf("lab '%s' has no snapshots; `xlab snapshot %s NAME` takes one\n", lab, lab);
		return;
	}
	t = TABLE_NEW("", "Name", "Taken", "Hosts", "Guests", "Took");
	table_right(t, 3);
	table_right(t, 4);
	for (size_t i = 0; i < n; i++) {
		char guests[16], took[32];

		snprintf(guests, sizeof(guests), "%d", v[i].guests);
		if (v[i].duration_ms >= 0)
			snprintf(took, sizeof(took), "%.1f s", v[i].duration_ms / 1000.0);
		TABLE_ROW(t, v[i].name, v[i].created, v[i].hosts, guests,
			  v[i].duration_ms >= 0 ? took : NULL);
	}
	table_print(t, stdout);
	table_free(t);
}

static int snapshot_list(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *lab = NULL;
	struct db_snapshot *v = NULL;
	struct db *db = NULL;
	bool json = false;
	size_t n = 0;
	int rc = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (lab)
			return cmd_usage_error(e, "snapshot list", "expected one lab");
		else if (lab_name_from_arg(argv[i], &lab, e) < 0)
			return -1;
	}
	if (!lab)
		return cmd_usage_error(e, "snapshot list", "which lab?");
	if (db_open_default(&db, e) < 0 || lab_require(db, lab, NULL, e) < 0 ||
	    db_snapshots_list(db, lab, &v, &n, e) < 0)
		goto out;
	if (json)
		list_json(v, n);
	else
		list_table(lab, v, n);
	rc = 0;
out:
	db_snapshots_free(v, n);
	if (db)
		db_close(db);
	return rc;
}

/* `xlab snapshot lsit demo` would take a snapshot "demo" of a lab "lsit":
 * a first word that names no lab but is near a subcommand is that typo. */
static int typo_of_sub(const char *word, struct xerr *e)
{
	static const char *const names[] = { "create", "list", "rm" };
	const char *near = word_nearest(word, names, ARRAY_SIZE(names));
	struct db_lab *l = NULL;
	struct db *db = NULL;
	struct xerr ignore = { 0 };
	bool known;

	if (!near || word[0] == '-' || strchr(word, '/') || db_open_default(&db, &ignore) < 0)
		return 0;
	known = db_lab_get(db, word, &l, &ignore) == 0 && l;
	db_lab_free(l);
	db_close(db);
	if (known)
		return 0;
	return cmd_usage_error(e, "snapshot", "no lab '%s' and no subcommand '%s'; did you mean "
			       "'%s'?", word, word, near);
}

int cmd_snapshot(int argc, char **argv, struct xerr *e)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv, struct xerr *e);
	} subs[] = {
		{ "create", snapshot_create },
		{ "list", snapshot_list },
		{ "rm", snapshot_rm },
	};

	if (argc < 2)
		return cmd_usage_error(e, "snapshot", "expected a lab and a snapshot name");
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(subs[i].name, argv[1]) == 0)
			return subs[i].fn(argc - 1, argv + 1, e);
	if (typo_of_sub(argv[1], e) < 0)
		return -1;
	return snapshot_create(argc, argv, e);
}

int cmd_revert(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *lab = NULL;
	const char *name, *connect;
	int timeout_s = 600;

	if (lab_name_args(argc, argv, "revert", &lab, &name, &connect, &timeout_s, e) < 0)
		return -1;
	stop_on_signals(STOP_NEVER);
	return lab_revert(lab, name, connect, timeout_s, NULL, e);
}
