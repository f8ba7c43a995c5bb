/* Migration experiments: the spec block, the shared disk in the plan, the
 * probe's gap computation on recorded timestamps, the statistics and the
 * rounds in the store. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_report.h"
#include "db.h"
#include "migstat.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

static char *src_path(const char *rel)
{
	const char *top = getenv("XLAB_SOURCE_DIR");

	return xasprintf("%s/%s", top ? top : ".", rel);
}

static struct spec *load_migrate(void)
{
	_cleanup_free_ char *path = src_path("tests/data/specs/valid/migrate.yaml");
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	struct spec *s = NULL;

	if (spec_load(path, &s, &d, &e) < 0) {
		spec_diags_print(&d, stderr);
		cr_assert_fail("migrate.yaml did not load: %s", e.msg);
	}
	spec_diags_free(&d);
	return s;
}

static int load_errors(const char *text, char **first)
{
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	struct spec *s = NULL;
	int n;

	if (spec_load_buffer("t.yaml", text, strlen(text), &s, &d, &e) == 0) {
		spec_free(s);
		*first = NULL;
		return 0;
	}
	n = (int)d.n;
	*first = xstrdup(e.msg);
	spec_diags_free(&d);
	return n;
}

Test(experiment_spec, values)
{
	struct spec *s = load_migrate();
	const struct spec_experiment *x = spec_find_experiment(s, "pingpong");

	cr_assert_str_eq(s->shared_vg, "shared");
	cr_assert_eq(s->shared_size, 1ull << 30);
	cr_assert(spec_find_guest(s, "mig1")->shared);
	cr_assert_not(spec_find_guest(s, "local1")->shared);
	cr_assert_not_null(x);
	cr_assert_str_eq(x->guest, "mig1");
	cr_assert_str_eq(x->from, "h1");
	cr_assert_str_eq(x->to, "h2");
	cr_assert_eq(x->rounds, 3);
	cr_assert(x->back_and_forth);
	cr_assert_eq(x->ping_ms, 20);
	cr_assert_eq(x->on_failure, SPEC_ON_FAILURE_CONTINUE);
	cr_assert_null(spec_find_experiment(s, "nope"));
	spec_free(s);
}

Test(experiment_spec, defaults)
{
	static const char text[] = "lab: t\nxen: \"4.17\"\n"
				   "storage: {shared: {vg: sh, size: 1G}}\n"
				   "defaults: {guest: {storage: shared}}\n"
				   "hosts: [{name: a}, {name: b}]\n"
				   "guests: [{name: g, host: a}]\n"
				   "experiments: [{name: e, migrate: {guest: g, from: a, to: b}}]\n";
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	struct spec *s = NULL;

	cr_assert_eq(spec_load_buffer("t.yaml", text, strlen(text), &s, &d, &e), 0, "%s", e.msg);
	cr_assert(s->guests[0].shared, "storage: shared is inherited from defaults.guest");
	cr_assert_eq(s->experiments[0].rounds, 1);
	cr_assert_eq(s->experiments[0].ping_ms, 20);
	cr_assert_not(s->experiments[0].back_and_forth);
	cr_assert_eq(s->experiments[0].on_failure, SPEC_ON_FAILURE_STOP);
	spec_free(s);
	spec_diags_free(&d);
}

Test(experiment_spec, probe_bounds)
{
	char *msg;
	const char *fmt = "lab: t\nxen: \"4.17\"\nstorage: {shared: {vg: sh, size: 1G}}\n"
			  "hosts: [{name: a}, {name: b}]\n"
			  "guests: [{name: g, host: a, storage: shared}]\n"
			  "experiments: [{name: e, migrate: {guest: g, from: a, to: b}, "
			  "probe: {ping_ms: %d}, rounds: %d}]\n";
	struct {
		int ping, rounds, errors;
	} cases[] = { { 5, 1, 0 }, { 1000, 1000, 0 }, { 4, 1, 1 }, { 1001, 1, 1 },
		      { 20, 1001, 1 }, { 4, 0, 2 } };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *text = xasprintf(fmt, cases[i].ping, cases[i].rounds);

		cr_assert_eq(load_errors(text, &msg), cases[i].errors, "ping %d rounds %d: %s",
			     cases[i].ping, cases[i].rounds, msg ? msg : "ok");
		free(msg);
	}
}

Test(experiment_plan, shared_disk)
{
	struct spec *s = load_migrate();
	struct plan_env env = { .store_id = "5e1ec7ed-0000-4000-8000-000000000001", .state_dir = "/var/lib/xlab/labs/mig",
				.accel = "qemu", .subnet = "10.85.0.0/24" };
	struct plan *p = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_assert_str_eq(p->shared_disk, "/var/lib/xlab/labs/mig/shared.img");
	for (size_t i = 0; i < p->n_hosts; i++) {
		const char *xml = p->hosts[i].domain_xml;

		cr_assert(strstr(xml, "<source file=\"/var/lib/xlab/labs/mig/shared.img\"/>"), "%s",
			  xml);
		cr_assert(strstr(xml, "<shareable/>"));
		cr_assert(strstr(xml, "cache=\"none\""));
		cr_assert(strstr(xml, "<serial>xlab-shared</serial>"));
	}
	cr_assert(strstr(p->hosts[0].storage_steps[2], "pvcreate <disk xlab-shared>"));
	cr_assert(strstr(p->hosts[1].storage_steps[2], "vgchange -ay shared"));
	cr_assert_str_eq(p->guests[0].lv, "/dev/shared/mig1");
	cr_assert_str_eq(p->guests[1].lv, "/dev/xlab/local1");
	cr_assert(strstr(p->guests[0].xl_cfg, "format=raw,vdev=xvda,access=w,"
					      "script=/var/lib/xlab/hotplug/block,target=/dev/shared/mig1"));
	cr_assert(strstr(p->guests[0].lvm_steps[0], " shared"));
	plan_free(p);
	spec_free(s);
}

Test(experiment_plan, no_shared_disk_without_block)
{
	static const char text[] = "lab: t\nxen: \"4.17\"\nhosts: [{name: a}]\n";
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	struct spec *s = NULL;
	struct plan_env env = { .store_id = "5e1ec7ed-0000-4000-8000-000000000001", .state_dir = "/x", .accel = "qemu",
				.subnet = "10.85.0.0/24" };
	struct plan *p = NULL;

	cr_assert_eq(spec_load_buffer("t.yaml", text, strlen(text), &s, &d, &e), 0);
	cr_assert_eq(plan_build(s, &env, &p, &e), 0);
	cr_assert_null(p->shared_disk);
	cr_assert_null(strstr(p->hosts[0].domain_xml, "shareable"));
	plan_free(p);
	spec_free(s);
}

/* Replies every 20 ms, a hole from 1000 to 4200: downtime 3.2 s. */
Test(migstat, gap_in_the_middle)
{
	int64_t t[400];
	size_t n = 0;

	for (int64_t v = 0; v <= 6000; v += 20)
		if (v <= 1000 || v >= 4200)
			t[n++] = v;
	cr_assert_eq(migstat_max_gap(t, n, 0, 6000), 3200);
}

