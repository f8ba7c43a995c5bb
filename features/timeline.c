/* The Gantt chart of a run's steps. */
#include "timeline.h"

#include <stdbool.h>
#include <string.h>

#include "chart.h"
#include "util.h"

#define TL_WIDTH 1000
#define TL_LABELS 170 /* the row names' column */
#define TL_RIGHT 24
#define TL_TOP 30     /* the legend above the rows */
#define TL_ROW 26
#define TL_BAR 18
#define TL_AXIS 36    /* tick labels under the rows */
#define TL_CHAR_PX 7  /* a 12 px sans-serif character, about */

/* A row: what its steps worked on. */
struct tl_row {
	const char *kind; /* "host", "guest", "experiment"; NULL: the lab's own
			     row (key NULL) or a target of no known kind */
	char *key;        /* the target (an experiment's name without its
			     round's "#N"), or NULL for the lab's row */
};

/* What a step's target is, by the step's name (steps are named
 * "object.verb" after what they act on). Lab-wide steps name the image,
 * the network, a file or nothing: they share the lab's row. */
static const struct {
	const char *prefix, *kind;
	bool lab;
} step_kinds[] = {
	{ "image.", NULL, true },        { "keys", NULL, true },
	{ "network.", NULL, true },      { "files.", NULL, true },
	{ "shared.", NULL, true },       { "guests.", "host", false },
	{ "guest.", "guest", false },    { "lv.", "guest", false },
	{ "host.", "host", false },      { "agent.", "host", false },
	{ "storage.init", "host", false }, { "disk.create", "host", false },
	{ "experiment.", "experiment", false },
};

static bool starts_with(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* The step's row as a fresh row (its key allocated). */
static struct tl_row row_of(const struct db_step *s)
{
	const char *kind = NULL;

	if (!s->target || !*s->target)
		return (struct tl_row){ 0 };
	for (size_t i = 0; i < ARRAY_SIZE(step_kinds); i++) {
		if (!starts_with(s->name, step_kinds[i].prefix))
			continue;
		if (step_kinds[i].lab)
			return (struct tl_row){ 0 };
		kind = step_kinds[i].kind;
		break;
	}
	/* An experiment's rounds ("pingpong#2") share the experiment's row. */
	if (kind && !strcmp(kind, "experiment"))
		return (struct tl_row){ kind, xstrndup(s->target, strcspn(s->target, "#")) };
	return (struct tl_row){ kind, xstrdup(s->target) };
}

static size_t row_find(const struct tl_row *rows, size_t n, const struct tl_row *r)
{
	for (size_t i = 0; i < n; i++)
		if (r->key ? rows[i].key && !strcmp(rows[i].key, r->key) : !rows[i].key)
			return i;
	return n;
}

/* Each step's row; rows in the order their first step began (steps come
 * ordered so). */
static size_t rows_make(const struct db_step *v, size_t n, struct tl_row **out, size_t *of)
{
	struct tl_row *rows = xcalloc(n + 1, sizeof(*rows));
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		struct tl_row r = row_of(&v[i]);

		of[i] = row_find(rows, nr, &r);
		if (of[i] < nr) {
			free(r.key);
			continue;
		}
		rows[nr++] = r;
	}
	*out = rows;
	return nr;
}

static void rows_free(struct tl_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].key);
	free(rows);
}

/* Where a step's bar ends: a step that never ended (the run was cut, or
 * still runs) is drawn to the end of the chart. */
static int64_t step_end_ms(const struct db_step *s, int64_t chart_ms)
{
	return s->duration_ms >= 0 ? s->offset_ms + s->duration_ms : chart_ms;
}

static int64_t chart_ms_of(const struct db_step *v, size_t n, int64_t run_ms)
{
	int64_t end = run_ms > 0 ? run_ms : 1;

	for (size_t i = 0; i < n; i++)
		if (v[i].duration_ms >= 0 && v[i].offset_ms + v[i].duration_ms > end)
			end = v[i].offset_ms + v[i].duration_ms;
		else if (v[i].offset_ms > end)
			end = v[i].offset_ms;
	return end;
}

static void legend(struct chart *c)
{
	static const char *const states[] = { "ok", "failed", "skipped", "unfinished" };
	double x = TL_LABELS;

	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		chart_rect(c, x, 8, 12, 12, chart_colour(states[i]), "legend", NULL);
		chart_text(c, x + 16, 18, "start", "#333333", states[i]);
		x += 30 + TL_CHAR_PX * (double)strlen(states[i]);
	}
}

