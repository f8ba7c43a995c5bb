/* A store of its own, through the real xlab binary and a real sqlite file,
 * libvirt being test:///default (each process sees a fresh one): what a lab
 * remade under an old name sees, and the store id in every libvirt name. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clirun.h"
#include "db.h"
#include "util.h"

static char home[] = "/tmp/xlab-store-cli-XXXXXX";
static char *home_env;
static char *const conn_env = "XLAB_CONNECT=test:///default";

static void setup(void)
{
	cr_assert(mkdtemp(home));
	home_env = xasprintf("XLAB_HOME=%s", home);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(home_env);
}

#define xlab(out, err, ...) cli_run((char *[]){ home_env, conn_env, NULL }, out, err, __VA_ARGS__)

TestSuite(store_cli, .init = setup, .fini = teardown);

/* What `up` records of a lab's hosts (the bring-up itself needs a real
 * libvirt and Xen; the store logic does not). */
static void record_lab(const char *lab, const char *const *hosts, const char *subnet)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	struct db *db = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_claim(db, lab, "spec", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, lab, "/nowhere.yaml", "x", subnet, "up", &e), 0, "%s",
		     e.msg);
	for (const char *const *h = hosts; *h; h++) {
		struct db_host row = { .lab = lab, .name = *h, .ip = "127.0.0.1", .state = "up",
				       .mac = "02:00:00:00:00:01" };

		cr_assert_eq(db_host_upsert(db, &row, &e), 0, "%s", e.msg);
	}
	db_close(db);
}

/* Issue 24: lab `mig` (hosts src, dst) taken down, then a lab `mig` from
 * another spec (hosts h1, h2): status and list see h1 and h2 only. On the
 * old code `down` kept src and dst as rows `removed` and `list` asked them. */
Test(store_cli, a_lab_remade_under_its_name_sees_only_its_own_hosts)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL;

	record_lab("mig", (const char *const[]){ "src", "dst", NULL }, "10.94.2.0/24");
	cr_assert_eq(xlab(&o1, &e1, "down", "mig", NULL), 0, "%s%s", o1, e1);
	record_lab("mig", (const char *const[]){ "h1", "h2", NULL }, "10.85.0.0/24");

	cr_assert_eq(xlab(&o2, &e2, "status", "mig", NULL), 0, "%s", e2);
	cr_expect(strstr(o2, "  h1 "), "%s", o2);
	cr_expect(strstr(o2, "  h2 "), "%s", o2);
	cr_expect_null(strstr(o2, "src"), "%s", o2);
	cr_expect_null(strstr(o2, "dst"), "%s", o2);

	/* No key of the new hosts exists either, so list fails, but about them. */
	xlab(&o3, &e3, "list", "mig", NULL);
	cr_expect(strstr(o3, "h1") || strstr(e3, "h1"), "%s%s", o3, e3);
	cr_expect_null(strstr(o3, "src"), "%s", o3);
	cr_expect_null(strstr(e3, "src"), "%s", e3);
	cr_expect_null(strstr(e3, "dst"), "%s", e3);
}

/* Issue 24 and 17.4: every libvirt name carries the store's id, made once
 * and kept; another store (another XLAB_HOME) names the same lab apart. */
Test(store_cli, libvirt_names_carry_the_store_id)
{
	_cleanup_free_ char *id = NULL, *idp = xasprintf("%s/store-id", home);
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL;
	_cleanup_free_ char *spec = xasprintf("%s/demo.yaml", home);
	_cleanup_free_ char *dom = NULL, *net = NULL;
	const char *text = "lab: demo\nxen: \"4.17\"\nnetwork: {subnet: 10.80.0.0/24}\n"
			   "hosts: [{name: h1}]\n";
	char other[] = "/tmp/xlab-store-cli-other-XXXXXX";
	_cleanup_free_ char *other_env = NULL;
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_write_atomic(spec, text, strlen(text), 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(xlab(&o1, &e1, "plan", spec, NULL), 0, "%s", e1);
	cr_assert_eq(file_read_all(idp, 0, &id, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(len, 37, "%s", id);
	id[8] = '\0';
	dom = xasprintf("<name>xlab-%s.demo.h1</name>", id);
	net = xasprintf("<name>xlab-%s.demo</name>", id);
	cr_expect(strstr(o1, dom), "%s", o1);
	cr_expect(strstr(o1, net), "%s", o1);
	/* The same store: the same names. */
	cr_assert_eq(xlab(&o2, &e2, "plan", spec, NULL), 0, "%s", e2);
	cr_expect_str_eq(o1, o2);
	/* Another store: other names for the same lab. */
	cr_assert(mkdtemp(other));
	other_env = xasprintf("XLAB_HOME=%s", other);
	cr_assert_eq(cli_run((char *[]){ other_env, conn_env, NULL }, &o3, &e3, "plan", spec, NULL),
		     0, "%s", e3);
	cr_expect_null(strstr(o3, dom), "%s", o3);
	cr_expect(strstr(o3, ".demo.h1</name>"), "%s", o3);
	rm_rf(other, &e);
}

static void record_guest(const char *lab, const char *host, const char *name,
			 const char *made_by)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	struct db_guest g = { .lab = lab, .host = host, .name = name, .mac = "02:00:00:00:01:01",
			      .ip = "127.0.0.2", .state = "up", .made_by = made_by };
	struct db *db = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	db_close(db);
}

static void set_guest_state(const char *lab, const char *name, const char *state)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	struct db_guest *g = NULL;
	struct db *db = NULL;
	struct xerr e = { 0 };
	size_t n = 0;

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guests_list(db, lab, &g, &n, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].name, name) == 0) {
			struct db_guest row = g[i];

			row.state = state;
			cr_assert_eq(db_guest_upsert(db, &row, &e), 0, "%s", e.msg);
		}
	db_guests_free(g, n);
	db_close(db);
}

