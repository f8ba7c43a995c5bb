/* The Xen-version matrix without VMs: versions, copy names and subnets, the
 * copy of a spec, what fits, the table, JSON, the JUnit file (parsed back
 * with libxml2), the comparison, and a matrix loaded from a real store. */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "matrix.h"
#include "matrix_store.h"
#include "matrix_view.h"
#include "parse.h"
#include "spec.h"
#include "util.h"

static const char SPEC[] =
	"lab: demo\n"
	"xen: \"4.17\"\n"
	"matrix:\n"
	"  xen: [\"4.17\", \"4.20\"]\n"
	"network:\n"
	"  subnet: 10.82.0.0/16\n"
	"hosts:\n"
	"  - name: h1\n"
	"    memory: 1536M\n"
	"    dom0_mem: 768M\n"
	"    ip: 10.82.0.10\n"
	"  - name: h2\n"
	"    memory: 2G\n"
	"    vcpus: 2\n"
	"guests:\n"
	"  - name: g1\n"
	"    host: h1\n"
	"    ip: 10.82.0.60\n"
	"tests:\n"
	"  - name: t1\n"
	"    host: h1\n"
	"    run: [\"true\"]\n";

static struct spec *load(const char *yaml)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	if (spec_load_buffer("m.yaml", yaml, strlen(yaml), &s, &d, &e) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%d:%d: %s\n", d.v[i].pos.line, d.v[i].pos.col, d.v[i].msg);
		cr_assert_fail("spec: %s", e.msg);
	}
	spec_diags_free(&d);
	return s;
}

Test(matrix, spec_block)
{
	struct spec *s = load(SPEC);
	struct spec *bad = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	static const char dup[] = "lab: d\nxen: \"4.17\"\nmatrix: {xen: [\"4.17\", \"4.17\"]}\n"
				  "hosts:\n  - name: h1\n";
	static const char num[] = "lab: d\nxen: \"4.17\"\nmatrix: {xen: [4.1]}\n"
				  "hosts:\n  - name: h1\n";

	cr_assert_eq(strv_len(s->matrix_xen), 2);
	cr_assert_str_eq(s->matrix_xen[0], "4.17");
	cr_assert_str_eq(s->matrix_xen[1], "4.20");
	cr_assert_eq(s->matrix_pos.line, 4);
	spec_free(s);
	cr_assert_eq(spec_load_buffer("d.yaml", dup, strlen(dup), &bad, &d, &e), -1);
	cr_assert(d.n >= 1 && strstr(d.v[0].msg, "listed twice"), "%s", d.n ? d.v[0].msg : "");
	spec_diags_free(&d);
	cr_assert_eq(spec_load_buffer("n.yaml", num, strlen(num), &bad, &d, &e), -1);
	cr_assert(d.n >= 1 && strstr(d.v[0].msg, "matrix.xen"), "%s", d.n ? d.v[0].msg : "");
	spec_diags_free(&d);
}

