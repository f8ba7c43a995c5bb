/* `xlab report --plot DIR`: per experiment, an SVG of the empirical CDFs of
 * downtime and wall time, drawn by gnuplot. The script is built here with
 * its data inline; the only text in it that comes from the store is an
 * experiment name checked against [A-Za-z0-9_.-]+, and the output path
 * never enters it (gnuplot writes to stdout, xlab writes the file). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiment_report.h"
#include "spawn.h"
#include "util.h"

#define GNUPLOT_TIMEOUT_MS 60000

bool experiment_name_plottable(const char *name)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_.-";

	return name && *name && strspn(name, safe) == strlen(name);
}

/* $NAME << EOD: points (v[0], 0), (v[i], (i+1)/n) for `with steps`, which
 * draws the CDF's flat stretches and its jumps. */
static void datablock(struct buf *b, const char *block, const double *v, size_t n)
{
	buf_printf(b, "$%s << EOD\n%.3f 0\n", block, v[0]);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%.3f %.6f\n", v[i], (double)(i + 1) / (double)n);
	buf_puts(b, "EOD\n");
}

/* Adds run k's two series (downtime solid, wall time dashed, one colour per
 * run) to the data and the plot command; false when it has none. */
static bool run_series(struct buf *data, struct buf *plot, const struct exp_run *x, size_t k,
		       const char *name)
{
	const struct exp_group *g = exp_run_find(x, name);
	double *down, *wall;

	if (!g || !g->n_ok)
		return false;
	down = exp_group_sorted(x, g, true);
	wall = exp_group_sorted(x, g, false);
	datablock(data, k ? "down2" : "down1", down, g->n_ok);
	datablock(data, k ? "wall2" : "wall1", wall, g->n_ok);
	buf_printf(plot,
		   "%s$down%zu using 1:2 with steps lw 2 dt 1 lc %zu"
		   " title 'downtime, run %" PRId64 " (%zu of %zu rounds ok)', \\\n"
		   "  $wall%zu using 1:2 with steps lw 1.5 dt 2 lc %zu"
		   " title 'wall time, run %" PRId64 "'",
		   plot->len ? ", \\\n  " : "plot ", k + 1, k + 1, x->id, g->n_ok, g->n, k + 1,
		   k + 1, x->id);
	free(down);
	free(wall);
	return true;
}

char *experiment_plot_script(const struct exp_run *const runs[], size_t n, const char *name)
{
	struct buf head = { 0 }, data = { 0 }, plot = { 0 };
	bool any = false;

	if (!experiment_name_plottable(name))
		return NULL;
	for (size_t k = 0; k < n && k < 2; k++)
		any |= run_series(&data, &plot, runs[k], k, name);
	if (!any) {
		buf_free(&data);
		buf_free(&plot);
		return NULL;
	}
	/* noenhanced: '_' in a name is a character, not a subscript. */
	buf_puts(&head, "set terminal svg size 800,480 noenhanced font 'sans,12'"
			" background '#ffffff'\n");
	buf_printf(&head, "set title '%s: downtime and wall time (empirical CDF), run %" PRId64,
		   name, runs[0]->id);
	if (n > 1)
		buf_printf(&head, " vs run %" PRId64, runs[1]->id);
	buf_puts(&head, "'\nset xlabel 'seconds'\nset ylabel 'fraction of successful rounds'\n"
			"set xrange [0:*]\nset yrange [0:1.05]\nset key below\nset grid\n");
	buf_append(&head, data.data, data.len);
	buf_append(&head, plot.data, plot.len);
	buf_puts(&head, "\n");
	buf_free(&data);
	buf_free(&plot);
	return buf_steal(&head);
}

/* The script goes through a temporary file rather than stdin: gnuplot stops
 * at the first error, and a closed pipe would end xlab with SIGPIPE. */
