#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "junit.h"
#include "text.h"
#include "util.h"

static double xpath_num(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	double v = xmlXPathCastToNumber(o);

	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return v;
}

Test(junit, writes_suites_cases_and_failures_escaped)
{
	char path[] = "/tmp/xlab-junit-XXXXXX";
	int fd = mkstemp(path);
	struct junit_case cases[] = {
		{ .name = "web1-console", .time_s = 1.5 },
		{ .name = "h1-sees-h2", .time_s = 0.25, .failed = true,
		  .message = "exit 1", .output = "ping: <unknown> host & \"h2\"" },
	};
	struct junit_suite suites[] = {
		{ .name = "xen-4.17", .cases = cases, .n_cases = 2 },
		{ .name = "xen-4.20", .cases = cases, .n_cases = 1 },
	};
	struct xerr e = { 0 };
	xmlDocPtr doc;

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(junit_write(path, "demo", suites, 2, &e), 0, "%s", e.msg);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	cr_assert_not_null(doc, "JUnit output is not well-formed XML");
	cr_assert_eq(xpath_num(doc, "count(/testsuites/testsuite)"), 2);
	cr_assert_eq(xpath_num(doc, "count(//testsuite[@name='xen-4.17']/testcase)"), 2);
	cr_assert_eq(xpath_num(doc, "number(//testsuite[@name='xen-4.17']/@failures)"), 1);
	cr_assert_eq(xpath_num(doc, "number(//testsuite[@name='xen-4.20']/@failures)"), 0);
	cr_assert_eq(xpath_num(doc, "count(//testcase[@name='h1-sees-h2']/failure)"), 1);
	cr_assert_eq(xpath_num(doc, "count(//failure[contains(., '<unknown> host & \"h2\"')])"), 1);
	xmlFreeDoc(doc);
	unlink(path);
}

static char *xpath_str(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlChar *v = xmlXPathCastToString(o);
	char *out = xstrdup((const char *)v);

	xmlFree(v);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return out;
}

static int xml_errors;

static void count_error(void *ud, const xmlError *err)
{
	(void)ud;
	(void)err;
	xml_errors++;
}

/* What test output really carries: colours, a bell, a NUL-free C0 zoo,
 * broken UTF-8, and text that must survive as it is. */
Test(junit, control_characters_ansi_and_bad_utf8_stay_valid_xml)
{
	char path[] = "/tmp/xlab-junit-XXXXXX";
	int fd = mkstemp(path);
	const char *out = "\x1b[31mFAIL\x1b[0m caf\xc3\xa9 \xf0\x9f\x90\x9f\x07 x\x01y\x1b\x0b\x0c "
			  "bad\xff\xfe \xc0\xaf \xed\xa0\x80 \xef\xbf\xbe end\ttab\r\nnext";
	struct junit_case cases[] = {
		{ .name = "n\x1b[1mame\x02", .classname = "c\x7f\x1f", .time_s = 1, .failed = true,
		  .message = "exit\x03 \xff", .output = out },
	};
	struct junit_suite suites[] = {
		{ .name = "xen\x1b]0;title\x07", .cases = cases, .n_cases = 1,
		  .hostname = "h\x08" },
	};
	struct xerr e = { 0 };
	_cleanup_free_ char *fail = NULL, *sysout = NULL, *name = NULL;
	xmlDocPtr doc;

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(junit_write(path, "demo\x1b[0m", suites, 1, &e), 0, "%s", e.msg);
	xmlSetStructuredErrorFunc(NULL, (xmlStructuredErrorFunc)count_error);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	cr_assert_not_null(doc, "JUnit output is not well-formed XML");
	cr_assert_eq(xml_errors, 0, "libxml2 reported %d errors", xml_errors);
	fail = xpath_str(doc, "string(//failure)");
	sysout = xpath_str(doc, "string(//system-out)");
	name = xpath_str(doc, "string(//testcase/@name)");
	cr_assert_str_eq(fail, sysout);
	cr_assert(strstr(fail, "FAIL caf\xc3\xa9 \xf0\x9f\x90\x9f"), "%s", fail);
	cr_assert(strstr(fail, "x\xef\xbf\xbdy"), "%s", fail);
	cr_assert(strstr(fail, "end\ttab"), "%s", fail);
	cr_assert_null(strchr(fail, '\x1b'));
	cr_assert_str_eq(name, "name\xef\xbf\xbd");
	xmlFreeDoc(doc);
	unlink(path);
}

Test(junit, terminal_text_has_no_escapes)
{
	_cleanup_free_ char *t = text_term("\x1b[2J\x1b]0;x\x07ok \xc2\x9b" "31m caf\xc3\xa9\n\tz\xff\r");

	cr_assert_str_eq(t, "?]0;x?ok ?31m caf\xc3\xa9\n\tz??");
	cr_assert_str_eq(tt(NULL), "");
}
