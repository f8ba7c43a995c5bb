/* SVG through libxml2's writer. Sizes go out with one decimal: enough for
 * a screen, and the same numbers on every machine. */
#include "chart.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "util.h"

struct chart {
	xmlBufferPtr b;
	xmlTextWriterPtr w;
	bool failed;
};

static void check(struct chart *c, int rc)
{
	if (rc < 0)
		c->failed = true;
}

static void attr(struct chart *c, const char *name, const char *value)
{
	_cleanup_free_ char *v = text_xml(value);

	if (!c->failed && v)
		check(c, xmlTextWriterWriteAttribute(c->w, BAD_CAST name, BAD_CAST v));
}

static void attr_num(struct chart *c, const char *name, double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.1f", v);
	attr(c, name, s);
}

static void start(struct chart *c, const char *tag)
{
	if (!c->failed)
		check(c, xmlTextWriterStartElement(c->w, BAD_CAST tag));
}

static void end(struct chart *c)
{
	if (!c->failed)
		check(c, xmlTextWriterEndElement(c->w));
}

static void tip(struct chart *c, const char *text)
{
	_cleanup_free_ char *v = text_xml(text);

	if (!c->failed && v)
		check(c, xmlTextWriterWriteElement(c->w, BAD_CAST "title", BAD_CAST v));
}

const char *chart_colour(const char *status)
{
	if (!status)
		return "#fb8c00";
	if (!strcmp(status, "ok"))
		return "#43a047";
	if (!strcmp(status, "failed"))
		return "#e53935";
	if (!strcmp(status, "skipped"))
		return "#9e9e9e";
	return "#fb8c00";
}

double chart_x(const struct chart_scale *s, double seconds)
{
	double max = s->max_s > 0 ? s->max_s : 1;

	return s->x0 + (s->x1 - s->x0) * seconds / max;
}

double chart_tick(double max_s)
{
	double raw = (max_s > 0 ? max_s : 1) / 6, p = 1;

	/* p: the power of ten at or below raw. */
	while (p * 10 <= raw)
		p *= 10;
	while (p > raw)
		p /= 10;
	return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

struct chart *chart_begin(int width, int height, const char *title)
{
	struct chart *c = xcalloc(1, sizeof(*c));
	char box[64];

	c->b = xmlBufferCreate();
	c->w = c->b ? xmlNewTextWriterMemory(c->b, 0) : NULL;
	if (!c->w) {
		c->failed = true;
		return c;
	}
	snprintf(box, sizeof(box), "0 0 %d %d", width, height);
	start(c, "svg");
	attr(c, "xmlns", "http://www.w3.org/2000/svg");
	attr_num(c, "width", width);
	attr_num(c, "height", height);
	attr(c, "viewBox", box);
	attr(c, "font-family", "sans-serif");
	attr(c, "font-size", "12");
	tip(c, title);
	chart_rect(c, 0, 0, width, height, "#ffffff", "background", NULL);
	return c;
}

void chart_rect(struct chart *c, double x, double y, double w, double h, const char *fill,
		const char *cls, const char *t)
{
	start(c, "rect");
	if (cls)
		attr(c, "class", cls);
	attr_num(c, "x", x);
	attr_num(c, "y", y);
	attr_num(c, "width", w);
	attr_num(c, "height", h);
	attr(c, "fill", fill);
	/* A shape with a tip is a bar of data: edged in white, so bars that
	 * touch (one step right after another) stay apart. */
	if (t) {
		attr(c, "stroke", "#ffffff");
		attr(c, "stroke-width", "1");
		tip(c, t);
	}
	end(c);
}

void chart_circle(struct chart *c, double cx, double cy, double r, const char *fill,
		  const char *cls, const char *t)
{
	start(c, "circle");
	if (cls)
		attr(c, "class", cls);
	attr_num(c, "cx", cx);
	attr_num(c, "cy", cy);
	attr_num(c, "r", r);
	attr(c, "fill", fill);
	attr(c, "fill-opacity", "0.75");
	if (t)
		tip(c, t);
	end(c);
}

void chart_line(struct chart *c, double x1, double y1, double x2, double y2, const char *stroke,
		bool dashed)
{
	start(c, "line");
	attr_num(c, "x1", x1);
	attr_num(c, "y1", y1);
	attr_num(c, "x2", x2);
	attr_num(c, "y2", y2);
	attr(c, "stroke", stroke);
	if (dashed)
		attr(c, "stroke-dasharray", "4 3");
	end(c);
}

void chart_text(struct chart *c, double x, double y, const char *anchor, const char *fill,
		const char *text)
{
	_cleanup_free_ char *v = text_xml(text);

	start(c, "text");
	attr_num(c, "x", x);
	attr_num(c, "y", y);
	attr(c, "text-anchor", anchor);
	attr(c, "fill", fill);
	if (!c->failed && v)
		check(c, xmlTextWriterWriteString(c->w, BAD_CAST v));
	end(c);
}

void chart_axis(struct chart *c, const struct chart_scale *s, double top, double bottom)
{
	double step = chart_tick(s->max_s);

	/* Ticks up to the last one that fits, with a margin for rounding;
	 * k * step rather than a running sum, which drifts (0.30000000000000004). */
	for (int k = 0; k * step <= s->max_s + step * 1e-6; k++) {
		double t = k * step, x = chart_x(s, t);
		char label[32];

		snprintf(label, sizeof(label), "%g s", t);
		chart_line(c, x, top, x, bottom, "#dddddd", false);
		chart_text(c, x, bottom + 14, "middle", "#555555", label);
	}
}

char *chart_end(struct chart *c)
{
	char *out = NULL;

	end(c);
	if (!c->failed)
		check(c, xmlTextWriterFlush(c->w));
	if (!c->failed)
		out = xstrndup((const char *)xmlBufferContent(c->b), (size_t)xmlBufferLength(c->b));
	if (c->w)
		xmlFreeTextWriter(c->w);
	if (c->b)
		xmlBufferFree(c->b);
	free(c);
	return out;
}
