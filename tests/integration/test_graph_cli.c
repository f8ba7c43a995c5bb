/* `xlab graph` through the real binary: a spec file drawn as SVG by
 * Graphviz's dot (which must be installed: `apt-get install graphviz`), a
 * lab drawn from a scratch store's rows (a guest made by hand, a guest that
 * migrated, an image recorded with hostile text), and the refusals. */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "clirun.h"
#include "db.h"
#include "sha256.h"
#include "util.h"

static char home[] = "/tmp/xlab-graph-XXXXXX";
static char *home_env, *spec_path;

/* The store's lab: two hosts sharing a VG, a guest that can move between
 * them and an experiment that moves it. */
static const char spec_text[] =
	"lab: mig\nxen: \"4.17\"\nnetwork: {subnet: 10.87.0.0/24}\n"
	"storage: {vg: xlab, shared: {vg: shared, size: 1G}}\n"
	"hosts: [{name: h1}, {name: h2}]\n"
	"guests: [{name: mig1, host: h1, storage: shared}, {name: web1, host: h1}]\n"
	"experiments: [{name: pingpong, migrate: {guest: mig1, from: h1, to: h2}, rounds: 3}]\n";

#define HOSTILE_IMAGE "mine\"<b>&amp;\\N}{"

static void store_rows(void)
{
	struct db_host hosts[] = {
		{ .lab = "mig", .name = "h1", .ip = "10.87.0.10", .state = "up",
		  .mac = "52:54:00:00:00:01", .image = "xen-4.17" },
		{ .lab = "mig", .name = "h2", .ip = "10.87.0.11", .state = "up",
		  .mac = "52:54:00:00:00:02", .image = HOSTILE_IMAGE },
	};
	/* mig1 was planned on h1 and has migrated to h2; web7 was made by hand. */
	struct db_guest guests[] = {
		{ .lab = "mig", .host = "h2", .name = "mig1", .ip = "10.87.0.50", .state = "up",
		  .made_by = "spec", .mac = "52:54:00:00:00:03" },
		{ .lab = "mig", .host = "h1", .name = "web1", .ip = "10.87.0.51", .state = "up",
		  .made_by = "spec", .mac = "52:54:00:00:00:04" },
		{ .lab = "mig", .host = "h1", .name = "web7", .ip = "10.87.0.77", .state = "up",
		  .made_by = "hand", .mac = "52:54:00:00:00:05" },
	};
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	char sha[SHA256_HEX_LEN + 1];
	struct db *db = NULL;
	struct xerr e = { 0 };

	sha256_hex(spec_text, strlen(spec_text), sha);
	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "mig", spec_path, sha, "10.87.0.0/24", "up", &e), 0, "%s",
		     e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++)
		cr_assert_eq(db_host_upsert(db, &hosts[i], &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(guests); i++)
		cr_assert_eq(db_guest_upsert(db, &guests[i], &e), 0, "%s", e.msg);
	db_close(db);
}

static void setup(void)
{
	struct xerr e = { 0 };

	cr_assert(mkdtemp(home));
	spec_path = xasprintf("%s/mig.yaml", home);
	cr_assert_eq(file_write_atomic(spec_path, spec_text, strlen(spec_text), 0644, &e), 0);
	home_env = xasprintf("XLAB_HOME=%s", home);
	store_rows();
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(home_env);
	free(spec_path);
}

#define xlab(out, err, ...) cli_run((char *[]){ home_env, NULL }, out, err, __VA_ARGS__)

TestSuite(graph_cli, .init = setup, .fini = teardown);

/* The text of every <text> element of an SVG file, one per line, after
 * checking the file is well-formed XML with an <svg> root. */
static char *svg_texts(const char *path)
{
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr r;
	struct buf b = { 0 };

	cr_assert_not_null(doc, "%s is not well-formed XML", path);
	cr_assert_str_eq((const char *)xmlDocGetRootElement(doc)->name, "svg");
	ctx = xmlXPathNewContext(doc);
	r = xmlXPathEvalExpression(BAD_CAST "//*[local-name()='text']", ctx);
	cr_assert(r && r->nodesetval && r->nodesetval->nodeNr > 0, "no <text> in %s", path);
	buf_puts(&b, "\n");
	for (int i = 0; i < r->nodesetval->nodeNr; i++) {
		xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[i]);

		buf_printf(&b, "%s\n", (const char *)t);
		xmlFree(t);
	}
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return buf_steal(&b);
}