/* What a hover over the bar says: the step, how it ended, when, and its
 * message. */
static char *bar_tip(const struct db_step *s)
{
	struct buf b = { 0 };

	buf_printf(&b, "%s %s: %s", s->name, s->target ? s->target : "",
		   s->status ? s->status : "?");
	if (s->duration_ms >= 0)
		buf_printf(&b, ", %.1f s", (double)s->duration_ms / 1000);
	buf_printf(&b, " from %.1f s", (double)s->offset_ms / 1000);
	if (s->duration_ms < 0)
		buf_puts(&b, ", never ended");
	if (s->message)
		buf_printf(&b, "\n%s", s->message);
	return buf_steal(&b);
}

/* label: what the bar says when it is wide enough. */
static void bar(struct chart *c, const struct chart_scale *sc, const struct db_step *s,
		const char *label, double y, int64_t chart_ms)
{
	double x = chart_x(sc, (double)s->offset_ms / 1000);
	double w = chart_x(sc, (double)step_end_ms(s, chart_ms) / 1000) - x;
	_cleanup_free_ char *cls = xasprintf("bar %s", s->status ? s->status : "");
	_cleanup_free_ char *t = bar_tip(s);

	/* A step of a millisecond still shows. */
	if (w < 1.5)
		w = 1.5;
	chart_rect(c, x, y, w, TL_BAR, chart_colour(s->status), cls, t);
	if (w > TL_CHAR_PX * (double)strlen(label) + 8)
		chart_text(c, x + 4, y + TL_BAR - 5, "start", "#ffffff", label);
}

static void row_label(struct chart *c, const struct tl_row *r, double y)
{
	_cleanup_free_ char *label = !r->key ? xstrdup("lab") :
				     r->kind ? xasprintf("%s %s", r->kind, r->key) :
					       xstrdup(r->key);

	chart_text(c, TL_LABELS - 8, y + TL_ROW / 2 + 4, "end", "#222222", label);
}

static void end_line(struct chart *c, const struct chart_scale *sc, int64_t run_ms, double top,
		     double bottom)
{
	double x = chart_x(sc, (double)run_ms / 1000);
	_cleanup_free_ char *label = xasprintf("run ended at %.1f s", (double)run_ms / 1000);

	chart_line(c, x, top - 6, x, bottom, "#333333", true);
	chart_text(c, x, top - 10, "end", "#333333", label);
}

char *timeline_svg(const struct db_step *v, size_t n, int64_t run_ms, const char *title)
{
	struct tl_row *rows = NULL;
	_cleanup_free_ size_t *of = xcalloc(n + 1, sizeof(*of));
	size_t nr = rows_make(v, n, &rows, of);
	int64_t chart_ms = chart_ms_of(v, n, run_ms);
	struct chart_scale sc = { TL_LABELS, TL_WIDTH - TL_RIGHT, (double)chart_ms / 1000 };
	double bottom = TL_TOP + (double)nr * TL_ROW;
	struct chart *c;

	if (!n) {
		rows_free(rows, nr);
		return NULL;
	}
	c = chart_begin(TL_WIDTH, TL_TOP + (int)nr * TL_ROW + TL_AXIS, title);
	for (size_t r = 0; r < nr; r++)
		if (r % 2)
			chart_rect(c, 0, TL_TOP + (double)r * TL_ROW, TL_WIDTH, TL_ROW, "#f5f5f5",
				   NULL, NULL);
	chart_axis(c, &sc, TL_TOP, bottom);
	legend(c);
	for (size_t r = 0; r < nr; r++)
		row_label(c, &rows[r], TL_TOP + (double)r * TL_ROW);
	for (size_t i = 0; i < n; i++) {
		/* A row of one experiment's rounds tells them apart by round. */
		const char *label = rows[of[i]].key && strcmp(rows[of[i]].key, v[i].target) ?
					    v[i].target :
					    v[i].name;

		bar(c, &sc, &v[i], label, TL_TOP + (double)of[i] * TL_ROW + (TL_ROW - TL_BAR) / 2.0,
		    chart_ms);
	}
	if (run_ms >= 0)
		end_line(c, &sc, run_ms, TL_TOP, bottom);
	rows_free(rows, nr);
	return chart_end(c);
}
