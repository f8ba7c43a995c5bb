/* `xlab guest` against a real store (a scratch XLAB_HOME) holding a lab that
 * is recorded as up: what can be checked without booting anything (dry run,
 * list, refusals), through the real xlab binary. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clirun.h"
#include "db.h"
#include "util.h"

static char home[] = "/tmp/xlab-guest-cli-XXXXXX";
static char *spec_path, *home_env;

static const char *const spec_text =
	"lab: hands\nxen: \"4.17\"\nnetwork: {subnet: 10.84.0.0/24}\n"
	"hosts: [{name: h1, memory: 1536M, dom0_mem: 768M, data_disk: 2G}]\n"
	"guests: [{name: g1, host: h1}]\n";

static void setup(void)
{
	struct db *db = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *dbp = NULL;
	struct db_host h = { .lab = "hands", .name = "h1", .ip = "10.84.0.10", .state = "up",
			     .mac = "02:00:00:00:00:01" };
	struct db_guest g1 = { .lab = "hands", .host = "h1", .name = "g1", .ip = "10.84.0.50",
			       .state = "up", .made_by = "spec", .mac = "02:00:00:00:00:02" };
	struct db_guest hand = { .lab = "hands", .host = "h1", .name = "old", .ip = "10.84.0.51",
				 .state = "up", .made_by = "hand", .mac = "02:00:00:00:00:03" };

	cr_assert(mkdtemp(home));
	spec_path = xasprintf("%s/hands.yaml", home);
	cr_assert_eq(file_write_atomic(spec_path, spec_text, strlen(spec_text), 0644, &e), 0);
	dbp = xasprintf("%s/xlab.db", home);
	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "hands", spec_path, "x", "10.84.0.0/24", "up", &e), 0,
		     "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g1, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &hand, &e), 0, "%s", e.msg);
	db_close(db);
	home_env = xasprintf("XLAB_HOME=%s", home);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(spec_path);
	free(home_env);
}

#define xlab(out, err, ...) cli_run((char *[]){ home_env, NULL }, out, err, __VA_ARGS__)

TestSuite(guest_cli, .init = setup, .fini = teardown);

Test(guest_cli, dry_run_plans_around_the_lab)
{
	_cleanup_free_ char *out = NULL, *err = NULL;
	int st = xlab(&out, &err, "guest", "create", "hands", "web", "--host", "h1", "memory=96M",
		      "swap=32M", "xl.on_crash=preserve", "--dry-run", NULL);

	cr_assert_eq(st, 0, "%s", err);
	cr_expect(strstr(out, "# guest web: /dev/xlab/web, mac "), "%s", out);
	cr_expect(strstr(out, "ip 10.84.0.52\n"), "%s", out);
	cr_expect(strstr(out, "#   lvcreate -n web -L 268435456b xlab\n"), "%s", out);
	cr_expect(strstr(out, "#   mkswap /dev/xlab/web-swap\n"), "%s", out);
	cr_expect(strstr(out, "memory = 96\n"), "%s", out);
	cr_expect(strstr(out, "xlab.ip=10.84.0.52/24 xlab.gw=10.84.0.1"), "%s", out);
	cr_expect(strstr(out, "on_crash = \"preserve\"\n"), "%s", out);
}

Test(guest_cli, refusals)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL, *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL;

	cr_expect_eq(xlab(&o1, &e1, "guest", "create", "hands", "web", "--host", "h1",
			  "vcpus=99", "--dry-run", NULL), 2);
	cr_expect(strstr(e1, "argument 'vcpus=99': 'vcpus' must be between 1 and 64, not 99"),
		  "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "guest", "create", "hands", "g1", "--host", "h1", "--dry-run",
			  NULL), 2);
	cr_expect(strstr(e2, "lab 'hands' already has a guest named 'g1'"), "%s", e2);
	cr_expect_eq(xlab(&o3, &e3, "guest", "create", "hands", "web", "--host", "h1",
			  "ip=10.84.0.51", "--dry-run", NULL), 2);
	cr_expect(strstr(e3, "ip 10.84.0.51 of guest 'web' is already guest 'old''s"), "%s", e3);
	cr_expect_eq(xlab(&o4, &e4, "guest", "create", "hands", "web", "--host", "h9", "--dry-run",
			  NULL), 2);
	cr_expect(strstr(e4, "lab 'hands' has no host named 'h9'"), "%s", e4);
	cr_expect_eq(xlab(&o5, &e5, "guest", "rm", "hands", "g1", NULL), 2);
	cr_expect(strstr(e5, "guest 'g1' comes from the spec of lab 'hands'"), "%s", e5);
}

Test(guest_cli, list_shows_who_made_each)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *jout = NULL, *jerr = NULL;

	cr_assert_eq(xlab(&out, &err, "guest", "list", "hands", NULL), 0, "%s", err);
	cr_expect(strstr(out, "g1    h1    10.84.0.50  up     spec\n"), "%s", out);
	cr_expect(strstr(out, "old   h1    10.84.0.51  up     hand\n"), "%s", out);
	cr_assert_eq(xlab(&jout, &jerr, "guest", "list", "hands", "--json", NULL), 0, "%s", jerr);
	cr_expect(strstr(jout, "\"made_by\":\"hand\""), "%s", jout);
}

static char *xlcfg_path(const char *name)
{
	return xasprintf("%s/tests/data/xlcfg/%s", getenv("XLAB_SOURCE_DIR") ?: ".", name);
}

/* --from-xl: the file's disks, vif and on_crash become the plan's, with
 * KEY=VALUE over them; a dry run makes nothing. */