Test(graph_cli, spec_file_as_svg)
{
	_cleanup_free_ char *spec = xasprintf("%s/tests/e2e/data/migrate.yaml",
					      getenv("XLAB_SOURCE_DIR"));
	_cleanup_free_ char *svg = xasprintf("%s/x.svg", home), *svg2 = xasprintf("%s/y.svg", home);
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL, *texts = NULL;
	_cleanup_free_ char *texts2 = NULL;

	cr_assert_eq(xlab(&out, &err, "graph", spec, "--format", "svg", "-o", svg, NULL), 0, "%s",
		     err);
	cr_expect_str_eq(out, "");
	texts = svg_texts(svg);
	for (const char *const *n = (const char *const[]){ "\nhost h1\n", "\nhost h2\n",
							   "\nmig1\n", "\npvh1\n", NULL };
	     *n; n++)
		cr_expect(strstr(texts, *n), "no <text> %s in:%s", *n, texts);
	cr_expect(strstr(texts, "\npingpong: mig1, 3 rounds\n"), "%s", texts);
	cr_expect(strstr(texts, "\nVG shared, 1G\n"), "%s", texts);
	/* An .svg output is drawn as SVG without --format. */
	cr_assert_eq(xlab(&o2, &e2, "graph", spec, "-o", svg2, NULL), 0, "%s", e2);
	texts2 = svg_texts(svg2);
	cr_expect_str_eq(texts2, texts);
}

Test(graph_cli, spec_file_as_dot_and_mermaid_on_stdout)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL;

	cr_assert_eq(xlab(&out, &err, "graph", spec_path, NULL), 0, "%s", err);
	cr_expect(!strncmp(out, "digraph \"mig\" {\n", 16), "%s", out);
	/* From the spec: mig1 on h1, the one it names. */
	cr_expect(strstr(out, "\t\t\tlabel=\"host h1\";\n\t\t\t\"host:h1\" [label=\"h1 (dom0)\\n"
			      "10.87.0.10\\nimage xen-4.17\\nVG xlab\", shape=\"box3d\"];\n"
			      "\t\t\t\"guest:mig1\""),
		  "%s", out);
	cr_assert_eq(xlab(&o2, &e2, "graph", spec_path, "--format", "mermaid", NULL), 0, "%s", e2);
	cr_expect(!strncmp(o2, "flowchart TB\n", 13), "%s", o2);
	cr_expect(strstr(o2, "  h0 -.->|\"pingpong: mig1, 3 rounds\"| h1\n"), "%s", o2);
}

/* A lab as the store has it: mig1 on h2 where it migrated, web7 made by
 * hand on h1 at its own address, h2's image as recorded. */
Test(graph_cli, lab_from_the_store)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL;

	cr_assert_eq(xlab(&out, &err, "graph", "mig", NULL), 0, "%s", err);
	cr_expect_str_eq(err, "");
	cr_expect(strstr(out, "\t\tsubgraph \"cluster_host_h2\" {\n\t\t\tlabel=\"host h2\";\n"
			      "\t\t\t\"host:h2\" [label=\"h2 (dom0)\\n10.87.0.11\\nimage "
			      "mine\\\"<b>&amp;amp;\\\\N}{\\nVG xlab\", shape=\"box3d\"];\n"
			      "\t\t\t\"guest:mig1\" [label=\"mig1\\npv, 10.87.0.50\\nLV on VG "
			      "shared\""),
		  "%s", out);
	cr_expect(strstr(out, "\t\t\t\"guest:web7\" [label=\"web7\\ntype not recorded, "
			      "10.87.0.77\\nmade by hand\", shape=\"box\", "
			      "style=\"rounded,dashed,filled\""),
		  "%s", out);
	cr_expect(strstr(out, "label=\"lab mig\\nimages per host\""), "%s", out);
	cr_assert_eq(xlab(&o2, &e2, "graph", "mig", "--format", "mermaid", NULL), 0, "%s", e2);
	cr_expect(strstr(o2, "      subgraph hc1[\"host h2\"]\n        h1[\"h2 (dom0)<br/>"
			     "10.87.0.11<br/>image mine#quot;#lt;b#gt;#amp;amp;\\N}{<br/>VG "
			     "xlab\"]\n        g0(\"mig1<br/>"),
		  "%s", o2);
	cr_expect(strstr(o2, "  class g2 hand\n"), "%s", o2);
}

