/* xlab graph LAB|FILE [--format dot|mermaid|svg] [-o FILE]: a picture of a
 * lab's topology. A spec FILE is drawn as `xlab plan` plans it; a LAB as
 * the store knows it now: guests made by hand, each guest on the host it
 * runs on after its migrations, the addresses it was given. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "graph.h"
#include "labview.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

enum graph_format { GRAPH_DOT, GRAPH_MERMAID, GRAPH_SVG };

struct graph_opts {
	const char *target; /* LAB or FILE */
	const char *output; /* NULL: stdout */
	enum graph_format format;
};

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* As `test` and `experiment` tell them apart: a lab's name is a DNS label,
 * so a path or a YAML file name cannot be one. */
static bool target_is_file(const char *a)
{
	return strchr(a, '/') || ends_with(a, ".yaml") || ends_with(a, ".yml");
}

/* Without --format, the file name says: an .svg is drawn, else dot. */
static int format_parse(const char *text, const char *output, enum graph_format *f,
			struct xerr *e)
{
	static const char *const names[] = { "dot", "mermaid", "svg" };

	if (!text) {
		*f = output && ends_with(output, ".svg") ? GRAPH_SVG : GRAPH_DOT;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(text, names[i]) == 0) {
			*f = (enum graph_format)i;
			return 0;
		}
	return cmd_usage_error(e, "graph", "--format takes dot, mermaid or svg, not '%s'", text);
}

/* Before anything is drawn: a picture that has nowhere to go is a mistake in
 * the command line, better said at once than after the layout. */
static int output_check(const char *path, struct xerr *e)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return cmd_usage_error(e, "graph", "-o '%s' is a directory; name a file in it",
				       path);
	if (!slash)
		return 0;
	slash[slash == dir] = '\0'; /* "/x.svg" is in "/" */
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return cmd_usage_error(e, "graph", "-o '%s': no directory '%s' to write it in",
				       path, dir);
	return 0;
}

static int opts_parse(int argc, char **argv, struct graph_opts *o, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'o')
			o->output = optarg;
		else
			return cmd_usage_error(e, "graph", "unknown option");
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "graph", "expected one lab name or spec file");
	o->target = argv[optind];
	if (format_parse(format, o->output, &o->format, e) < 0)
		return -1;
	return o->output ? output_check(o->output, e) : 0;
}

static int render(const struct graph_lab *g, enum graph_format f, char **out, size_t *len,
		  struct xerr *e)
{
	_cleanup_free_ char *dot = NULL;

	if (f == GRAPH_MERMAID) {
		*out = graph_mermaid(g);
		*len = strlen(*out);
		return 0;
	}
	dot = graph_dot(g);
	if (f == GRAPH_SVG)
		return graph_svg(dot, out, len, e);
	*len = strlen(dot);
	*out = steal_ptr(dot);
	return 0;
}

/* The accelerator only decides whether guests run on shadow paging, which
 * the picture does not show. */
static int draw_file(const char *path, enum graph_format f, char **out, size_t *len,
		     struct xerr *e)
{
	struct spec *s = NULL;
	struct spec_diags diags = { 0 };
	struct plan *p = NULL;
	struct graph_lab g = { 0 };
	int rc = -1;

	if (spec_load(path, &s, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		goto out;
	}
	if (cmd_plan_build(s, "qemu", &p, e) < 0)
		goto out;
	graph_lab_from_plan(&g, p);
	rc = render(&g, f, out, len, e);
out:
	graph_lab_free(&g);
	plan_free(p);
	spec_diags_free(&diags);
	spec_free(s);
	return rc;
}

static int draw_lab(const char *lab, enum graph_format f, char **out, size_t *len,
		    struct xerr *e)
{
	struct labview v;
	struct graph_lab g = { 0 };
	int rc = -1;

	if (labview_load(lab, &v, e) < 0 || labview_plan(&v, NULL, e) < 0)
		goto out;
	graph_lab_from_view(&g, &v);
	rc = render(&g, f, out, len, e);
out:
	graph_lab_free(&g);
	labview_free(&v);
	return rc;
}

int cmd_graph(int argc, char **argv, struct xerr *e)
{
	struct graph_opts o;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (opts_parse(argc, argv, &o, e) < 0)
		return -1;
	if ((target_is_file(o.target) ? draw_file : draw_lab)(o.target, o.format, &text, &len,
							       e) < 0)
		return -1;
	if (o.output)
		return file_write_atomic(o.output, text, len, 0644, e);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
		return xerr_errno(e, XERR_IO, "cannot write the graph to stdout");
	return 0;
}
