#include "action_report.h"

#include <inttypes.h>
#include <string.h>

#include "experiment_report.h"
#include "html.h"
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

int action_run_load(struct db *db, int64_t run_id, struct action_run *out, struct xerr *e)
{
	*out = (struct action_run){ .id = run_id };
	if (db_action_steps_list(db, run_id, &out->v, &out->n, e) < 0)
		return -1;
	out->ng = groups_make(out->v, out->n, &out->g);
	return 0;
}

void action_run_free(struct action_run *x)
{
	free(x->g);
	db_action_steps_free(x->v, x->n);
	*x = (struct action_run){ .id = x->id };
}

static void num_html(struct html *h, double v)
{
	html_open(h, "td", NULL, "num");
	html_textf(h, "%.2f", v);
	html_close(h);
}

void action_report_html(struct html *h, const struct action_run *x)
{
	static const char *const heads[] = { "test", "step", "rounds ok", "min (s)",
					     "median (s)", "max (s)" };

	html_open(h, "table", NULL, "actions");
	html_open(h, "tr", NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(heads); i++)
		html_elem(h, "th", NULL, heads[i]);
	html_close(h);
	for (size_t k = 0; k < x->ng; k++) {
		const struct step_group *g = &x->g[k];

		html_open(h, "tr", NULL, g->n_ok == g->n ? "ok" : "failed");
		html_elem(h, "td", NULL, g->test);
		html_elem(h, "td", NULL, g->step);
		html_open(h, "td", NULL, "num");
		html_textf(h, "%zu/%zu", g->n_ok, g->n);
		html_close(h);
		num_html(h, g->s.min);
		num_html(h, g->s.median);
		num_html(h, g->s.max);
		html_close(h);
	}
	html_close(h);
}

static const struct step_group *group_find(const struct action_run *x, const char *test,
					   const char *step)
{
	for (size_t k = 0; k < x->ng; k++)
		if (!strcmp(x->g[k].test, test) && !strcmp(x->g[k].step, step))
			return &x->g[k];
	return NULL;
}

/* a's groups in order, then those only b has; the returned array points into
 * a and b. */
static size_t groups_union(const struct action_run *a, const struct action_run *b,
			   const struct step_group ***out)
{
	const struct step_group **u = xcalloc(a->ng + b->ng + 1, sizeof(*u));
	size_t n = 0;

	for (size_t k = 0; k < a->ng; k++)
		u[n++] = &a->g[k];
	for (size_t k = 0; k < b->ng; k++)
		if (!group_find(a, b->g[k].test, b->g[k].step))
			u[n++] = &b->g[k];
	*out = u;
	return n;
}

static void side_text(const struct action_run *x, const struct step_group *g, FILE *f)
{
	if (!g)
		fprintf(f, "    %-22s %6" PRId64 "  not in this run\n", "", x->id);
	else if (!g->n_ok)
		fprintf(f, "    %-22s %6" PRId64 " %2zu/%-3zu no round succeeded\n", "", x->id,
			g->n_ok, g->n);
	else
		fprintf(f, "    %-22s %6" PRId64 " %2zu/%-3zu %8.2f %8.2f %8.2f", "", x->id, g->n_ok,
			g->n, g->s.min, g->s.median, g->s.max);
}

void action_compare_text(const struct action_run *a, const struct action_run *b, FILE *f)
{
	_cleanup_free_ const struct step_group **u = NULL;
	size_t n = groups_union(a, b, &u);
	const char *test = NULL;

	fprintf(f, "\nactions: run %" PRId64 " -> run %" PRId64
		   " (seconds per step, over the rounds it succeeded)\n",
		a->id, b->id);
	for (size_t i = 0; i < n; i++) {
		const struct step_group *ga = group_find(a, u[i]->test, u[i]->step);
		const struct step_group *gb = group_find(b, u[i]->test, u[i]->step);

		if (!test || strcmp(test, u[i]->test))
			fprintf(f, "\n  %s\n    %-22s %6s %6s %8s %8s %8s  %s\n", tt(u[i]->test),
				"step", "run", "ok", "min", "median", "max", "median change");
		test = u[i]->test;
		fprintf(f, "    %s\n", tt(u[i]->step));
		side_text(a, ga, f);
		if (ga && ga->n_ok)
			fprintf(f, "\n");
		side_text(b, gb, f);
		if (gb && gb->n_ok) {
			if (ga && ga->n_ok)
				exp_median_change_text(&ga->s, &gb->s, f);
			fprintf(f, "\n");
		}
	}
}

static struct json_object *side_json(const struct action_run *x, const struct step_group *g)
{
	struct json_object *o;

	if (!g)
		return NULL;
	o = g->n_ok ? exp_stat_json(&g->s) : json_object_new_object();
	json_object_object_add(o, "run", json_object_new_int64(x->id));
	json_object_object_add(o, "n", json_object_new_int64((int64_t)g->n));
	json_object_object_add(o, "ok", json_object_new_int64((int64_t)g->n_ok));
	return o;
}

struct json_object *action_compare_json(const struct action_run *a, const struct action_run *b)
{
	_cleanup_free_ const struct step_group **u = NULL;
	size_t n = groups_union(a, b, &u);
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const struct step_group *ga = group_find(a, u[i]->test, u[i]->step);
		const struct step_group *gb = group_find(b, u[i]->test, u[i]->step);
		struct json_object *o = json_object_new_object(), *runs = json_object_new_array();
		bool both = ga && gb && ga->n_ok && gb->n_ok;

		json_object_object_add(o, "test", json_object_new_string(u[i]->test));
		json_object_object_add(o, "step", json_object_new_string(u[i]->step));
		json_object_array_add(runs, side_json(a, ga));
		json_object_array_add(runs, side_json(b, gb));
		json_object_object_add(o, "runs", runs);
		json_object_object_add(o, "median_change_ms",
				       both ? json_object_new_int64(exp_ms(gb->s.median) -
								    exp_ms(ga->s.median)) :
					      NULL);
		json_object_object_add(o, "median_ratio",
				       both && exp_ms(ga->s.median) > 0 ?
					       json_object_new_double(gb->s.median / ga->s.median) :
					       NULL);
		json_object_array_add(arr, o);
	}
	return arr;
}
