/* The picture's data: from a plan (a spec file), or from a running lab,
 * where the store has the last word on where each guest is and which
 * addresses and images were given. */
#include <string.h>

#include "graph.h"
#include "labview.h"
#include "plan.h"
#include "util.h"

static void paths_from_spec(struct graph_lab *g, const struct spec *s)
{
	g->paths = xcalloc(s->n_experiments + 1, sizeof(*g->paths));
	for (size_t i = 0; i < s->n_experiments; i++) {
		const struct spec_experiment *x = &s->experiments[i];

		g->paths[i] = (struct graph_path){ .name = x->name, .guest = x->guest,
						   .from = x->from, .to = x->to,
						   .rounds = x->rounds,
						   .back_and_forth = x->back_and_forth };
	}
	g->n_paths = s->n_experiments;
}

void graph_lab_from_plan(struct graph_lab *g, const struct plan *p)
{
	const struct spec *s = p->spec;

	*g = (struct graph_lab){
		.lab = s->lab, .network = p->network,
		.subnet = p->subnet, .subnet_pooled = !s->subnet, .bridge = p->bridge,
		.gateway = p->gateway, .vg = s->vg, .shared_vg = s->shared_vg,
		.shared_size = s->shared_size,
	};
	g->hosts = xcalloc(p->n_hosts + 1, sizeof(*g->hosts));
	for (size_t i = 0; i < p->n_hosts; i++)
		g->hosts[i] = (struct graph_host){ .name = p->hosts[i].spec->name,
						   .ip = p->hosts[i].ip,
						   .image = p->hosts[i].image };
	g->n_hosts = p->n_hosts;
	g->guests = xcalloc(p->n_guests + 1, sizeof(*g->guests));
	for (size_t i = 0; i < p->n_guests; i++) {
		const struct plan_guest *pg = &p->guests[i];

		g->guests[i] = (struct graph_guest){
			.name = pg->spec->name, .host = pg->spec->host, .ip = pg->ip,
			.type = spec_guest_type_name(pg->spec->type), .shared = pg->spec->shared,
		};
	}
	g->n_guests = p->n_guests;
	paths_from_spec(g, s);
}

/* The store's state of a node as a note: none for "up", the usual case. */
static const char *state_note(const char *state)
{
	return state && strcmp(state, "up") != 0 ? state : NULL;
}

/* Each host as the store recorded it; hosts the spec no longer has are
 * still hosts of the lab. */
static void hosts_from_store(struct graph_lab *g, const struct labstate *ls)
{
	g->hosts = xrealloc(g->hosts, (g->n_hosts + ls->n_hosts + 1) * sizeof(*g->hosts));
	for (size_t i = 0; i < g->n_hosts; i++) {
		struct graph_host *h = &g->hosts[i];
		const struct db_host *row = labstate_host(ls, h->name);

		if (!row) {
			h->state = "not in the store";
			continue;
		}
		h->ip = row->ip ? row->ip : h->ip;
		h->image = row->image ? row->image : h->image;
		h->state = state_note(row->state);
	}
	for (size_t i = 0; i < ls->n_hosts; i++) {
		const struct db_host *row = &ls->hosts[i];
		size_t k = 0;

		while (k < g->n_hosts && strcmp(g->hosts[k].name, row->name) != 0)
			k++;
		if (k == g->n_hosts)
			g->hosts[g->n_hosts++] = (struct graph_host){
				.name = row->name, .ip = row->ip, .image = row->image,
				.state = state_note(row->state),
			};
	}
}

/* A guest made by hand is planned with the defaults (the store keeps its
 * name, host and address only), so its type is not known here. */
static void guest_from_row(struct graph_guest *gu, const struct db_guest *row)
{
	gu->host = row->host;
	gu->ip = row->ip ? row->ip : gu->ip;
	gu->by_hand = labview_is_hand(row);
	if (gu->by_hand)
		gu->type = NULL;
	gu->state = state_note(row->state);
}

static void guests_from_store(struct graph_lab *g, const struct labstate *ls)
{
	g->guests = xrealloc(g->guests, (g->n_guests + ls->n_guests + 1) * sizeof(*g->guests));
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct db_guest *row = labstate_guest(ls, g->guests[i].name);

		if (row)
			guest_from_row(&g->guests[i], row);
		else
			g->guests[i].state = "not in the store";
	}
	for (size_t i = 0; i < ls->n_guests; i++) {
		const struct db_guest *row = &ls->guests[i];
		size_t k = 0;

		while (k < g->n_guests && strcmp(g->guests[k].name, row->name) != 0)
			k++;
		if (k < g->n_guests)
			continue;
		g->guests[g->n_guests] = (struct graph_guest){ .name = row->name };
		guest_from_row(&g->guests[g->n_guests++], row);
	}
}

void graph_lab_from_view(struct graph_lab *g, const struct labview *v)
{
	graph_lab_from_plan(g, v->plan);
	/* The subnet the store gave the lab, whether or not the spec names one. */
	g->subnet_pooled = false;
	hosts_from_store(g, &v->ls);
	guests_from_store(g, &v->ls);
}

void graph_lab_free(struct graph_lab *g)
{
	free(g->hosts);
	free(g->guests);
	free(g->paths);
	memset(g, 0, sizeof(*g));
}
