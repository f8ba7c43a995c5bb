/* SVG through Graphviz: `dot -Tsvg`, the dot text on its stdin, the SVG on
 * its stdout. No file of ours is named on its command line, so nothing in a
 * lab's names can become an argument. */
#include <errno.h>
#include <string.h>

#include "graph.h"
#include "spawn.h"
#include "util.h"

/* A lab of 64 hosts and 256 guests lays out in well under a second. */
#define GRAPH_DOT_TIMEOUT_MS 60000

int graph_svg(const char *dot, char **svg, size_t *len, struct xerr *e)
{
	char *argv[] = { "dot", "-Tsvg", NULL };
	struct spawn_opts o = { .stdin_data = dot, .stdin_len = strlen(dot),
				.capture_stdout = true, .timeout_ms = GRAPH_DOT_TIMEOUT_MS };
	struct spawn_result r = { 0 };

	if (spawn_check(argv, &o, &r, e) < 0) {
		if (e->kind == XERR_IO && e->sys == ENOENT)
			return xerr_set(e, XERR_NOTFOUND, "Graphviz's dot is not installed, and an "
				       "SVG needs it: apt-get install graphviz (or --format dot)");
		return xerr_prefix(e, "drawing the SVG");
	}
	*len = r.out_len;
	*svg = steal_ptr(r.out);
	spawn_result_free(&r);
	return 0;
}