/* The recorded image's quotes, tags and backslash reach the picture as
 * text, through dot, in a well-formed SVG. */
Test(graph_cli, lab_as_svg_with_hostile_text)
{
	_cleanup_free_ char *svg = xasprintf("%s/lab.svg", home);
	_cleanup_free_ char *out = NULL, *err = NULL, *texts = NULL;

	cr_assert_eq(xlab(&out, &err, "graph", "mig", "-o", svg, NULL), 0, "%s", err);
	texts = svg_texts(svg);
	cr_expect(strstr(texts, "\nimage " HOSTILE_IMAGE "\n"), "%s", texts);
	cr_expect(strstr(texts, "\nweb7\n") && strstr(texts, "\nmade by hand\n"), "%s", texts);
}

Test(graph_cli, refusals)
{
	static const char bad[] = "lab: bad\nxen: \"4.17\"\nhosts: [{name: h1, memry: 1G}]\n";
	_cleanup_free_ char *bad_path = xasprintf("%s/bad.yaml", home);
	_cleanup_free_ char *nodir = xasprintf("%s/no/such/dir/x.svg", home);
	char *o[5] = { 0 }, *e[5] = { 0 };
	struct xerr xe = { 0 };

	cr_assert_eq(file_write_atomic(bad_path, bad, strlen(bad), 0644, &xe), 0);
	cr_expect_eq(xlab(&o[0], &e[0], "graph", "mig", "--format", "png", NULL), 2);
	cr_expect(strstr(e[0], "--format takes dot, mermaid or svg, not 'png'"), "%s", e[0]);
	cr_expect_eq(xlab(&o[1], &e[1], "graph", "mgi", NULL), 1);
	cr_expect(strstr(e[1], "no lab named 'mgi'; labs: mig; did you mean 'mig'?"), "%s", e[1]);
	cr_expect_eq(xlab(&o[2], &e[2], "graph", bad_path, NULL), 2);
	cr_expect(strstr(e[2], "bad.yaml:3:20: unknown key 'memry'"), "%s", e[2]);
	cr_expect_eq(xlab(&o[3], &e[3], "graph", spec_path, "-o", nodir, NULL), 2);
	cr_expect(strstr(e[3], "no directory '"), "%s", e[3]);
	cr_expect(strstr(e[3], "/no/such/dir' to write it in"), "%s", e[3]);
	cr_expect_eq(xlab(&o[4], &e[4], "graph", NULL), 2);
	cr_expect(strstr(e[4], "expected one lab name or spec file"), "%s", e[4]);
	for (size_t i = 0; i < ARRAY_SIZE(o); i++) {
		cr_expect_str_eq(o[i], "", "case %zu wrote: %s", i, o[i]);
		free(o[i]);
		free(e[i]);
	}
}

/* Without Graphviz an SVG cannot be drawn: the error says which package. */
Test(graph_cli, svg_without_dot_names_the_package)
{
	_cleanup_free_ char *svg = xasprintf("%s/z.svg", home);
	_cleanup_free_ char *out = NULL, *err = NULL;

	cr_expect_eq(cli_run((char *[]){ home_env, "PATH=/nonexistent", NULL }, &out, &err,
			     "graph", spec_path, "-o", svg, NULL), 1);
	cr_expect(strstr(err, "apt-get install graphviz"), "%s", err);
	cr_expect_not(path_exists(svg));
}
