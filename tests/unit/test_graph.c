/* `xlab graph`'s pictures: the quoting of free text in dot and mermaid, and
 * the whole text drawn for the reference spec, the migration lab (shared VG,
 * experiments) and a lab of mixed images and guest types, checked line by
 * line where it matters and against golden files as a whole. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

static const struct plan_env env = {
	.store_id = "5e1ec7ed-0000-4000-8000-000000000001",
	.state_dir = "/var/lib/xlab/labs/x",
	.accel = "qemu",
};

static const char mixed_spec[] =
	"lab: mixed\nxen: \"4.17\"\nnetwork: {subnet: 10.86.0.0/24}\n"
	"hosts:\n  - name: h1\n  - name: h2\n    xen: \"4.20\"\n"
	"guests:\n  - {name: p1, host: h1}\n  - {name: p2, host: h1, type: pvh}\n"
	"  - {name: p3, host: h2, type: hvm}\n";

/* Text in each format, for a spec file of the tree or spec text. */
struct drawn {
	char *dot, *mermaid;
};

static struct drawn draw(const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", getenv("XLAB_SOURCE_DIR"), rel);
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct plan *p = NULL;
	struct xerr e = { 0 };
	struct plan_env en = env;
	struct graph_lab g;
	struct drawn out;
	int rc = text ? spec_load_buffer(rel, text, strlen(text), &s, &d, &e)
		      : spec_load(path, &s, &d, &e);

	cr_assert_eq(rc, 0, "%s", e.msg);
	en.subnet = s->subnet; /* as `xlab plan` does: each spec names its own */
	cr_assert_eq(plan_build(s, &en, &p, &e), 0, "%s", e.msg);
	graph_lab_from_plan(&g, p);
	out = (struct drawn){ graph_dot(&g), graph_mermaid(&g) };
	graph_lab_free(&g);
	plan_free(p);
	spec_diags_free(&d);
	spec_free(s);
	return out;
}

static void drawn_free(struct drawn *d)
{
	free(d->dot);
	free(d->mermaid);
}

/* XLAB_UPDATE_GOLDEN=1 writes the file from what is drawn now. */
static void golden(const char *text, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/tests/data/graph/%s",
					      getenv("XLAB_SOURCE_DIR"), name);
	_cleanup_free_ char *want = NULL;
	struct xerr e = { 0 };
	size_t len;

	if (getenv("XLAB_UPDATE_GOLDEN"))
		cr_assert_eq(file_write_atomic(path, text, strlen(text), 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(path, 0, &want, &len, &e), 0, "%s", e.msg);
	cr_expect_str_eq(text, want, "%s differs:\n%s", name, text);
}

struct quote_case {
	const char *in, *out;
};

static void quotes_check(char *(*quote)(const char *), const struct quote_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *q = quote(c[i].in);

		cr_expect_str_eq(q, c[i].out, "case %zu", i);
	}
}