Test(guest_cli, from_xl_dry_run)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *lout = NULL, *lerr = NULL;
	_cleanup_free_ char *cfg = xlcfg_path("phy-vif.cfg");
	int st = xlab(&out, &err, "guest", "create", "hands", "web", "--host", "h1", "--from-xl",
		      cfg, "disk=1G", "xl.on_crash=preserve", "--dry-run", NULL);

	cr_assert_eq(st, 0, "%s", err);
	cr_expect(strstr(out, "# guest web: /dev/xlab/web, mac 42:83:a1:29:66:8e, "
			      "ip 10.84.0.77\n"), "%s", out);
	cr_expect(strstr(out, "#   lvcreate -n web -L 1073741824b xlab\n"), "%s", out);
	cr_expect(strstr(out, "#   lvcreate -n web-swap -L 67108864b xlab\n"), "%s", out);
	cr_expect(strstr(out, "#   mkswap /dev/xlab/web-swap\n"), "%s", out);
	cr_expect(strstr(out, "#   xl create /etc/xen/xlab/web.cfg\n"), "%s", out);
	cr_expect(strstr(out, "memory = 128\n"), "%s", out);
	cr_expect(strstr(out, "kernel = \"/var/lib/xlab/guest/vmlinuz\"\n"), "%s", out);
	cr_expect(strstr(out, "disk = [ \"format=raw,vdev=xvda,access=w,"
			      "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/web\", "
			      "\"format=raw,vdev=xvdb,access=w,"
			      "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/web-swap\" ]\n"),
		  "%s", out);
	cr_expect(strstr(out, "vif = [ \"mac=42:83:a1:29:66:8e,bridge=xenbr0,"
			      "script=/var/lib/xlab/hotplug/vif\" ]\n"), "%s", out);
	cr_expect(strstr(out, "xlab.ip=10.84.0.77/24 xlab.gw=10.84.0.1"), "%s", out);
	cr_expect(strstr(out, "on_crash = \"preserve\"\n"), "%s", out);
	cr_assert_eq(xlab(&lout, &lerr, "guest", "list", "hands", NULL), 0, "%s", lerr);
	cr_expect_null(strstr(lout, "\nweb "), "%s", lout);
}

Test(guest_cli, from_xl_refusals)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
	_cleanup_free_ char *pci = xlcfg_path("pci.cfg"), *crash = xlcfg_path("on-crash.cfg");
	_cleanup_free_ char *want = xasprintf("%s:3: key 'pci' is not supported by xlab guests",
					      pci);

	cr_expect_eq(xlab(&o1, &e1, "guest", "create", "hands", "web", "--host", "h1",
			  "--from-xl", pci, "--dry-run", NULL), 2);
	cr_expect(strstr(e1, want), "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "guest", "create", "hands", "web", "--host", "h1",
			  "--from-xl", crash, "xl.on_crash=restart", "xl.on_crash=destroy",
			  "--dry-run", NULL), 2);
	cr_expect(strstr(e2, "xl key 'on_crash' is given twice"), "%s", e2);
	cr_expect_eq(xlab(&o3, &e3, "guest", "create", "hands", "web", "--host", "h1",
			  "--from-xl", "/nonexistent/web.cfg", "--dry-run", NULL), 1);
	cr_expect(strstr(e3, "/nonexistent/web.cfg"), "%s", e3);
}
