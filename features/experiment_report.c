/* The rounds of a run as `xlab report` shows them: per experiment, every
 * round and the distribution of wall time and downtime. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "experiment_report.h"
#include "html.h"
#include "util.h"

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double *exp_group_sorted(const struct exp_run *x, const struct exp_group *g, bool downtime)
{
	double *v;
	size_t k = 0;

	if (!g->n_ok)
		return NULL;
	v = xcalloc(g->n_ok, sizeof(*v));
	for (size_t i = g->first; i < g->first + g->n; i++) {
		const struct db_experiment_round *r = &x->rounds[i];

		if (r->ok)
			v[k++] = (double)(downtime ? r->downtime_ms : r->wall_ms) / 1000.0;
	}
	qsort(v, k, sizeof(*v), cmp_dbl);
	return v;
}

/* Rounds come ordered by id and a run holds each experiment's rounds in one
 * stretch: one group per stretch of equal experiment names. */
static void groups_make(struct exp_run *x)
{
	struct exp_group *g = xcalloc(x->n_rounds ? x->n_rounds : 1, sizeof(*g));
	size_t ng = 0;

	for (size_t i = 0; i < x->n_rounds; i++) {
		const struct db_experiment_round *r = &x->rounds[i];

		if (!ng || strcmp(g[ng - 1].name, r->experiment))
			g[ng++] = (struct exp_group){ .name = r->experiment, .first = i };
		g[ng - 1].n++;
		g[ng - 1].n_ok += r->ok;
	}
	for (size_t k = 0; k < ng; k++) {
		double *wall = exp_group_sorted(x, &g[k], false);
		double *down = exp_group_sorted(x, &g[k], true);

		migstat_compute(wall, g[k].n_ok, &g[k].wall);
		migstat_compute(down, g[k].n_ok, &g[k].down);
		free(wall);
		free(down);
	}
	x->groups = g;
	x->n_groups = ng;
}

int exp_run_load(struct db *db, int64_t run_id, struct exp_run *out, struct xerr *e)
{
	*out = (struct exp_run){ .id = run_id };
	if (db_experiment_rounds_list(db, run_id, &out->rounds, &out->n_rounds, e) < 0)
		return -1;
	groups_make(out);
	return 0;
}