Test(migstat, gap_edges_and_order)
{
	int64_t t[] = { 500, 100, 300, 200 };

	/* Unsorted input is fine; the start and the end count as edges. */
	cr_assert_eq(migstat_max_gap(t, 4, 100, 500), 200);
	cr_assert_eq(migstat_max_gap(t, 4, 0, 300), 100);
	/* Never came back: down from the last reply to the end. */
	cr_assert_eq(migstat_max_gap(t, 4, 100, 2000), 1500);
	/* Replies outside the window do not count. */
	cr_assert_eq(migstat_max_gap(t, 4, 250, 450), 150);
	cr_assert_eq(migstat_max_gap(NULL, 0, 10, 110), 100);
	cr_assert_eq(migstat_max_gap(t, 4, 500, 500), 0);
	cr_assert_eq(migstat_max_gap(t, 4, 600, 100), 0);
}

Test(migstat, distribution)
{
	double v[20], odd[] = { 7.4, 3.0, 5.1 }, even[] = { 4, 1, 3, 2 };
	struct migstat s;

	for (int i = 0; i < 20; i++)
		v[i] = 20 - i; /* 20 .. 1, reversed on purpose */
	migstat_compute(v, 20, &s);
	cr_assert_eq(s.n, 20);
	cr_assert_float_eq(s.min, 1, 1e-9);
	cr_assert_float_eq(s.max, 20, 1e-9);
	cr_assert_float_eq(s.median, 10.5, 1e-9);
	cr_assert_float_eq(s.p95, 19, 1e-9); /* nearest rank: the 19th of 20 */
	cr_assert_float_eq(v[0], 20, 1e-9, "the input is not sorted in place");
	migstat_compute(odd, 3, &s);
	cr_assert_float_eq(s.median, 5.1, 1e-9);
	cr_assert_float_eq(s.p95, 7.4, 1e-9);
	migstat_compute(even, 4, &s);
	cr_assert_float_eq(s.median, 2.5, 1e-9);
	migstat_compute(odd, 1, &s);
	cr_assert_float_eq(s.min, 7.4, 1e-9);
	cr_assert_float_eq(s.p95, 7.4, 1e-9);
	migstat_compute(NULL, 0, &s);
	cr_assert_eq(s.n, 0);
	cr_assert_float_eq(s.max, 0, 1e-9);
}

