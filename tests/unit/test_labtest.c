/* What a lab accounts for on a host, which its leak-check tells the agent:
 * from the spec (which guests are on shared storage) and the store's guests
 * (where each runs now, and those made by hand). */
#include <criterion/criterion.h>
#include <string.h>

#include "labtest.h"
#include "util.h"

static const char yaml[] =
	"lab: t\nxen: \"4.17\"\nhosts: [{name: h1}, {name: h2}]\n"
	"storage: {vg: xlab, shared: {vg: shared, size: 4G}}\n"
	"guests:\n"
	"  - {name: web, host: h1}\n"
	"  - {name: db, host: h2}\n"
	"  - {name: mig, host: h1, storage: shared}\n"
	"tests: [{name: leaks, host: h1, action: leak-check}]\n";

static char *joined(char **v)
{
	struct buf b = { 0 };

	for (size_t i = 0; v[i]; i++)
		buf_printf(&b, "%s%s", i ? " " : "", v[i]);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void expect(const struct spec *s, const struct db_guest *g, size_t n, const char *host,
		   const char *domains, const char *vgs, const char *lvs)
{
	struct labtest_accounted a;
	_cleanup_free_ char *d = NULL, *v = NULL, *l = NULL;

	labtest_accounted_for(s, g, n, host, &a);
	d = joined(a.domains);
	v = joined(a.vgs);
	l = joined(a.lvs);
	cr_assert_str_eq(d, domains, "%s: domains", host);
	cr_assert_str_eq(v, vgs, "%s: VGs", host);
	cr_assert_str_eq(l, lvs, "%s: LVs", host);
	labtest_accounted_free(&a);
}

/* Each host has its own guests' domains and LVs in the lab's VG; the shared
 * guest's LVs are on every host's list (every host sees the shared VG), its
 * domain only where the store says it runs: after a migration, on h2. A
 * guest made by hand counts like the spec's, on the hosts' VG. */
Test(labtest, accounted_for_by_host)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	struct db_guest g[] = {
		{ .lab = "t", .host = "h1", .name = "web", .state = "up", .made_by = "spec" },
		{ .lab = "t", .host = "h2", .name = "db", .state = "stopped", .made_by = "spec" },
		{ .lab = "t", .host = "h2", .name = "mig", .state = "up", .made_by = "spec" },
		{ .lab = "t", .host = "h1", .name = "byhand", .state = "up", .made_by = "hand" },
	};

	cr_assert_eq(spec_load_buffer("t.yaml", yaml, strlen(yaml), &s, &d, &e), 0, "%s", e.msg);
	expect(s, g, ARRAY_SIZE(g), "h1", "web byhand", "xlab shared",
	       "xlab/web xlab/web-swap shared/mig shared/mig-swap xlab/byhand xlab/byhand-swap");
	expect(s, g, ARRAY_SIZE(g), "h2", "db mig", "xlab shared",
	       "xlab/db xlab/db-swap shared/mig shared/mig-swap");
	expect(s, g, 0, "h1", "", "xlab shared", "");
	spec_free(s);
	spec_diags_free(&d);
}
