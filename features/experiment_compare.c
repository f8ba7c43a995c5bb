/* `xlab report --compare A B`: two runs' migration experiments side by side,
 * from the groups experiment_report.c makes. Pure: loaded runs in, text or
 * JSON out. */
#include <inttypes.h>
#include <string.h>

#include "experiment_report.h"
#include "util.h"

int64_t exp_ms(double s)
{
	return (int64_t)(s * 1000.0 + (s < 0 ? -0.5 : 0.5));
}

static void rounds_text(const struct exp_run *x, const struct exp_group *g, FILE *f)
{
	if (g)
		fprintf(f, "%zu/%zu in run %" PRId64, g->n_ok, g->n, x->id);
	else
		fprintf(f, "not in run %" PRId64, x->id);
}

static void stat_text(const struct exp_run *x, const struct exp_group *g, bool down, FILE *f)
{
	const struct migstat *s = g ? (down ? &g->down : &g->wall) : NULL;

	fprintf(f, " %6" PRId64, x->id);
	if (!g)
		fprintf(f, "  not in this run");
	else if (!g->n_ok)
		fprintf(f, "  no round succeeded");
	else
		fprintf(f, " %8.2f %8.2f %8.2f %8.2f", s->min, s->median, s->p95, s->max);
}

void exp_median_change_text(const struct migstat *a, const struct migstat *b, FILE *f)
{
	double delta = (double)(exp_ms(b->median) - exp_ms(a->median)) / 1000.0;

	if (exp_ms(a->median) > 0)
		fprintf(f, "  x%.2f (%+.2f s)", b->median / a->median, delta);
	else
		fprintf(f, "  %+.2f s", delta);
}

static void metric_text(const struct exp_run *a, const struct exp_group *ga,
			const struct exp_run *b, const struct exp_group *gb, bool down, FILE *f)
{
	fprintf(f, "    %-10s", down ? "downtime" : "wall");
	stat_text(a, ga, down, f);
	fprintf(f, "\n");
	fprintf(f, "    %-10s", "");
	stat_text(b, gb, down, f);
	if (ga && gb && ga->n_ok && gb->n_ok)
		exp_median_change_text(down ? &ga->down : &ga->wall, down ? &gb->down : &gb->wall, f);
	fprintf(f, "\n");
}

void experiment_compare_text(const struct exp_run *a, const struct exp_run *b, FILE *f)
{
	_cleanup_free_ const char **names = NULL;
	size_t n = exp_names_union(a, b, &names);

	fprintf(f, "experiments: run %" PRId64 " -> run %" PRId64
		   " (seconds, over the rounds that succeeded)\n",
		a->id, b->id);
	for (size_t i = 0; i < n; i++) {
		const struct exp_group *ga = exp_run_find(a, names[i]);
		const struct exp_group *gb = exp_run_find(b, names[i]);

		fprintf(f, "\n  %s (rounds ok: ", names[i]);
		rounds_text(a, ga, f);
		fprintf(f, ", ");
		rounds_text(b, gb, f);
		fprintf(f, ")\n    %-10s %6s %8s %8s %8s %8s  %s\n", "", "run", "min", "median",
			"p95", "max", "median change");
		metric_text(a, ga, b, gb, false, f);
		metric_text(a, ga, b, gb, true, f);
	}
}

static struct json_object *side_json(const struct exp_run *x, const struct exp_group *g)
{
	struct json_object *o;

	if (!g)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "run", json_object_new_int64(x->id));
	json_object_object_add(o, "rounds", json_object_new_int64((int64_t)g->n));
	json_object_object_add(o, "rounds_ok", json_object_new_int64((int64_t)g->n_ok));
	json_object_object_add(o, "wall_ms", g->n_ok ? exp_stat_json(&g->wall) : NULL);
	json_object_object_add(o, "downtime_ms", g->n_ok ? exp_stat_json(&g->down) : NULL);
	return o;
}

static void change_json(struct json_object *o, const char *what, const struct migstat *a,
			const struct migstat *b)
{
	_cleanup_free_ char *delta = xasprintf("%s_median_ms", what);
	_cleanup_free_ char *ratio = xasprintf("%s_median_ratio", what);
	int64_t d = exp_ms(b->median) - exp_ms(a->median);

	json_object_object_add(o, delta, json_object_new_int64(d));
	json_object_object_add(o, ratio, exp_ms(a->median) > 0 ?
						 json_object_new_double(b->median / a->median) :
						 NULL);
}

/* The change of the medians from a to b; NULL unless both have a success. */
static struct json_object *changes_json(const struct exp_group *ga, const struct exp_group *gb)
{
	struct json_object *o;

	if (!ga || !gb || !ga->n_ok || !gb->n_ok)
		return NULL;
	o = json_object_new_object();
	change_json(o, "wall", &ga->wall, &gb->wall);
	change_json(o, "downtime", &ga->down, &gb->down);
	return o;
}

struct json_object *experiment_compare_json(const struct exp_run *a, const struct exp_run *b)
{
	_cleanup_free_ const char **names = NULL;
	size_t n = exp_names_union(a, b, &names);
	struct json_object *o = json_object_new_object(), *runs = json_object_new_array();
	struct json_object *arr = json_object_new_array();

	json_object_array_add(runs, json_object_new_int64(a->id));
	json_object_array_add(runs, json_object_new_int64(b->id));
	json_object_object_add(o, "runs", runs);
	for (size_t i = 0; i < n; i++) {
		const struct exp_group *ga = exp_run_find(a, names[i]);
		const struct exp_group *gb = exp_run_find(b, names[i]);
		struct json_object *x = json_object_new_object(), *sides = json_object_new_array();

		json_object_object_add(x, "name", json_object_new_string(names[i]));
		/* null on the side whose run did not have this experiment */
		json_object_array_add(sides, side_json(a, ga));
		json_object_array_add(sides, side_json(b, gb));
		json_object_object_add(x, "runs", sides);
		json_object_object_add(x, "change", changes_json(ga, gb));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "experiments", arr);
	return o;
}