/* Issue 16: stop and start refuse a lab the store never had, before
 * anything is locked or recorded (no run of it appears). */
Test(store_cli, stop_and_start_refuse_an_unknown_lab)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL;
	static const char *const hosts[] = { "h1", NULL };

	record_lab("demo", hosts, "10.70.0.0/24");
	cr_assert_eq(xlab(&o1, &e1, "stop", "demi", NULL), 1, "%s%s", o1, e1);
	cr_assert(strstr(e1, "no lab named 'demi'; labs: demo; did you mean 'demo'?"), "%s", e1);
	cr_assert_eq(xlab(&o2, &e2, "start", "nolab", NULL), 1, "%s%s", o2, e2);
	cr_assert(strstr(e2, "no lab named 'nolab'"), "%s", e2);
	cr_assert_eq(xlab(&o3, &e3, "runs", NULL), 0, "%s%s", o3, e3);
	cr_assert_null(strstr(o3, "demi"), "%s", o3);
	cr_assert_null(strstr(o3, "nolab"), "%s", o3);
}

/* Issue 16: `stop` parks a lab in the store: the lab, its hosts and its
 * guests (hand-made ones too) become "stopped", rows kept, and a run
 * "stop" is recorded; `up` of a stopped lab points at `start`; `start`
 * refuses to invent a network libvirt no longer has, leaving the lab
 * stopped. (test:///default has none of the lab's domains: the stop
 * skips them, as for a lab whose domains are gone.) */
Test(store_cli, stop_parks_the_lab_and_up_points_at_start)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL, *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL,
			    *o6 = NULL, *e6 = NULL, *spec = NULL;
	static const char *const hosts[] = { "h1", "h2", NULL };

	record_lab("min", hosts, "10.71.0.0/24");
	record_guest("min", "h1", "web", "hand");
	record_guest("min", "h1", "tx", "hand");
	set_guest_state("min", "tx", "failed");
	cr_assert_eq(xlab(&o1, &e1, "stop", "min", NULL), 0, "%s%s", o1, e1);
	cr_assert(strstr(e1, "lab 'min' is stopped"), "%s", e1);

	cr_assert_eq(xlab(&o2, &e2, "status", "min", "--json", NULL), 0, "%s%s", o2, e2);
	cr_assert(strstr(o2, "\"state\":\"stopped\""), "%s", o2);
	cr_assert_null(strstr(o2, "\"state\":\"up\""), "nothing of it is up: %s", o2);
	cr_assert(strstr(o2, "\"name\":\"h2\""), "the rows are kept: %s", o2);
	cr_assert(strstr(o2, "\"name\":\"web\""), "the hand-made guest is kept: %s", o2);
	/* A guest whose create failed has nothing to park or bring back (e2e:
	 * start tried one and failed on its missing config). */
	cr_assert(strstr(o2, "\"state\":\"failed\""), "%s", o2);
	cr_assert_eq(xlab(&o3, &e3, "report", "--last", "min", NULL), 0, "%s%s", o3, e3);
	cr_assert(strstr(o3, "stop min, ok"), "%s", o3);
	cr_assert(strstr(o3, "host.stop"), "%s", o3);

	spec = xasprintf("%s/tests/data/specs/valid/minimal.yaml", getenv("XLAB_SOURCE_DIR"));
	cr_assert_eq(xlab(&o4, &e4, "up", spec, NULL), 1, "%s%s", o4, e4);
	cr_assert(strstr(e4, "lab 'min' is stopped (`xlab stop`); `xlab start min`"),
		  "%s", e4);

	cr_assert_eq(xlab(&o5, &e5, "start", "min", NULL), 1, "%s%s", o5, e5);
	cr_assert(strstr(e5, "is gone from libvirt"), "%s", e5);
	cr_assert_eq(xlab(&o6, &e6, "status", "min", "--json", NULL), 0, "%s%s", o6, e6);
	cr_assert(strstr(o6, "\"state\":\"stopped\""), "%s", o6);
}
