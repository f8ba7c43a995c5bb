#include "action_report.h"

#include <string.h>

#include "experiment_report.h"
#include "migstat.h"
#include "text.h"
#include "util.h"

/* One step of one test: which rows of the run's list are its. */
struct step_group {
	const char *test, *step;
	size_t n, n_ok;
	struct migstat s; /* seconds, over the rounds where it succeeded */
};

/* Groups in order of first appearance (a test's steps in the order done). */
static size_t groups_make(const struct db_action_step *v, size_t n, struct step_group **out)
{
	struct step_group *g = xcalloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < ng; k++)
			if (!strcmp(g[k].test, v[i].test) && !strcmp(g[k].step, v[i].step))
				break;
		if (k == ng)
			g[ng++] = (struct step_group){ .test = v[i].test, .step = v[i].step };
		g[k].n++;
	}
	for (size_t k = 0; k < ng; k++) {
		double *ms = xcalloc(g[k].n, sizeof(*ms));

		for (size_t i = 0; i < n; i++)
			if (v[i].ok && !strcmp(g[k].test, v[i].test) && !strcmp(g[k].step, v[i].step))
				ms[g[k].n_ok++] = (double)v[i].duration_ms / 1000.0;
		migstat_compute(ms, g[k].n_ok, &g[k].s);
		free(ms);
	}
	*out = g;
	return ng;
}

int action_report_text(struct db *db, int64_t run_id, FILE *f, struct xerr *e)
{
	struct db_action_step *v = NULL;
	struct step_group *g = NULL;
	size_t n = 0, ng;

	if (db_action_steps_list(db, run_id, &v, &n, e) < 0)
		return -1;
	ng = groups_make(v, n, &g);
	if (ng)
		fprintf(f, "\nactions (seconds per step, over the rounds it succeeded):\n");
	for (size_t k = 0; k < ng; k++) {
		if (k == 0 || strcmp(g[k].test, g[k - 1].test))
			fprintf(f, "  %s\n    %-22s %6s %8s %8s %8s\n", tt(g[k].test), "step",
				"ok", "min", "median", "max");
		fprintf(f, "    %-22s %2zu/%-3zu %8.2f %8.2f %8.2f\n", tt(g[k].step), g[k].n_ok,
			g[k].n, g[k].s.min, g[k].s.median, g[k].s.max);
	}
	free(g);
	db_action_steps_free(v, n);
	return 0;
}

int action_report_json(struct db *db, int64_t run_id, struct json_object *o, struct xerr *e)
{
	struct db_action_step *v = NULL;
	struct step_group *g = NULL;
	struct json_object *actions = json_object_new_array(), *cur = NULL;
	size_t n = 0, ng;

	if (db_action_steps_list(db, run_id, &v, &n, e) < 0) {
		json_object_put(actions);
		return -1;
	}
	ng = groups_make(v, n, &g);
	for (size_t k = 0; k < ng; k++) {
		struct json_object *s = exp_stat_json(&g[k].s);

		if (k == 0 || strcmp(g[k].test, g[k - 1].test)) {
			struct json_object *a = json_object_new_object();

			cur = json_object_new_array();
			json_object_object_add(a, "test", json_object_new_string(g[k].test));
			json_object_object_add(a, "steps", cur);
			json_object_array_add(actions, a);
		}
		json_object_object_add(s, "step", json_object_new_string(g[k].step));
		json_object_object_add(s, "n", json_object_new_int64((int64_t)g[k].n));
		json_object_object_add(s, "ok", json_object_new_int64((int64_t)g[k].n_ok));
		json_object_array_add(cur, s);
	}
	json_object_object_add(o, "actions", actions);
	free(g);
	db_action_steps_free(v, n);
	return 0;
}