Test(graph, dot_quote_hostile_text)
{
	static const struct quote_case cases[] = {
		{ "h1", "\"h1\"" },
		{ "", "\"\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		/* A backslash stays one: no \N, \G or \L expands, no quote is escaped
		 * by a trailing one. */
		{ "a\\Nb\\", "\"a\\\\Nb\\\\\"" },
		{ "two\nlines", "\"two\\nlines\"" },
		{ "{x} <y> [z]; a -> b", "\"{x} <y> [z]; a -> b\"" },
		/* Graphviz would show "&amp;" as "&". */
		{ "a&amp;b & c", "\"a&amp;amp;b &amp; c\"" },
		{ "tab\there", "\"tab here\"" },
		{ "bell\a\x1b[31mred\x1b[0m", "\"bell?red\"" },
		{ "bad \xff utf8, good \xc3\xa9", "\"bad ? utf8, good \xc3\xa9\"" },
	};

	quotes_check(graph_dot_quote, cases, ARRAY_SIZE(cases));
}

Test(graph, mermaid_quote_hostile_text)
{
	static const struct quote_case cases[] = {
		{ "h1", "\"h1\"" },
		{ "say \"hi\"", "\"say #quot;hi#quot;\"" },
		/* Written as an entity, '#' cannot start one of the text's own. */
		{ "#quot; #35;", "\"#35;quot; #35;35;\"" },
		{ "<script>&amp;", "\"#lt;script#gt;#amp;amp;\"" },
		{ "`md`", "\"#96;md#96;\"" },
		/* No directive: mermaid reads %%{init: ...}%% anywhere in the text. */
		{ "%%{init: {'theme':'dark'}}%%", "\"#37;#37;{init: {'theme':'dark'}}#37;#37;\"" },
		{ "two\nlines", "\"two<br/>lines\"" },
		{ "{x} [y] (z) |p| a-->b; end", "\"{x} [y] (z) |p| a--#gt;b; end\"" },
		{ "back\\slash", "\"back\\slash\"" },
		{ "tab\tctl\x01", "\"tab ctl?\"" },
	};

	quotes_check(graph_mermaid_quote, cases, ARRAY_SIZE(cases));
}

Test(graph, reference_spec)
{
	struct drawn d = draw("examples/reference.yaml", NULL);

	cr_expect(strstr(d.dot, "\tsubgraph \"cluster_network\" {\n\t\tlabel=\"network "
				"xlab-5e1ec7ed.demo\\n10.80.0.0/24, bridge xlbr-"),
		  "%s", d.dot);
	cr_expect(strstr(d.dot, "\t\tsubgraph \"cluster_host_h2\" {\n\t\t\tlabel=\"host h2\";\n"
				"\t\t\t\"host:h2\" [label=\"h2 (dom0)\\n10.80.0.11\\nimage "
				"xen-4.17\\nVG xlab\", shape=\"box3d\"];\n"
				"\t\t\t\"guest:db1\" [label=\"db1\\npv, 10.80.0.60\", shape=\"box\", "
				"style=\"rounded,filled\", fillcolor=\"#dbeafe\"];\n\t\t}\n"),
		  "%s", d.dot);
	/* No shared disk, no experiments: nothing outside the network. */
	cr_expect_null(strstr(d.dot, "disk:shared"), "%s", d.dot);
	cr_expect_null(strstr(d.dot, "->"), "%s", d.dot);
	golden(d.dot, "reference.dot");
	golden(d.mermaid, "reference.mmd");
	drawn_free(&d);
}

/* Every host sees the shared disk; each experiment is a dashed path between
 * two dom0s, both ways for back_and_forth. */
Test(graph, migrate_spec_shared_vg_and_experiments)
{
	struct drawn d = draw("tests/e2e/data/migrate.yaml", NULL);

	cr_expect(strstr(d.dot, "\t\"disk:shared\" [label=\"shared disk\\nVG shared, 1G\", "
				"shape=\"cylinder\"];\n"
				"\t\"host:h1\" -> \"disk:shared\" [style=\"dotted\", dir=\"none\"];\n"
				"\t\"host:h2\" -> \"disk:shared\" [style=\"dotted\", dir=\"none\"];\n"),
		  "%s", d.dot);
	cr_expect(strstr(d.dot, "\t\"host:h1\" -> \"host:h2\" [label=\"pingpong: mig1, 3 rounds"
				"\\nback and forth\", style=\"dashed\", color=\"#b45309\", "
				"dir=\"both\"];\n"),
		  "%s", d.dot);
	cr_expect(strstr(d.dot, "\"guest:pvh1\" [label=\"pvh1\\npvh, 10.85.0.51\\nLV on VG "
				"shared\", shape=\"box\", style=\"rounded,filled\", "
				"fillcolor=\"#dcfce7\"];"),
		  "%s", d.dot);
	cr_expect(strstr(d.mermaid, "\n    disk[(\"shared disk<br/>VG shared, 1G\")]\n  end\n"
				    "  h0 -.- disk\n  h1 -.- disk\n"
				    "  h0 <-.->|\"pingpong: mig1, 3 rounds<br/>back and forth\"| h1\n"),
		  "%s", d.mermaid);
	golden(d.dot, "migrate.dot");
	golden(d.mermaid, "migrate.mmd");
	drawn_free(&d);
}

/* A host's own xen: shows on it, and the lab then has no one image. */
Test(graph, mixed_images_and_guest_types)
{
	struct drawn d = draw("mixed.yaml", mixed_spec);

	cr_expect(strstr(d.dot, "label=\"lab mixed\\nimages per host\""), "%s", d.dot);
	cr_expect(strstr(d.dot, "\"host:h1\" [label=\"h1 (dom0)\\n10.86.0.10\\nimage xen-4.17"),
		  "%s", d.dot);
	cr_expect(strstr(d.dot, "\"host:h2\" [label=\"h2 (dom0)\\n10.86.0.11\\nimage xen-4.20"),
		  "%s", d.dot);
	cr_expect(strstr(d.mermaid, "      subgraph hc1[\"host h2\"]\n"
				    "        h1[\"h2 (dom0)<br/>10.86.0.11<br/>image xen-4.20<br/>"
				    "VG xlab\"]\n"
				    "        g2(\"p3<br/>hvm, 10.86.0.52\")\n      end\n"),
		  "%s", d.mermaid);
	cr_expect(strstr(d.mermaid, "  class g0 pv\n  class g1 pvh\n  class g2 hvm\n"), "%s",
		  d.mermaid);
	golden(d.dot, "mixed.dot");
	golden(d.mermaid, "mixed.mmd");
	drawn_free(&d);
}

/* Store rows carry free text: every one is quoted, a guest made by hand is
 * dashed and has no type to show, a guest on a host the lab lacks is drawn
 * outside the hosts, a host's state that is not up is said, a path to a
 * host the lab lacks is not drawn. */
Test(graph, store_rows_drawn_safely)
{
	struct graph_host hosts[] = {
		{ .name = "h1", .ip = "10.9.0.10", .image = "x\"}; \"evil\" [label=\"\\N",
		  .state = "stopped" },
	};
	struct graph_guest guests[] = {
		{ .name = "g1", .host = "h1", .ip = "10.9.0.50", .type = "pv" },
		{ .name = "w2", .host = "h1", .ip = "10.9.0.51", .by_hand = true },
		{ .name = "lost", .host = "h9", .type = "pvh" },
	};
	struct graph_path paths[] = {
		{ .name = "gone", .guest = "g1", .from = "h1", .to = "h9", .rounds = 1 },
	};
	struct graph_lab g = {
		.lab = "l", .network = "n", .subnet = "10.9.0.0/24", .bridge = "b",
		.gateway = "10.9.0.1", .vg = "xlab", .hosts = hosts, .n_hosts = 1,
		.guests = guests, .n_guests = 3, .paths = paths, .n_paths = 1,
	};
	_cleanup_free_ char *dot = graph_dot(&g), *mm = graph_mermaid(&g);

	cr_expect(strstr(dot, "\"host:h1\" [label=\"h1 (dom0)\\n10.9.0.10\\nimage x\\\"}; "
			      "\\\"evil\\\" [label=\\\"\\\\N\\nVG xlab\\nstopped\", "
			      "shape=\"box3d\"];\n"),
		  "%s", dot);
	cr_expect(strstr(dot, "\"guest:w2\" [label=\"w2\\ntype not recorded, 10.9.0.51\\nmade "
			      "by hand\", shape=\"box\", style=\"rounded,dashed,filled\", "
			      "fillcolor=\"#f3f4f6\"];"),
		  "%s", dot);
	cr_expect(strstr(dot, "\t\t}\n\t\t\"guest:lost\" [label=\"lost\\npvh\\non host h9 (not in "
			      "the lab)\""),
		  "%s", dot);
	cr_expect(strstr(mm, "h0[\"h1 (dom0)<br/>10.9.0.10<br/>image x#quot;}; #quot;evil#quot; "
			     "[label=#quot;\\N<br/>VG xlab<br/>stopped\"]\n"),
		  "%s", mm);
	cr_expect(strstr(mm, "  class g0 pv\n  class g1 hand\n  class g2 pvh\n"), "%s", mm);
	cr_expect_null(strstr(dot, "host:h9"), "%s", dot);
	cr_expect_null(strstr(mm, "gone"), "%s", mm);
	cr_expect(strstr(mm, "      end\n      g2(\"lost<br/>pvh<br/>on host h9 (not in the "
			     "lab)\")\n    end\n"),
		  "%s", mm);
}
