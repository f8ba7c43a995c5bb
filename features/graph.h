/* A picture of a lab's topology (`xlab graph`): the lab network with its
 * subnet and bridge, each host (its dom0's address and image) with the
 * guests on it, the shared disk and the hosts that see it, and the
 * migration paths of the spec's experiments.
 *
 * graph.c renders plain data as Graphviz dot or a mermaid flowchart (pure);
 * graph_lab.c fills that data from a plan or from a running lab's store
 * rows; graph_svg.c runs Graphviz's dot. */
#ifndef XLAB_GRAPH_H
#define XLAB_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct labview;
struct plan;

/* Every string is borrowed (from a plan, a spec or store rows) and may be
 * NULL where it says so; the renderers quote every one of them. */
struct graph_host {
	const char *name;
	const char *ip;    /* NULL: none known */
	const char *image; /* the image its dom0 boots, NULL: not known */
	const char *state; /* a note shown under it (a store state that is not
			      "up"), or NULL */
};

struct graph_guest {
	const char *name;
	const char *host;  /* the host it runs on (now, for a running lab) */
	const char *ip;    /* NULL: none known */
	const char *type;  /* "pv", "pvh", "hvm"; NULL: not known (made by hand) */
	bool shared;       /* its volume is on the shared VG: it can migrate */
	bool by_hand;      /* made with `xlab guest create` */
	const char *state; /* as for a host */
};

/* An experiment: its guest moved between two hosts' dom0s. */
struct graph_path {
	const char *name;
	const char *guest, *from, *to;
	int rounds;
	bool back_and_forth;
};

struct graph_lab {
	const char *lab;
	const char *network;   /* libvirt network name */
	const char *subnet;
	bool subnet_pooled;    /* not in the spec: `up` allocates one (maybe another) */
	const char *bridge;
	const char *gateway;
	const char *vg;        /* every host's own VG */
	const char *shared_vg; /* on the one disk every host sees, or NULL */
	uint64_t shared_size;
	struct graph_host *hosts;
	size_t n_hosts;
	struct graph_guest *guests;
	size_t n_guests;
	struct graph_path *paths;
	size_t n_paths;
};

/* s as one double-quoted Graphviz string, safe in any attribute and as a
 * label: quotes and backslashes escaped (so no \N or \G expands), '&' as
 * &amp; (no entity expands), newlines as \n, control characters and invalid
 * UTF-8 as '?'. Allocated. */
char *graph_dot_quote(const char *s);
/* s as one double-quoted mermaid string: characters mermaid reads in a
 * label (" # < > & ` %) as its #name; entities, newlines as <br/>, control
 * characters and invalid UTF-8 as '?'. Allocated. */
char *graph_mermaid_quote(const char *s);

/* The whole picture as a Graphviz digraph / a mermaid flowchart. Allocated. */
char *graph_dot(const struct graph_lab *g);
char *graph_mermaid(const struct graph_lab *g);

/* g from a plan (`xlab graph FILE`: the spec as `xlab plan` makes it);
 * borrows from p, which must outlive g. */
void graph_lab_from_plan(struct graph_lab *g, const struct plan *p);
/* g from a running lab: its plan (labview_plan: the spec and the guests made
 * by hand) with what the store says over it: each guest on the host it runs
 * on now, addresses and images as recorded, nodes the spec lacks added.
 * Borrows from v. */
void graph_lab_from_view(struct graph_lab *g, const struct labview *v);
void graph_lab_free(struct graph_lab *g);

/* Graphviz's `dot -Tsvg` of dot text: the SVG document, allocated, in *svg.
 * A machine without dot is told to install the Debian package graphviz. */
int graph_svg(const char *dot, char **svg, size_t *len, struct xerr *e);

#endif
