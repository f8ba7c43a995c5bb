#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "junit.h"
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