static int script_write(const char *script, char **path, struct xerr *e)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *p = xasprintf("%s/xlab-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	_cleanup_close_ int fd = mkstemp(p);
	size_t len = strlen(script);

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot make a temporary file %s", p);
	if (write(fd, script, len) != (ssize_t)len) {
		xerr_errno(e, XERR_IO, "cannot write %s", p);
		unlink(p);
		return -1;
	}
	*path = steal_ptr(p);
	return 0;
}

/* Runs gnuplot on the script; res->out gets the SVG it wrote to stdout. */
static int gnuplot_run(const char *script, struct spawn_result *res, struct xerr *e)
{
	_cleanup_free_ char *path = NULL;
	struct spawn_opts o = { .capture_stdout = true, .timeout_ms = GNUPLOT_TIMEOUT_MS };
	int rc;

	if (script_write(script, &path, e) < 0)
		return -1;
	{
		char *argv[] = { "gnuplot", path, NULL };

		errno = 0;
		rc = spawn_check(argv, &o, res, e);
	}
	/* A failed start leaves the exec's errno: ENOENT when gnuplot is not in
	 * PATH (a gnuplot that ran and failed leaves errno alone). */
	if (rc < 0 && errno == ENOENT)
		xerr_set(e, XERR_FAIL, "gnuplot not found: apt install gnuplot-nox");
	unlink(path);
	return rc;
}

int experiment_plot_svg(const struct exp_run *x, const char *name, char **svg, size_t *len,
			struct xerr *e)
{
	const struct exp_run *runs[] = { x };
	_cleanup_free_ char *script = NULL;
	struct spawn_result res = { 0 };

	if (!experiment_name_plottable(name))
		return xerr_set(e, XERR_FAIL, "experiment name '%s' is not [A-Za-z0-9_.-]+: "
				"no plot of it", name);
	script = experiment_plot_script(runs, 1, name);
	if (!script)
		return xerr_set(e, XERR_FAIL, "no round of %s succeeded: nothing to plot", name);
	if (gnuplot_run(script, &res, e) < 0)
		return xerr_prefix(e, "plotting %s", name);
	*len = res.out_len;
	*svg = res.out ? steal_ptr(res.out) : xstrdup("");
	spawn_result_free(&res);
	return 0;
}

static int plot_one(const struct exp_run *const runs[], size_t n, const char *name,
		    const char *dir, FILE *paths, struct xerr *e)
{
	_cleanup_free_ char *script = NULL, *file = NULL;
	struct spawn_result res = { 0 };
	int rc;

	if (!experiment_name_plottable(name))
		return xerr_set(e, XERR_FAIL,
				"experiment name '%s' is not [A-Za-z0-9_.-]+: not plotting it",
				name);
	script = experiment_plot_script(runs, n, name);
	if (!script) {
		fprintf(stderr, "xlab: no plot of %s: no round of it succeeded\n", name);
		return 0;
	}
	if (n > 1)
		file = xasprintf("%s/run%" PRId64 "-vs-run%" PRId64 "-%s.svg", dir, runs[0]->id,
				 runs[1]->id, name);
	else
		file = xasprintf("%s/run%" PRId64 "-%s.svg", dir, runs[0]->id, name);
	if (gnuplot_run(script, &res, e) < 0)
		return xerr_prefix(e, "plotting %s", name);
	rc = file_write_atomic(file, res.out ? res.out : "", res.out_len, 0644, e);
	spawn_result_free(&res);
	if (rc < 0)
		return -1;
	fprintf(paths, "%s\n", file);
	return 0;
}

int experiment_plot(const struct exp_run *a, const struct exp_run *b, const char *dir,
		    FILE *paths, struct xerr *e)
{
	const struct exp_run *runs[] = { a, b };
	_cleanup_free_ const char **names = NULL;
	size_t n = exp_names_union(a, b, &names);

	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (plot_one(runs, b ? 2 : 1, names[i], dir, paths, e) < 0)
			return -1;
	return 0;
}
