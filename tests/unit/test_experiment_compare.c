/* `xlab report --compare` and the plot script, on runs recorded in a real
 * store (a sqlite file in a temporary directory). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "experiment_report.h"
#include "util.h"

static char dir[] = "/tmp/xlab-test-compare-XXXXXX";
static struct db *db;
static int64_t run_a, run_b, run_empty;

struct round {
	const char *name;
	bool ok;
	int64_t wall_ms, downtime_ms;
};

static void record(int64_t run, const struct round *r, size_t n)
{
	struct xerr e = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct db_experiment_round x = {
			.run_id = run, .experiment = r[i].name, .round = (int)i + 1, .guest = "mig1",
			.src = i % 2 ? "h2" : "h1", .dst = i % 2 ? "h1" : "h2", .ok = r[i].ok,
			.wall_ms = r[i].wall_ms, .downtime_ms = r[i].downtime_ms,
			.came_back = r[i].ok, .host_after = r[i].ok ? "h2" : NULL,
			.pings_sent = 1000, .pings_answered = 900,
			.message = r[i].ok ? NULL : "migration sender failed",
		};

		cr_assert_eq(db_experiment_round_add(db, &x, &e), 0, "%s", e.msg);
	}
}

/* Run A: pingpong 3/3 (wall 16/31/34 s, downtime 3.0/7.2/7.4 s), only-a 1/1.
 * Run B: pingpong 3/4, its failed round far off so that counting it would
 * move every statistic; only-b 0/2. A third run has no rounds at all. */