int exp_run_load_measured(struct db *db, int64_t run_id, struct exp_run *out, struct xerr *e)
{
	struct db_run *run = NULL;
	int rc = -1;

	*out = (struct exp_run){ .id = run_id };
	if (db_run_get(db, run_id, &run, e) < 0)
		return -1;
	if (exp_run_load(db, run_id, out, e) < 0)
		goto out;
	if (!out->n_rounds) {
		xerr_set(e, XERR_FAIL,
			 "run %" PRId64 " (%s %s) has no migration rounds: "
			 "run `xlab experiment %s` first",
			 run_id, run->command, run->lab, run->lab);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		exp_run_free(out);
	db_runs_free(run, 1);
	return rc;
}

void exp_run_free(struct exp_run *x)
{
	db_experiment_rounds_free(x->rounds, x->n_rounds);
	free(x->groups);
	*x = (struct exp_run){ .id = x->id };
}

const struct exp_group *exp_run_find(const struct exp_run *x, const char *name)
{
	for (size_t k = 0; k < x->n_groups; k++)
		if (strcmp(x->groups[k].name, name) == 0)
			return &x->groups[k];
	return NULL;
}

size_t exp_names_union(const struct exp_run *a, const struct exp_run *b, const char ***out)
{
	const char **v = xcalloc(a->n_groups + (b ? b->n_groups : 0) + 1, sizeof(*v));
	size_t n = 0;

	for (size_t k = 0; k < a->n_groups; k++)
		v[n++] = a->groups[k].name;
	for (size_t k = 0; b && k < b->n_groups; k++)
		if (!exp_run_find(a, b->groups[k].name))
			v[n++] = b->groups[k].name;
	*out = v;
	return n;
}

static void stat_row(FILE *f, const char *what, const struct migstat *s)
{
	fprintf(f, "    %-14s %8.2f %8.2f %8.2f %8.2f\n", what, s->min, s->median, s->p95, s->max);
}

static void group_text(const struct exp_run *x, const struct exp_group *g, FILE *f)
{
	fprintf(f, "  %s: %zu round(s), %zu ok\n", g->name, g->n, g->n_ok);
	fprintf(f, "    %-5s %-22s %-6s %9s %9s  %s\n", "round", "migration", "result", "wall",
		"downtime", "pings");
	for (size_t i = g->first; i < g->first + g->n; i++) {
		const struct db_experiment_round *r = &x->rounds[i];
		_cleanup_free_ char *mig = xasprintf("%s %s -> %s", r->guest, r->src, r->dst);

		fprintf(f, "    %-5d %-22s %-6s %8.2fs %8.2fs  %" PRId64 "/%" PRId64 "%s%s\n",
			r->round, mig, r->ok ? "ok" : "FAIL", (double)r->wall_ms / 1000.0,
			(double)r->downtime_ms / 1000.0, r->pings_answered, r->pings_sent,
			r->message ? "  " : "", r->message ? r->message : "");
	}
	if (!g->n_ok)
		return;
	fprintf(f, "    %-14s %8s %8s %8s %8s\n", "seconds", "min", "median", "p95", "max");
	stat_row(f, "wall", &g->wall);
	stat_row(f, "downtime", &g->down);
}

static void cell_num(struct html *h, double v)
{
	html_open(h, "td", NULL, "num");
	html_textf(h, "%.2f", v);
	html_close(h);
}

static void stat_html(struct html *h, const char *what, const struct migstat *s)
{
	html_open(h, "tr", NULL, NULL);
	html_elem(h, "th", NULL, what);
	cell_num(h, s->min);
	cell_num(h, s->median);
	cell_num(h, s->p95);
	cell_num(h, s->max);
	html_close(h);
}

static void round_html(struct html *h, const struct db_experiment_round *r)
{
	html_open(h, "tr", NULL, r->ok ? "ok" : "failed");
	html_open(h, "td", NULL, "num");
	html_textf(h, "%d", r->round);
	html_close(h);
	html_open(h, "td", NULL, NULL);
	html_textf(h, "%s %s -> %s", r->guest, r->src, r->dst);
	html_close(h);
	html_elem(h, "td", NULL, r->ok ? "ok" : "FAIL");
	cell_num(h, (double)r->wall_ms / 1000.0);
	cell_num(h, (double)r->downtime_ms / 1000.0);
	html_open(h, "td", NULL, "num");
	html_textf(h, "%" PRId64 "/%" PRId64, r->pings_answered, r->pings_sent);
	html_close(h);
	html_elem(h, "td", NULL, r->message ? r->message : "");
	html_close(h);
}

static void header_html(struct html *h, const char *const *names, size_t n)
{
	html_open(h, "tr", NULL, NULL);
	for (size_t i = 0; i < n; i++)
		html_elem(h, "th", NULL, names[i]);
	html_close(h);
}

void experiment_report_html(struct html *h, const struct exp_run *x, const struct exp_group *g)
{
	static const char *const rounds[] = { "round", "migration", "result", "wall (s)",
					      "downtime (s)", "pings answered", "message" };
	static const char *const stats[] = { "seconds", "min", "median", "p95", "max" };

	html_open(h, "table", NULL, "rounds");
	header_html(h, rounds, ARRAY_SIZE(rounds));
	for (size_t i = g->first; i < g->first + g->n; i++)
		round_html(h, &x->rounds[i]);
	html_close(h);
	if (!g->n_ok)
		return;
	html_open(h, "table", NULL, "stats");
	header_html(h, stats, ARRAY_SIZE(stats));
	stat_html(h, "wall", &g->wall);
	stat_html(h, "downtime", &g->down);
	html_close(h);
}

int experiment_report_text(struct db *db, int64_t run_id, FILE *f, struct xerr *e)
{
	struct exp_run x;

	if (exp_run_load(db, run_id, &x, e) < 0)
		return -1;
	if (x.n_groups)
		fprintf(f, "\nexperiments:\n");
	for (size_t k = 0; k < x.n_groups; k++)
		group_text(&x, &x.groups[k], f);
	exp_run_free(&x);
	return 0;
}

struct json_object *exp_stat_json(const struct migstat *s)
{
	struct json_object *o = json_object_new_object();

	/* Milliseconds, like every duration in the JSON reports. */
	json_object_object_add(o, "min", json_object_new_int64((int64_t)(s->min * 1000.0 + 0.5)));
	json_object_object_add(o, "median",
			       json_object_new_int64((int64_t)(s->median * 1000.0 + 0.5)));
	json_object_object_add(o, "p95", json_object_new_int64((int64_t)(s->p95 * 1000.0 + 0.5)));
	json_object_object_add(o, "max", json_object_new_int64((int64_t)(s->max * 1000.0 + 0.5)));
	return o;
}

static struct json_object *round_json(const struct db_experiment_round *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "round", json_object_new_int(r->round));
	json_object_object_add(o, "guest", json_object_new_string(r->guest));
	json_object_object_add(o, "from", json_object_new_string(r->src));
	json_object_object_add(o, "to", json_object_new_string(r->dst));
	json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
	json_object_object_add(o, "wall_ms", json_object_new_int64(r->wall_ms));
	json_object_object_add(o, "downtime_ms", json_object_new_int64(r->downtime_ms));
	json_object_object_add(o, "came_back", json_object_new_boolean(r->came_back));
	json_object_object_add(o, "host_after",
			       r->host_after ? json_object_new_string(r->host_after) : NULL);
	json_object_object_add(o, "pings_sent", json_object_new_int64(r->pings_sent));
	json_object_object_add(o, "pings_answered", json_object_new_int64(r->pings_answered));
	json_object_object_add(o, "message", r->message ? json_object_new_string(r->message) : NULL);
	json_object_object_add(o, "started", json_object_new_string(r->started));
	return o;
}

int experiment_report_json(struct db *db, int64_t run_id, struct json_object *o,
			   struct xerr *e)
{
	struct json_object *arr;
	struct exp_run x;

	if (exp_run_load(db, run_id, &x, e) < 0)
		return -1;
	arr = json_object_new_array();
	for (size_t k = 0; k < x.n_groups; k++) {
		const struct exp_group *g = &x.groups[k];
		struct json_object *j = json_object_new_object(), *rounds = json_object_new_array();

		json_object_object_add(j, "name", json_object_new_string(g->name));
		json_object_object_add(j, "rounds_ok", json_object_new_int64((int64_t)g->n_ok));
		for (size_t i = g->first; i < g->first + g->n; i++)
			json_object_array_add(rounds, round_json(&x.rounds[i]));
		json_object_object_add(j, "rounds", rounds);
		json_object_object_add(j, "wall_ms", g->n_ok ? exp_stat_json(&g->wall) : NULL);
		json_object_object_add(j, "downtime_ms", g->n_ok ? exp_stat_json(&g->down) : NULL);
		json_object_array_add(arr, j);
	}
	json_object_object_add(o, "experiments", arr);
	exp_run_free(&x);
	return 0;
}