Test(matrix, versions_parse)
{
	char **v = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(matrix_versions_parse("4.17, 4.20", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(v), 2);
	cr_assert_str_eq(v[0], "4.17");
	cr_assert_str_eq(v[1], "4.20");
	strv_free(v);
	cr_assert_eq(matrix_versions_parse("4.17,4.17", &v, &e), -1);
	cr_assert(strstr(e.msg, "twice"));
	cr_assert_eq(matrix_versions_parse("4.17,xen-4.20", &v, &e), -1);
	cr_assert(strstr(e.msg, "'xen-4.20'"), "%s", e.msg);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert_eq(matrix_versions_parse(",", &v, &e), -1);
	cr_assert_eq(matrix_images_parse("xen-4.20, xen-4.20-shadow", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(v), 2);
	cr_assert_str_eq(v[1], "xen-4.20-shadow");
	strv_free(v);
	cr_assert_eq(matrix_images_parse("xen-4.20,../x", &v, &e), -1);
	cr_assert(strstr(e.msg, "'../x' is not an image name"), "%s", e.msg);
	cr_assert_eq(matrix_images_parse("a,a", &v, &e), -1);
}

Test(matrix, lab_name)
{
	char name[SPEC_NAME_MAX + 1];
	struct xerr e = { 0 };
	char longlab[64];

	cr_assert_eq(matrix_lab_name("demo", "4.17", NULL, name, &e), 0);
	cr_assert_str_eq(name, "demo-x4-17");
	cr_assert_eq(matrix_lab_name("demo", "4.20", NULL, name, &e), 0);
	cr_assert_str_eq(name, "demo-x4-20");
	/* Cells by image: one named for a version reads like it, others keep their name. */
	cr_assert_eq(matrix_lab_name("demo", "xen-4.20-shadow", NULL, name, &e), 0);
	cr_assert_str_eq(name, "demo-x4-20-shadow");
	cr_assert_eq(matrix_lab_name("demo", "mine", NULL, name, &e), 0);
	cr_assert_str_eq(name, "demo-mine");
	cr_assert_eq(matrix_lab_name("demo", "mine.", NULL, name, &e), -1, "%s", name);
	cr_assert(strstr(e.msg, "ends in '-'"), "%s", e.msg);
	memset(longlab, 'a', 58);
	longlab[58] = '\0';
	cr_assert_eq(matrix_lab_name(longlab, "4.17", NULL, name, &e), -1);
	cr_assert(strstr(e.msg, "shorten"), "%s", e.msg);
}

/* The guest-type axis: names, and the copy's guests all of that type. */
Test(matrix, types_name_and_copy)
{
	char name[SPEC_NAME_MAX + 1];
	struct spec *base = load(SPEC), *c = NULL;
	struct xerr e = { 0 };
	char **v = NULL;

	cr_assert_eq(matrix_types_parse("pv, pvh,hvm", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(v), 3);
	cr_assert_str_eq(v[1], "pvh");
	strv_free(v);
	cr_assert_eq(matrix_types_parse("pv,hvm2", &v, &e), -1);
	cr_assert(strstr(e.msg, "'hvm2' is not a guest type (pv, pvh or hvm)"), "%s", e.msg);
	cr_assert_eq(matrix_types_parse("pvh,pvh", &v, &e), -1);
	cr_assert(strstr(e.msg, "pvh is listed twice"), "%s", e.msg);
	cr_assert_eq(matrix_lab_name("demo", "4.17", "pvh", name, &e), 0);
	cr_assert_str_eq(name, "demo-x4-17-pvh");
	cr_assert_eq(matrix_lab_name("demo", "xen-4.20-shadow", "hvm", name, &e), 0);
	cr_assert_str_eq(name, "demo-x4-20-shadow-hvm");
	cr_assert_eq(matrix_spec_copy(base, SPEC, strlen(SPEC), "4.20", "hvm", NULL,
				      "10.82.3.0/24", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->lab, "demo-x4-20-hvm");
	cr_assert_gt(c->n_guests, 0);
	for (size_t i = 0; i < c->n_guests; i++)
		cr_assert_eq(c->guests[i].type, SPEC_GUEST_HVM, "%s", c->guests[i].name);
	for (size_t i = 0; i < base->n_guests; i++)
		cr_assert_eq(base->guests[i].type, SPEC_GUEST_PV, "the base is untouched");
	spec_free(c);
	spec_free(base);
}

Test(matrix, subnet_inside_spec_range)
{
	struct spec *s = load(SPEC);
	char *used[] = { "10.82.0.0/24", "10.90.1.0/24", NULL };
	char a[20], b[20];
	struct xerr e = { 0 };

	/* /24s of the spec's own /16, skipping taken ones, distinct per copy. */
	cr_assert_eq(matrix_subnet_pick(s, "demo-x4-17", used, 2, a, &e), 0, "%s", e.msg);
	cr_assert_str_eq(a, "10.82.1.0/24");
	{
		char *used2[] = { "10.82.0.0/24", "10.82.1.0/24", NULL };

		cr_assert_eq(matrix_subnet_pick(s, "demo-x4-20", used2, 2, b, &e), 0);
		cr_assert_str_eq(b, "10.82.2.0/24");
	}
	{
		char *all[] = { "10.82.0.0/16", NULL };

		cr_assert_eq(matrix_subnet_pick(s, "demo-x4-20", all, 1, b, &e), -1);
		cr_assert(strstr(e.msg, "no free /24"), "%s", e.msg);
	}
	spec_free(s);
}

Test(matrix, subnet_pool_without_range)
{
	static const char y[] = "lab: p\nxen: \"4.17\"\nhosts:\n  - name: h1\n";
	struct spec *s = load(y);
	char a[20], b[20];
	char *used[2] = { a, NULL };
	struct xerr e = { 0 };

	cr_assert_eq(matrix_subnet_pick(s, "p-x4-17", NULL, 0, a, &e), 0, "%s", e.msg);
	cr_assert(!strncmp(a, "10.90.", 6), "%s", a);
	cr_assert_eq(matrix_subnet_pick(s, "p-x4-20", used, 1, b, &e), 0);
	cr_assert(!strncmp(b, "10.90.", 6), "%s", b);
	cr_assert_str_neq(a, b);
	spec_free(s);
}

/* A cell by image boots that image, whatever the spec's xen says. */
Test(matrix, spec_copy_for_an_image)
{
	struct spec *base = load(SPEC);
	struct spec *c = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *img = NULL;

	cr_assert_eq(matrix_spec_copy(base, SPEC, strlen(SPEC), "xen-4.20-shadow", NULL, "xen-4.20-shadow",
				      "10.82.4.0/24", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->lab, "demo-x4-20-shadow");
	cr_assert_null(c->xen);
	img = spec_image_name(c);
	cr_assert_str_eq(img, "xen-4.20-shadow");
	spec_free(c);
	spec_free(base);
}

Test(matrix, spec_copy_rebases_addresses)
{
	struct spec *base = load(SPEC);
	struct spec *c = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(matrix_spec_copy(base, SPEC, strlen(SPEC), "4.20", NULL, NULL, "10.82.3.0/24", &c,
				      &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->lab, "demo-x4-20");
	cr_assert_str_eq(c->xen, "4.20");
	cr_assert_str_eq(c->subnet, "10.82.3.0/24");
	cr_assert_eq(c->net_prefix, 24);
	cr_assert_str_eq(c->hosts[0].ip, "10.82.3.10");
	cr_assert_null(c->hosts[1].ip);
	cr_assert_str_eq(c->guests[0].ip, "10.82.3.60");
	cr_assert_eq(c->n_tests, 1);
	cr_assert_str_eq(c->sha256, base->sha256);
	/* The base is untouched. */
	cr_assert_str_eq(base->lab, "demo");
	cr_assert_str_eq(base->hosts[0].ip, "10.82.0.10");
	spec_free(c);
	cr_assert_eq(matrix_spec_copy(base, "lab: x\n", 7, "4.20", NULL, NULL, "10.82.3.0/24", &c, &e), -1);
	spec_free(base);
}

Test(matrix, spec_copy_refuses_address_beyond_a_24)
{
	static const char y[] = "lab: far\nxen: \"4.17\"\nnetwork: {subnet: 10.82.0.0/16}\n"
				"hosts:\n  - name: h1\n    ip: 10.82.5.10\n";
	struct spec *base = load(y);
	struct spec *c = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(matrix_spec_copy(base, y, strlen(y), "4.20", NULL, NULL, "10.82.1.0/24", &c, &e), -1);
	cr_assert(strstr(e.msg, "10.82.5.10") && strstr(e.msg, "h1"), "%s", e.msg);
	spec_free(base);
}

Test(matrix, jobs_fit)
{
	struct spec *s = load(SPEC); /* h1 1536M/1 vCPU + h2 2G/2 vCPUs */
	char why[256];
	const uint64_t G = 1ull << 30;

	/* 2 cores: a copy needs 4 vCPUs (h1 takes the default 2), still one at a time. */
	cr_assert_eq(matrix_jobs_fit(64 * G, 2, s, 2, why, sizeof(why)), 1);
	cr_assert(strstr(why, "4 vCPU") && strstr(why, "needs 4G"), "%s", why);
	cr_assert_eq(matrix_jobs_fit(64 * G, 16, s, 2, why, sizeof(why)), 2);
	cr_assert_eq(matrix_jobs_fit(64 * G, 16, s, 9, why, sizeof(why)), 4);
	/* ~4G per copy: 9G fits 2. */
	cr_assert_eq(matrix_jobs_fit(9 * G, 64, s, 4, why, sizeof(why)), 2);
	cr_assert_eq(matrix_jobs_fit(1 * G, 64, s, 4, why, sizeof(why)), 1);
	spec_free(s);
}

/* Two columns, three tests: 4.20 fails only-4-17. */
static void view_make(struct mx_view *v, int64_t id, bool broken_boot)
{
	static const char *const rows[] = { "xl-info", "console", "only-4-17" };

	*v = (struct mx_view){ .id = id, .spec_path = xstrdup("m.yaml"),
			       .spec_sha256 = xstrdup("abcdef0123456789"),
			       .xlab_version = xstrdup("0.1"), .status = xstrdup("failed"),
			       .started = xstrdup("2026-11-25T10:00:00Z") };
	v->rows = xcalloc(4, sizeof(char *));
	for (size_t r = 0; r < 3; r++)
		v->rows[r] = xstrdup(rows[r]);
	v->n_rows = 3;
	v->cols = xcalloc(2, sizeof(*v->cols));
	v->n_cols = 2;
	for (size_t i = 0; i < 2; i++) {
		struct mx_column *c = &v->cols[i];

		c->xen = xstrdup(i ? "4.20" : "4.17");
		c->lab = xasprintf("m-x4-%s", i ? "20" : "17");
		c->up = true;
		c->run_id = 10 + (int64_t)i;
		c->bringup_ms = 71234;
		c->status = xstrdup("passed");
		c->xen_version = xstrdup(i ? "4.20.1" : "4.17.5");
		c->cells = xcalloc(3, sizeof(*c->cells));
		for (size_t r = 0; r < 3; r++)
			c->cells[r] = (struct mx_cell){ MX_PASS, 1500, NULL };
	}
	v->cols[1].cells[2] = (struct mx_cell){ MX_FAIL, 2000, xstrdup("exit status 1") };
	if (broken_boot) {
		struct mx_column *c = &v->cols[1];

		c->up = false;
		c->message = xstrdup("host 'm1' did not answer on ssh\n(XEN) panic");
		for (size_t r = 0; r < 3; r++) {
			free(c->cells[r].output);
			c->cells[r] = (struct mx_cell){ 0 };
		}
	}
}

static bool starts(const char *line, const char *want)
{
	return line && !strncmp(line, want, strlen(want));
}

Test(matrix, table)
{
	struct mx_view v;
	struct buf b = { 0 };
	const char *line;

	view_make(&v, 7, false);
	cr_assert_not(mx_view_passed(&v));
	mx_table_render(&v, &b);
	cr_assert(strstr(b.data, "matrix 7: m.yaml"), "%s", b.data);
	cr_assert(strstr(b.data, "FAILED"));
	line = strstr(b.data, "\nTEST");
	cr_assert(line && strstr(line, "xen-4.17") && strstr(line, "xen-4.20"), "%s", b.data);
	line = strstr(b.data, "\nbring-up");
	cr_assert(starts(line, "\nbring-up   PASS 71.2s    PASS 71.2s"),
		  "%s", b.data);
	line = strstr(b.data, "\nonly-4-17");
	cr_assert(starts(line, "\nonly-4-17  PASS 1.5s     FAIL 2.0s"), "%s",
		  b.data);
	cr_assert(strstr(b.data, "xen-4.20 only-4-17 FAILED:\n  exit status 1"), "%s", b.data);
	cr_assert(strstr(b.data, "Xen 4.20.1"));
	buf_free(&b);
	mx_view_free(&v);

	view_make(&v, 8, true);
	mx_table_render(&v, &b);
	line = strstr(b.data, "\nbring-up");
	cr_assert(line && strstr(line, "FAIL 71.2s"), "%s", b.data);
	line = strstr(b.data, "\nxl-info");
	cr_assert(starts(line, "\nxl-info    PASS 1.5s     -"), "%s", b.data);
	cr_assert(strstr(b.data, "xen-4.20 bring-up FAILED:\n  host 'm1' did not answer on ssh\n"
				 "  (XEN) panic"), "%s", b.data);
	buf_free(&b);
	mx_view_free(&v);
}

/* With --types a column is a version and a guest type: xen-4.17/pvh. */
Test(matrix, typed_columns)
{
	struct mx_view v;
	struct buf b = { 0 };
	struct json_object *o, *cols, *x;
	const char *line;

	view_make(&v, 9, false);
	v.cols[0].guest_type = xstrdup("pvh");
	v.cols[1].guest_type = xstrdup("hvm");
	mx_table_render(&v, &b);
	line = strstr(b.data, "\nTEST");
	cr_assert(line && strstr(line, "xen-4.17/pvh") && strstr(line, "xen-4.20/hvm"), "%s",
		  b.data);
	cr_assert(strstr(b.data, "xen-4.20/hvm only-4-17 FAILED:"), "%s", b.data);
	o = mx_json(&v);
	cr_assert(json_object_object_get_ex(o, "columns", &cols));
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(cols, 0), "guest_type", &x));
	cr_assert_str_eq(json_object_get_string(x), "pvh");
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(cols, 1), "suite", &x));
	cr_assert_str_eq(json_object_get_string(x), "xen-4.20/hvm");
	json_object_put(o);
	buf_free(&b);
	mx_view_free(&v);
}

Test(matrix, json)
{
	struct mx_view v;
	struct json_object *o, *cols, *c1, *tests, *t, *x;

	view_make(&v, 7, false);
	o = mx_json(&v);
	cr_assert(json_object_object_get_ex(o, "passed", &x) && !json_object_get_boolean(x));
	cr_assert(json_object_object_get_ex(o, "columns", &cols));
	cr_assert_eq(json_object_array_length(cols), 2);
	c1 = json_object_array_get_idx(cols, 1);
	cr_assert(json_object_object_get_ex(c1, "suite", &x));
	cr_assert_str_eq(json_object_get_string(x), "xen-4.20");
	cr_assert(json_object_object_get_ex(c1, "tests", &tests));
	t = json_object_array_get_idx(tests, 2);
	cr_assert(json_object_object_get_ex(t, "state", &x));
	cr_assert_str_eq(json_object_get_string(x), "fail");
	cr_assert(json_object_object_get_ex(t, "duration_ms", &x));
	cr_assert_eq(json_object_get_int64(x), 2000);
	json_object_put(o);
	mx_view_free(&v);
}

static char *xpath_str(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *s = NULL;

	if (r) {
		xmlChar *t = xmlXPathCastToString(r);

		s = xstrdup((const char *)t);
		xmlFree(t);
		xmlXPathFreeObject(r);
	}
	xmlXPathFreeContext(ctx);
	return s;
}

static void assert_xpath(xmlDocPtr doc, const char *expr, const char *want)
{
	_cleanup_free_ char *got = xpath_str(doc, expr);

	cr_assert(got && !strcmp(got, want), "%s: got '%s', want '%s'", expr, got ? got : "(null)",
		  want);
}

Test(matrix, junit_one_suite_per_version)
{
	char path[] = "/tmp/test-matrix-junit-XXXXXX";
	int fd = mkstemp(path);
	struct mx_view v;
	struct xerr e = { 0 };
	xmlDocPtr doc;

	cr_assert(fd >= 0);
	close(fd);
	view_make(&v, 7, false);
	cr_assert_eq(mx_junit_write(&v, path, &e), 0, "%s", e.msg);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	cr_assert_not_null(doc);
	assert_xpath(doc, "count(/testsuites/testsuite)", "2");
	assert_xpath(doc, "string(/testsuites/testsuite[1]/@name)", "xen-4.17");
	assert_xpath(doc, "string(/testsuites/testsuite[2]/@name)", "xen-4.20");
	assert_xpath(doc, "count(/testsuites/testsuite[1]/testcase)", "4");
	assert_xpath(doc, "string(/testsuites/testsuite[1]/testcase[1]/@name)", "bring-up");
	assert_xpath(doc, "count(//testcase[failure])", "1");
	assert_xpath(doc, "string(//testcase[failure]/@name)", "only-4-17");
	assert_xpath(doc, "string(//testcase[failure]/@classname)", "xen-4.20");
	assert_xpath(doc, "string(/testsuites/testsuite[2]/@failures)", "1");
	assert_xpath(doc, "string(/testsuites/testsuite[1]/@failures)", "0");
	xmlFreeDoc(doc);
	mx_view_free(&v);

	/* A column that never booted: bring-up and every test are failures. */
	view_make(&v, 8, true);
	cr_assert_eq(mx_junit_write(&v, path, &e), 0, "%s", e.msg);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	cr_assert_not_null(doc);
	assert_xpath(doc, "count(/testsuites/testsuite[2]/testcase[failure])", "4");
	assert_xpath(doc, "count(/testsuites/testsuite[1]/testcase[failure])", "0");
	assert_xpath(doc, "string(/testsuites/testsuite[2]/testcase[1]/failure/@message)",
		     "the lab did not come up");
	xmlFreeDoc(doc);
	mx_view_free(&v);
	unlink(path);
}

Test(matrix, compare)
{
	struct mx_view a, b;
	struct buf out = { 0 };

	view_make(&a, 7, false);
	view_make(&b, 8, true);
	/* 4.20's bring-up is new; its only-4-17 no longer ran. */
	cr_assert_eq(mx_compare_render(&a, &b, &out), 1, "%s", out.data);
	cr_assert(strstr(out.data, "1 new failure(s), 0 fixed"), "%s", out.data);
	cr_assert(strstr(out.data, "new failures:\n  xen-4.20     bring-up"), "%s", out.data);
	buf_free(&out);
	cr_assert_eq(mx_compare_render(&b, &a, &out), 1, "%s", out.data);
	cr_assert(strstr(out.data, "fixed:\n  xen-4.20     bring-up"), "%s", out.data);
	cr_assert(strstr(out.data, "new failures:\n  xen-4.20     only-4-17"), "%s", out.data);
	buf_free(&out);
	mx_view_free(&a);
	mx_view_free(&b);
}

/* The store round trip: cells, runs and their test results become the view. */
Test(matrix, store_load)
{
	char dir[] = "/tmp/test-matrix-db-XXXXXX";
	_cleanup_free_ char *path = NULL;
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t mid, run1, c1, c2;
	struct mx_view v;
	struct db_matrix m = { .spec_path = "m.yaml", .spec_sha256 = "aa",
			       .tests = "[\"xl-info\",\"only-4-17\"]", .xlab_version = "0.1" };

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/xlab.db", dir);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_matrix_begin(db, &m, &mid, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "m-x4-17", "up", "aa", &run1, &e), 0);
	{
		struct db_test_result t1 = { run1, "xl-info", "host", "m1", NULL, true, 1200 };
		struct db_test_result t2 = { run1, "only-4-17", "host", "m1", "exit 1", false, 900 };

		cr_assert_eq(db_test_result_add(db, &t1, &e), 0, "%s", e.msg);
		cr_assert_eq(db_test_result_add(db, &t2, &e), 0, "%s", e.msg);
	}
	{
		struct db_matrix_cell a = { .matrix_id = mid, .xen = "4.17", .lab = "m-x4-17",
					    .image = "xen-4.17", .status = "running" };
		struct db_matrix_cell b = { .matrix_id = mid, .xen = "4.20", .lab = "m-x4-20",
					    .image = "xen-4.20", .status = "running" };

		cr_assert_eq(db_matrix_cell_add(db, &a, &c1, &e), 0, "%s", e.msg);
		cr_assert_eq(db_matrix_cell_add(db, &b, &c2, &e), 0, "%s", e.msg);
		a.id = c1;
		a.run_id = run1;
		a.bringup_ms = 70000;
		a.image_sha256 = "bb";
		a.xen_version = "4.17.5";
		a.kernel_version = "6.1.0-50-amd64";
		a.status = "failed";
		cr_assert_eq(db_matrix_cell_update(db, &a, &e), 0, "%s", e.msg);
		b.id = c2;
		b.status = "bringup-failed";
		b.message = "did not boot";
		cr_assert_eq(db_matrix_cell_update(db, &b, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(db_matrix_end(db, mid, "failed", &e), 0);
	cr_assert_eq(mx_view_load(db, mid, &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v.n_rows, 2);
	cr_assert_str_eq(v.rows[0], "xl-info");
	cr_assert_eq(v.n_cols, 2);
	cr_assert(v.cols[0].up);
	cr_assert_eq(v.cols[0].run_id, run1);
	cr_assert_str_eq(v.cols[0].kernel_version, "6.1.0-50-amd64");
	cr_assert_eq(v.cols[0].cells[0].state, MX_PASS);
	cr_assert_eq(v.cols[0].cells[0].ms, 1200);
	cr_assert_eq(v.cols[0].cells[1].state, MX_FAIL);
	cr_assert_str_eq(v.cols[0].cells[1].output, "exit 1");
	cr_assert_not(v.cols[1].up);
	cr_assert_eq(v.cols[1].cells[0].state, MX_NOT_RUN);
	cr_assert_str_eq(v.cols[1].message, "did not boot");
	cr_assert_str_eq(v.status, "failed");
	mx_view_free(&v);
	cr_assert_eq(mx_view_load(db, mid + 1, &v, &e), -1);
	cr_assert(strstr(e.msg, "no matrix"), "%s", e.msg);
	db_close(db);
	{
		struct xerr ignore = { 0 };

		rm_rf(dir, &ignore);
	}
}

/* The cell records the dom0 kernel the agent's facts report from xl info. */
Test(matrix, facts_kernel_version)
{
	static const char info[] = "release                : 6.12.48+deb13-amd64\n"
				   "xen_major              : 4\nxen_minor              : 20\n"
				   "xen_extra              : .1\ntotal_memory : 1500\n"
				   "free_memory : 10\nnr_cpus : 1\n";
	struct json_object *o = NULL, *x;
	struct xerr e = { 0 };

	cr_assert_eq(xl_info_parse(info, &o, &e), 0, "%s", e.msg);
	cr_assert(json_object_object_get_ex(o, "kernel_version", &x));
	cr_assert_str_eq(json_object_get_string(x), "6.12.48+deb13-amd64");
	cr_assert(json_object_object_get_ex(o, "xen_version", &x));
	cr_assert_str_eq(json_object_get_string(x), "4.20.1");
	json_object_put(o);
}
