/* The rounds of a run as `xlab report` shows them: per experiment, every
 * round and the distribution of wall time and downtime. */
#include <inttypes.h>
#include <string.h>

#include "experiment.h"
#include "migstat.h"
#include "util.h"

struct exp_group {
	const char *name;
	size_t first, n, n_ok;
	struct migstat wall, down; /* over the rounds that succeeded */
};

/* Rounds come ordered by id: one group per run of equal experiment names. */
static size_t groups_make(const struct db_experiment_round *r, size_t n, struct exp_group **out)
{
	struct exp_group *g = xcalloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;

	for (size_t i = 0; i < n; i++) {
		if (!ng || strcmp(g[ng - 1].name, r[i].experiment))
			g[ng++] = (struct exp_group){ .name = r[i].experiment, .first = i };
		g[ng - 1].n++;
	}
	for (size_t k = 0; k < ng; k++) {
		double *wall = xcalloc(g[k].n, sizeof(double)), *down = xcalloc(g[k].n, sizeof(double));

		for (size_t i = g[k].first; i < g[k].first + g[k].n; i++)
			if (r[i].ok) {
				wall[g[k].n_ok] = (double)r[i].wall_ms / 1000.0;
				down[g[k].n_ok++] = (double)r[i].downtime_ms / 1000.0;
			}
		migstat_compute(wall, g[k].n_ok, &g[k].wall);
		migstat_compute(down, g[k].n_ok, &g[k].down);
		free(wall);
		free(down);
	}
	*out = g;
	return ng;
}

static void stat_row(FILE *f, const char *what, const struct migstat *s)
{
	fprintf(f, "    %-14s %8.2f %8.2f %8.2f %8.2f\n", what, s->min, s->median, s->p95, s->max);
}

int experiment_report_text(struct db *db, int64_t run_id, FILE *f, struct xerr *e)
{
	struct db_experiment_round *r = NULL;
	struct exp_group *g = NULL;
	size_t n = 0, ng;

	if (db_experiment_rounds_list(db, run_id, &r, &n, e) < 0)
		return -1;
	ng = groups_make(r, n, &g);
	if (ng)
		fprintf(f, "\nexperiments:\n");
	for (size_t k = 0; k < ng; k++) {
		fprintf(f, "  %s: %zu round(s), %zu ok\n", g[k].name, g[k].n, g[k].n_ok);
		fprintf(f, "    %-5s %-22s %-6s %9s %9s  %s\n", "round", "migration", "result",
			"wall", "downtime", "pings");
		for (size_t i = g[k].first; i < g[k].first + g[k].n; i++) {
			_cleanup_free_ char *mig = xasprintf("%s %s -> %s", r[i].guest, r[i].src,
							     r[i].dst);

			fprintf(f, "    %-5d %-22s %-6s %8.2fs %8.2fs  %" PRId64 "/%" PRId64 "%s%s\n",
				r[i].round, mig, r[i].ok ? "ok" : "FAIL",
				(double)r[i].wall_ms / 1000.0, (double)r[i].downtime_ms / 1000.0,
				r[i].pings_answered, r[i].pings_sent, r[i].message ? "  " : "",
				r[i].message ? r[i].message : "");
		}
		if (!g[k].n_ok)
			continue;
		fprintf(f, "    %-14s %8s %8s %8s %8s\n", "seconds", "min", "median", "p95", "max");
		stat_row(f, "wall", &g[k].wall);
		stat_row(f, "downtime", &g[k].down);
	}
	free(g);
	db_experiment_rounds_free(r, n);
	return 0;
}

static struct json_object *stat_json(const struct migstat *s)
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
	struct db_experiment_round *r = NULL;
	struct exp_group *g = NULL;
	struct json_object *arr = json_object_new_array();
	size_t n = 0, ng;

	if (db_experiment_rounds_list(db, run_id, &r, &n, e) < 0) {
		json_object_put(arr);
		return -1;
	}
	ng = groups_make(r, n, &g);
	for (size_t k = 0; k < ng; k++) {
		struct json_object *x = json_object_new_object(), *rounds = json_object_new_array();

		json_object_object_add(x, "name", json_object_new_string(g[k].name));
		json_object_object_add(x, "rounds_ok", json_object_new_int64((int64_t)g[k].n_ok));
		for (size_t i = g[k].first; i < g[k].first + g[k].n; i++)
			json_object_array_add(rounds, round_json(&r[i]));
		json_object_object_add(x, "rounds", rounds);
		json_object_object_add(x, "wall_ms", g[k].n_ok ? stat_json(&g[k].wall) : NULL);
		json_object_object_add(x, "downtime_ms", g[k].n_ok ? stat_json(&g[k].down) : NULL);
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "experiments", arr);
	free(g);
	db_experiment_rounds_free(r, n);
	return 0;
}
