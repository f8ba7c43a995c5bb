#include "junit.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "util.h"

#define W(call)                                                                             \
	do {                                                                                \
		if ((call) < 0)                                                             \
			goto fail;                                                          \
	} while (0)

static int attr_printf(xmlTextWriterPtr w, const char *name, const char *fmt, double v)
{
	char s[64];

	snprintf(s, sizeof(s), fmt, v);
	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST s);
}

/* Test output and names come from guests and dom0s: ANSI colours, other
 * control characters and broken UTF-8 would make the document invalid XML
 * (libxml2 writes them as they are), so every string goes through text_xml. */
static int attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	_cleanup_free_ char *v = text_xml(value);

	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v);
}

static int text(xmlTextWriterPtr w, const char *value)
{
	_cleanup_free_ char *v = text_xml(value);

	return xmlTextWriterWriteString(w, BAD_CAST v);
}

static int write_case(xmlTextWriterPtr w, const struct junit_case *c)
{
	W(xmlTextWriterStartElement(w, BAD_CAST "testcase"));
	W(attr(w, "name", c->name));
	W(attr(w, "classname", c->classname ? c->classname : "xlab"));
	W(attr_printf(w, "time", "%.3f", c->time_s));
	if (c->failed) {
		W(xmlTextWriterStartElement(w, BAD_CAST "failure"));
		W(attr(w, "message", c->message ? c->message : "failed"));
		W(text(w, c->output ? c->output : ""));
		W(xmlTextWriterEndElement(w));
	}
	if (c->output && *c->output) {
		W(xmlTextWriterStartElement(w, BAD_CAST "system-out"));
		W(text(w, c->output));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	return 0;
fail:
	return -1;
}

static int write_suite(xmlTextWriterPtr w, const struct junit_suite *s)
{
	size_t failures = 0;
	double total = 0;

	for (size_t i = 0; i < s->n_cases; i++) {
		failures += s->cases[i].failed;
		total += s->cases[i].time_s;
	}
	W(xmlTextWriterStartElement(w, BAD_CAST "testsuite"));
	W(attr(w, "name", s->name));
	W(attr_printf(w, "tests", "%.0f", (double)s->n_cases));
	W(attr_printf(w, "failures", "%.0f", (double)failures));
	W(xmlTextWriterWriteAttribute(w, BAD_CAST "errors", BAD_CAST "0"));
	W(attr_printf(w, "time", "%.3f", total));
	if (s->timestamp)
		W(attr(w, "timestamp", s->timestamp));
	if (s->hostname)
		W(attr(w, "hostname", s->hostname));
	for (size_t i = 0; i < s->n_cases; i++)
		W(write_case(w, &s->cases[i]));
	W(xmlTextWriterEndElement(w));
	return 0;
fail:
	return -1;
}

int junit_write(const char *path, const char *name, const struct junit_suite *suites,
		size_t n, struct xerr *e)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
	int rc = -1;

	if (!w) {
		xmlBufferFree(buf);
		return xerr_set(e, XERR_FAIL, "cannot create XML writer");
	}
	xmlTextWriterSetIndent(w, 1);
	W(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
	W(xmlTextWriterStartElement(w, BAD_CAST "testsuites"));
	W(attr(w, "name", name));
	for (size_t i = 0; i < n; i++)
		W(write_suite(w, &suites[i]));
	W(xmlTextWriterEndDocument(w));
	xmlFreeTextWriter(w);
	w = NULL;
	if (strcmp(path, "-") == 0) {
		fwrite(xmlBufferContent(buf), 1, (size_t)xmlBufferLength(buf), stdout);
		rc = 0;
	} else {
		rc = file_write_atomic(path, xmlBufferContent(buf), (size_t)xmlBufferLength(buf),
				       0644, e);
	}
	xmlBufferFree(buf);
	return rc;
fail:
	xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	return xerr_set(e, XERR_FAIL, "cannot write JUnit XML");
}
