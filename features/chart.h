/* The pictures xlab draws itself for `report --html` (the run's timeline,
 * the spread of test actions' times): an SVG document written through
 * libxml2's writer, so every label is escaped by the library, and a time
 * axis in seconds with round ticks. Pure: text in, text out. */
#ifndef XLAB_CHART_H
#define XLAB_CHART_H

#include <stdbool.h>

struct chart;

/* Seconds 0..max_s drawn from x0 to x1. */
struct chart_scale {
	double x0, x1, max_s;
};

double chart_x(const struct chart_scale *s, double seconds);
/* One palette for every picture and table: the colour of a step, round or
 * test that ended so ("ok", "failed", "skipped"; anything else did not
 * end). */
const char *chart_colour(const char *status);
/* A round step (1, 2 or 5 times a power of ten seconds) giving about six
 * ticks from 0 to max_s. */
double chart_tick(double max_s);

/* <svg> of width x height (its viewBox too), with a <title>. */
struct chart *chart_begin(int width, int height, const char *title);
/* Shapes; tip (or NULL) is a <title> inside, which a browser shows on
 * hover; cls (or NULL) is a class, for tests and styles. */
void chart_rect(struct chart *c, double x, double y, double w, double h, const char *fill,
		const char *cls, const char *tip);
void chart_circle(struct chart *c, double cx, double cy, double r, const char *fill,
		  const char *cls, const char *tip);
void chart_line(struct chart *c, double x1, double y1, double x2, double y2, const char *stroke,
		bool dashed);
/* anchor: "start", "middle" or "end". */
void chart_text(struct chart *c, double x, double y, const char *anchor, const char *fill,
		const char *text);
/* Vertical grid lines from top to bottom at each tick, and the tick's
 * seconds under bottom. */
void chart_axis(struct chart *c, const struct chart_scale *s, double top, double bottom);
/* The document (allocated), or NULL when the writer failed; frees c. */
char *chart_end(struct chart *c);

#endif