Test(experiment_db, rounds_roundtrip)
{
	char dir[] = "/tmp/xlab-exp-XXXXXX";
	_cleanup_free_ char *path = NULL;
	struct db *db = NULL;
	struct db_experiment_round *v = NULL;
	struct xerr e = { 0 };
	int64_t run;
	size_t n = 0;

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/xlab.db", dir);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "mig", "experiment", "abc", &run, &e), 0, "%s", e.msg);
	for (int k = 1; k <= 2; k++) {
		struct db_experiment_round r = {
			.run_id = run, .experiment = "pingpong", .round = k, .guest = "mig1",
			.src = k == 1 ? "h1" : "h2", .dst = k == 1 ? "h2" : "h1", .ok = k == 1,
			.wall_ms = 31000 + k, .downtime_ms = 7200, .came_back = k == 1,
			.host_after = k == 1 ? "h2" : NULL, .pings_sent = 1500, .pings_answered = 1100,
			.message = k == 1 ? NULL : "migration sender failed",
		};

		cr_assert_eq(db_experiment_round_add(db, &r, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(db_experiment_rounds_list(db, run, &v, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].experiment, "pingpong");
	cr_assert(v[0].ok && v[0].came_back);
	cr_assert_eq(v[0].wall_ms, 31001);
	cr_assert_str_eq(v[0].host_after, "h2");
	cr_assert_null(v[0].message);
	cr_assert_not(v[1].ok);
	cr_assert_str_eq(v[1].src, "h2");
	cr_assert_null(v[1].host_after);
	cr_assert_str_eq(v[1].message, "migration sender failed");
	db_experiment_rounds_free(v, n);
	db_close(db);
	cr_assert_eq(rm_rf(dir, &e), 0);
}

/* A test action's steps, stored per round, and the report's figures: per
 * step the rounds it succeeded in and min/median/max over those. */
Test(action_db, steps_roundtrip_and_report)
{
	char dir[] = "/tmp/xlab-act-XXXXXX";
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct db *db = NULL;
	struct db_action_step *v = NULL;
	struct json_object *o = json_object_new_object(), *a, *steps, *save;
	struct xerr e = { 0 };
	int64_t run;
	size_t n = 0, len = 0;
	FILE *f;
	static const struct { int round; const char *step; bool ok; int64_t ms; } rows[] = {
		{ 1, "xl save", true, 5000 },	  { 1, "xl restore", true, 8000 },
		{ 1, "ping", true, 600 },	  { 2, "xl save", true, 7000 },
		{ 2, "xl restore", true, 9000 },  { 2, "ping", true, 400 },
		{ 3, "xl save", true, 6000 },	  { 3, "xl restore", false, 900000 },
	};

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/xlab.db", dir);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "mig", "up", "abc", &run, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct db_action_step s = { .run_id = run, .test = "sr", .round = rows[i].round,
					     .step = rows[i].step, .ok = rows[i].ok,
					     .duration_ms = rows[i].ms };

		cr_assert_eq(db_action_step_add(db, &s, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(db_action_steps_list(db, run, &v, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, ARRAY_SIZE(rows));
	cr_assert_str_eq(v[7].step, "xl restore");
	cr_assert_eq(v[7].round, 3);
	cr_assert_not(v[7].ok);
	cr_assert_eq(v[7].duration_ms, 900000);
	db_action_steps_free(v, n);

	f = open_memstream(&text, &len);
	cr_assert_eq(action_report_text(db, run, f, &e), 0, "%s", e.msg);
	fclose(f);
	cr_assert(strstr(text, "  sr\n"), "%s", text);
	cr_assert(strstr(text, "    xl save                 3/3       5.00     6.00     7.00\n"), "%s",
		  text);
	cr_assert(strstr(text, "    xl restore              2/3       8.00     8.50     9.00\n"),
		  "the failed round's time is not a figure: %s", text);
	cr_assert(strstr(text, "    ping                    2/2       0.40     0.50     0.60\n"), "%s",
		  text);

	cr_assert_eq(action_report_json(db, run, o, &e), 0, "%s", e.msg);
	a = json_object_array_get_idx(json_object_object_get(o, "actions"), 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(a, "test")), "sr");
	steps = json_object_object_get(a, "steps");
	cr_assert_eq(json_object_array_length(steps), 3);
	save = json_object_array_get_idx(steps, 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(save, "step")), "xl save");
	cr_assert_eq(json_object_get_int(json_object_object_get(save, "median")), 6000);
	cr_assert_eq(json_object_get_int(json_object_object_get(save, "n")), 3);
	json_object_put(o);
	db_close(db);
	cr_assert_eq(rm_rf(dir, &e), 0);
}