static void setup(void)
{
	static const struct round a[] = {
		{ "pingpong", true, 31000, 7200 }, { "pingpong", true, 34000, 7400 },
		{ "pingpong", true, 16000, 3000 }, { "only-a", true, 10000, 1000 },
	};
	static const struct round b[] = {
		{ "pingpong", true, 20000, 2000 },  { "pingpong", true, 22000, 2400 },
		{ "pingpong", false, 90000, 60000 }, { "pingpong", true, 24000, 2600 },
		{ "only-b", false, 5000, 0 },       { "only-b", false, 6000, 0 },
	};
	_cleanup_free_ char *path = NULL;
	struct xerr e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/xlab.db", dir);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "mig", "experiment", "abc", &run_a, &e), 0, "%s", e.msg);
	record(run_a, a, ARRAY_SIZE(a));
	cr_assert_eq(db_run_begin(db, "mig", "experiment", "abc", &run_b, &e), 0, "%s", e.msg);
	record(run_b, b, ARRAY_SIZE(b));
	cr_assert_eq(db_run_begin(db, "mig", "up", "abc", &run_empty, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	db_close(db);
	rm_rf(dir, &e);
}

TestSuite(compare, .init = setup, .fini = teardown);

static void load_both(struct exp_run *a, struct exp_run *b)
{
	struct xerr e = { 0 };

	cr_assert_eq(exp_run_load_measured(db, run_a, a, &e), 0, "%s", e.msg);
	cr_assert_eq(exp_run_load_measured(db, run_b, b, &e), 0, "%s", e.msg);
}

static int64_t jint(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x = NULL, *y = NULL;

	cr_assert(json_object_object_get_ex(o, a, &x), "no %s in %s", a,
		  json_object_to_json_string(o));
	cr_assert(json_object_object_get_ex(x, b, &y), "no %s.%s", a, b);
	return json_object_get_int64(y);
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
		  json_object_to_json_string(o));
	return v;
}

/* The JSON as a reader gets it: serialised, then parsed back. */
static struct json_object *compare_parsed(void)
{
	struct exp_run a, b;
	struct json_object *j, *parsed;

	load_both(&a, &b);
	j = experiment_compare_json(&a, &b);
	parsed = json_tokener_parse(json_object_to_json_string(j));
	cr_assert_not_null(parsed);
	json_object_put(j);
	exp_run_free(&a);
	exp_run_free(&b);
	return parsed;
}

Test(compare, json_medians_and_counts)
{
	struct json_object *o = compare_parsed(), *xs = jget(o, "experiments");
	struct json_object *pp = json_object_array_get_idx(xs, 0), *sides = jget(pp, "runs");
	struct json_object *sa = json_object_array_get_idx(sides, 0);
	struct json_object *sb = json_object_array_get_idx(sides, 1);

	cr_assert_eq(json_object_get_int64(json_object_array_get_idx(jget(o, "runs"), 0)), run_a);
	cr_assert_eq(json_object_get_int64(json_object_array_get_idx(jget(o, "runs"), 1)), run_b);
	cr_assert_eq(json_object_array_length(xs), 3);
	cr_assert_str_eq(json_object_get_string(jget(pp, "name")), "pingpong");
	cr_assert_eq(json_object_get_int64(jget(sa, "run")), run_a);
	cr_assert_eq(json_object_get_int64(jget(sa, "rounds")), 3);
	cr_assert_eq(json_object_get_int64(jget(sa, "rounds_ok")), 3);
	cr_assert_eq(jint(sa, "wall_ms", "median"), 31000);
	cr_assert_eq(jint(sa, "downtime_ms", "median"), 7200);
	cr_assert_eq(jint(sa, "wall_ms", "min"), 16000);
	/* The failed round counts in the total, not in the statistics. */
	cr_assert_eq(json_object_get_int64(jget(sb, "rounds")), 4);
	cr_assert_eq(json_object_get_int64(jget(sb, "rounds_ok")), 3);
	cr_assert_eq(jint(sb, "wall_ms", "median"), 22000);
	cr_assert_eq(jint(sb, "wall_ms", "max"), 24000);
	cr_assert_eq(jint(sb, "wall_ms", "p95"), 24000);
	cr_assert_eq(jint(sb, "downtime_ms", "median"), 2400);
	cr_assert_eq(jint(sb, "downtime_ms", "max"), 2600);
	cr_assert_eq(jint(pp, "change", "wall_median_ms"), -9000);
	cr_assert_eq(jint(pp, "change", "downtime_median_ms"), -4800);
	cr_assert_float_eq(json_object_get_double(jget(jget(pp, "change"), "wall_median_ratio")),
			   22.0 / 31.0, 1e-9);
	cr_assert_float_eq(
		json_object_get_double(jget(jget(pp, "change"), "downtime_median_ratio")),
		2.4 / 7.2, 1e-9);
	json_object_put(o);
}

Test(compare, json_missing_sides)
{
	struct json_object *o = compare_parsed(), *xs = jget(o, "experiments");
	struct json_object *only_a = json_object_array_get_idx(xs, 1);
	struct json_object *only_b = json_object_array_get_idx(xs, 2);
	struct json_object *b_sides = jget(only_b, "runs");

	cr_assert_str_eq(json_object_get_string(jget(only_a, "name")), "only-a");
	cr_assert_not_null(json_object_array_get_idx(jget(only_a, "runs"), 0));
	cr_assert_null(json_object_array_get_idx(jget(only_a, "runs"), 1),
		       "only-a is missing from run B: null there");
	cr_assert_null(jget(only_a, "change"));
	cr_assert_eq(jint(json_object_array_get_idx(jget(only_a, "runs"), 0), "wall_ms", "median"),
		     10000);
	cr_assert_str_eq(json_object_get_string(jget(only_b, "name")), "only-b");
	cr_assert_null(json_object_array_get_idx(b_sides, 0));
	cr_assert_eq(json_object_get_int64(jget(json_object_array_get_idx(b_sides, 1), "rounds")),
		     2);
	cr_assert_eq(
		json_object_get_int64(jget(json_object_array_get_idx(b_sides, 1), "rounds_ok")), 0);
	cr_assert_null(jget(json_object_array_get_idx(b_sides, 1), "wall_ms"),
		       "no statistics without a successful round");
	json_object_put(o);
}

static char *compare_text(void)
{
	struct exp_run a, b;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	load_both(&a, &b);
	experiment_compare_text(&a, &b, f);
	fclose(f);
	exp_run_free(&a);
	exp_run_free(&b);
	return text;
}

Test(compare, text)
{
	_cleanup_free_ char *t = compare_text();
	_cleanup_free_ char *pp = xasprintf("pingpong (rounds ok: 3/3 in run %ld, 3/4 in run %ld)\n",
					    (long)run_a, (long)run_b);
	_cleanup_free_ char *wall_a = xasprintf("    wall       %6ld    16.00    31.00    34.00"
						"    34.00\n",
						(long)run_a);
	_cleanup_free_ char *wall_b = xasprintf("               %6ld    20.00    22.00    24.00"
						"    24.00  x0.71 (-9.00 s)\n",
						(long)run_b);
	_cleanup_free_ char *down_b = xasprintf("               %6ld     2.00     2.40     2.60"
						"     2.60  x0.33 (-4.80 s)\n",
						(long)run_b);
	_cleanup_free_ char *oa = xasprintf("only-a (rounds ok: 1/1 in run %ld, not in run %ld)\n",
					    (long)run_a, (long)run_b);
	_cleanup_free_ char *ob = xasprintf("only-b (rounds ok: not in run %ld, 0/2 in run %ld)\n",
					    (long)run_a, (long)run_b);

	cr_assert(strstr(t, pp), "%s", t);
	cr_assert(strstr(t, wall_a), "%s", t);
	cr_assert(strstr(t, wall_b), "%s", t);
	cr_assert(strstr(t, down_b), "%s", t);
	cr_assert(strstr(t, oa), "%s", t);
	cr_assert(strstr(t, ob), "%s", t);
	cr_assert(strstr(t, "not in this run"), "%s", t);
	cr_assert(strstr(t, "no round succeeded"), "%s", t);
	cr_assert_null(strstr(t, "90.00"), "the failed round's numbers stay out: %s", t);
}

Test(compare, run_without_rounds_or_missing)
{
	struct exp_run x = { 0 };
	struct xerr e = { 0 };
	_cleanup_free_ char *want = xasprintf("run %ld (up mig) has no migration rounds: run "
					      "`xlab experiment mig` first",
					      (long)run_empty);

	cr_assert_eq(exp_run_load_measured(db, run_empty, &x, &e), -1);
	cr_assert_str_eq(e.msg, want);
	cr_assert_eq(exp_run_load_measured(db, 999, &x, &e), -1);
	cr_assert(strstr(e.msg, "no run 999"), "%s", e.msg);
	/* The plain load is fine with none: `xlab report` of an `up` run. */
	cr_assert_eq(exp_run_load(db, run_empty, &x, &e), 0, "%s", e.msg);
	cr_assert_eq(x.n_groups, 0);
	exp_run_free(&x);
}

Test(compare, plot_script)
{
	struct exp_run a, b;
	const struct exp_run *both[] = { NULL, NULL };
	_cleanup_free_ char *s2 = NULL, *s1 = NULL, *none = NULL;
	_cleanup_free_ char *title_b = xasprintf("'downtime, run %ld (3 of 4 rounds ok)'", (long)run_b);

	load_both(&a, &b);
	both[0] = &a;
	both[1] = &b;
	s2 = experiment_plot_script(both, 2, "pingpong");
	cr_assert_not_null(s2);
	/* B's downtime CDF: a start at 0, then 1/3, 2/3, 1 (the failed round left out) */
	cr_assert(strstr(s2, "$down2 << EOD\n2.000 0\n2.000 0.333333\n2.400 0.666667\n"
			     "2.600 1.000000\nEOD\n"),
		  "%s", s2);
	cr_assert(strstr(s2, "$wall1 << EOD\n16.000 0\n16.000 0.333333\n31.000 0.666667\n"
			     "34.000 1.000000\nEOD\n"),
		  "%s", s2);
	cr_assert(strstr(s2, title_b), "%s", s2);
	cr_assert(strstr(s2, "set terminal svg"), "%s", s2);
	cr_assert_null(strstr(s2, "set output"), "gnuplot writes to stdout: %s", s2);
	s1 = experiment_plot_script(both, 1, "only-a");
	cr_assert(strstr(s1, "plot $down1"), "%s", s1);
	cr_assert_null(strstr(s1, "$down2"), "%s", s1);
	/* only-b never succeeded: nothing to draw */
	none = experiment_plot_script(both, 2, "only-b");
	cr_assert_null(none);
	cr_assert_null(experiment_plot_script(both, 2, "x'; system('id"));
	exp_run_free(&a);
	exp_run_free(&b);
}

Test(compare, plottable_names)
{
	cr_assert(experiment_name_plottable("pingpong"));
	cr_assert(experiment_name_plottable("Ping_pong-2.1"));
	cr_assert_not(experiment_name_plottable(""));
	cr_assert_not(experiment_name_plottable(NULL));
	cr_assert_not(experiment_name_plottable("a'b"));
	cr_assert_not(experiment_name_plottable("a b"));
	cr_assert_not(experiment_name_plottable("a/b"));
	cr_assert_not(experiment_name_plottable("a\nb"));
}
