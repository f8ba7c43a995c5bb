/* xlab guest create|rm|list|console: guests made by hand in a running lab,
 * the way `xl create` makes them, recorded like the spec's (made_by "hand").
 * `up` leaves them alone; `down` removes them with their hosts. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "agent_ops.h"
#include "guest_agent.h"
#include "cmd.h"
#include "guestargs.h"
#include "guestxl.h"
#include "lab.h"
#include "labview.h"
#include "run.h"
#include "table.h"
#include "nodestate.h"
#include "util.h"


struct create_opts {
	const char *lab, *name, *host;
	const char *from_xl; /* --from-xl FILE, or NULL */
	bool console, dry_run;
	char **kv;
	size_t n_kv;
};

static const struct plan_guest *planned(const struct labview *v)
{
	return &v->plan->guests[v->plan->n_guests - 1];
}

static void dry_run_print(const struct labview *v, const struct plan_guest *pg)
{
	printf("# xlab guest create %s %s --host %s (dry run: nothing is made)\n", v->ls.lab,
	       pg->spec->name, pg->host->spec->name);
	printf("# guest %s: %s, mac %s, ip %s\n", pg->spec->name, pg->lv, pg->mac, pg->ip);
	for (char **s = pg->lvm_steps; s && *s; s++)
		printf("#   %s\n", *s);
	printf("# /etc/xen/xlab/%s.cfg:\n%s", pg->spec->name, pg->xl_cfg);
}

/* The name must be new to the lab: no host or spec guest has it (a guest
 * made by hand under that name is made again, which finds it running). */
static int name_free(const struct labview *v, const char *name, struct xerr *e)
{
	if (spec_find_host(v->spec, name))
		return xerr_set(e, XERR_USAGE, "lab '%s' has a host named '%s'", v->ls.lab,
				name);
	for (size_t i = 0; i < v->spec->n_guests; i++)
		if (!strcmp(v->spec->guests[i].name, name))
			return xerr_set(e, XERR_USAGE,
					"lab '%s' already has a guest named '%s' (`xlab guest rm "
					"%s %s` first if it was made by hand)",
					v->ls.lab, name, v->ls.lab, name);
	return 0;
}

static void guest_record(struct labview *v, const struct plan_guest *pg, enum node_event ev)
{
	struct db_guest g = { .lab = v->ls.lab, .host = pg->host->spec->name,
			      .name = pg->spec->name, .mac = pg->mac, .ip = pg->ip,
			      .made_by = LABVIEW_MADE_BY_HAND };
	struct xerr e = { 0 };

	if (node_record_guest(v->ls.db, &g, ev, &e) < 0)
		xerr_print(&e, "xlab: warning");
}

/* Like `xl create -c`: what the console printed so far, then the live console. */
static int console_attach(struct sshc *c, struct agent *ag, const char *name, struct xerr *e)
{
	const char *argv[] = { "xl", "console", "-t", "pv", name, NULL };
	_cleanup_free_ char *text = NULL;
	int status = 0;

	if (agent_guest_console(ag, name, 0, &text, e) < 0)
		return -1;
	fputs(text, stdout);
	fflush(stdout);
	fprintf(stderr, "console of guest %s; Ctrl-] leaves\n", name);
	return sshc_exec_interactive(c, argv, &status, e);
}

static int guest_make(struct labview *v, const struct create_opts *o, struct xerr *e)
{
	const struct plan_guest *pg = planned(v);
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	struct run r;
	struct step s;
	int lock, rc = -1;

	lock = lab_lock(v->ls.lab, "guest create", e);
	if (lock < 0)
		return -1;
	if (run_begin(&r, v->ls.db, v->ls.lab, "guest create", v->spec->sha256, e) < 0)
		goto out_lock;
	/* Recorded first: its address and MAC are taken from now on. */
	guest_record(v, pg, NODE_EV_DEFINE);
	step_begin(&s, &r, "guest.create", pg->spec->name);
	if (step_end(&s, labview_agent(v, o->host, &c, &ag, e) < 0 ? -1 :
			 guest_agent_create(ag, pg, v->spec->vg, &v->ls.dirs, e), e) < 0) {
		guest_record(v, pg, NODE_EV_FAIL);
		goto out;
	}
	if (o->console) {
		step_begin(&s, &r, "guest.boot", pg->spec->name);
		step_skip(&s, "console attached (-c)");
		rc = console_attach(c, ag, pg->spec->name, e);
		goto out;
	}
	step_begin(&s, &r, "guest.boot", pg->spec->name);
	if (step_end(&s, guest_agent_wait(ag, pg->spec->name, pg->spec->type, e), e) < 0) {
		guest_record(v, pg, NODE_EV_FAIL);
		goto out;
	}
	guest_record(v, pg, NODE_EV_UP);
	run_say(&r, pg->spec->name, "up on %s at %s (made by hand)", o->host, pg->ip);
	rc = 0;
out:
	run_end(&r, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
	agent_close(ag);
	sshc_free(c);
out_lock:
	lab_unlock(lock);
	return rc;
}

static int create_parse(int argc, char **argv, struct create_opts *o, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "console", no_argument, NULL, 'c' },
		{ "from-xl", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "cn", longopts, NULL)) != -1) {
		if (c == 'H')
			o->host = optarg;
		else if (c == 'n')
			o->dry_run = true;
		else if (c == 'c')
			o->console = true;
		else if (c == 'x')
			o->from_xl = optarg;
		else
			return cmd_usage_error(e, "guest", "guest create: unknown option");
	}
	if (argc - optind < 2)
		return cmd_usage_error(e, "guest", "guest create: expected LAB and NAME");
	if (!o->host)
		return cmd_usage_error(e, "guest", "guest create: --host HOST is required");
	o->lab = argv[optind];
	o->name = argv[optind + 1];
	o->kv = argv + optind + 2;
	o->n_kv = (size_t)(argc - optind - 2);
	return 0;
}

/* The file first, then KEY=VALUE over it: the command line has the last
 * word, as it does over a spec. */
static int from_xl_apply(const struct labview *v, const struct create_opts *o,
			 struct spec_guest *g, struct xerr *e)
{
	const struct guest_xl_env env = { .lab = v->ls.lab, .vg = v->spec->vg,
					  .shared_vg = v->spec->shared_vg };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (file_read_all(o->from_xl, 1 << 20, &text, &len, e) < 0)
		return -1;
	if (strlen(text) != len)
		return xerr_set(e, XERR_USAGE, "%s holds a NUL byte: not an xl.cfg file",
				o->from_xl);
	if (guest_xl_apply(g, &env, o->from_xl, text, e) < 0)
		return -1;
	return guest_args_apply(g, o->kv, o->n_kv, e);
}

static int guest_create(int argc, char **argv, struct xerr *e)
{
	struct create_opts o = { 0 };
	struct spec_guest g = { 0 };
	struct labview v = { 0 };
	int rc = -1;

	if (create_parse(argc, argv, &o, e) < 0)
		return -1;
	if (guest_args_init(&g, o.name, o.host, e) < 0 ||
	    (!o.from_xl && guest_args_apply(&g, o.kv, o.n_kv, e) < 0))
		goto out;
	if (labview_load(o.lab, &v, e) < 0 || (o.from_xl && from_xl_apply(&v, &o, &g, e) < 0))
		goto out;
	if (!spec_find_host(v.spec, o.host) || !labstate_host(&v.ls, o.host)) {
		labstate_no_such(&v.ls, "host", o.host, e);
		goto out;
	}
	if (name_free(&v, o.name, e) < 0 || labview_plan(&v, &g, e) < 0)
		goto out;
	if (o.dry_run) {
		dry_run_print(&v, planned(&v));
		rc = 0;
		goto out;
	}
	rc = guest_make(&v, &o, e);
out:
	labview_free(&v);
	guest_args_free(&g);
	return rc;
}

static const struct db_guest *hand_guest(const struct labview *v, const char *name,
					 struct xerr *e)
{
	const struct db_guest *g = labstate_guest(&v->ls, name);

	if (!g) {
		labstate_no_such(&v->ls, "guest", name, e);
		return NULL;
	}
	if (!labview_is_hand(g)) {
		xerr_set(e, XERR_USAGE,
			 "guest '%s' comes from the spec of lab '%s': take it out of the spec "
			 "(or `xlab down`) instead", name, v->ls.lab);
		return NULL;
	}
	return g;
}

static int agent_destroy(const struct labview *v, const struct db_guest *g, struct xerr *e)
{
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	int rc;

	if (labview_agent(v, g->host, &c, &ag, e) < 0)
		return -1;
	rc = agent_guest_destroy(ag, g->name, v->spec->vg, true, e);
	agent_close(ag);
	sshc_free(c);
	return rc;
}

static int guest_rm(int argc, char **argv, struct xerr *e)
{
	struct labview v = { 0 };
	const struct db_guest *g;
	struct run r;
	struct step s;
	int lock = -1, rc = -1;

	if (argc != 3)
		return cmd_usage_error(e, "guest", "guest rm: expected LAB and NAME");
	if (labview_load(argv[1], &v, e) < 0 || !(g = hand_guest(&v, argv[2], e)))
		goto out;
	lock = lab_lock(v.ls.lab, "guest rm", e);
	if (lock < 0 || run_begin(&r, v.ls.db, v.ls.lab, "guest rm", v.spec->sha256, e) < 0)
		goto out;
	step_begin(&s, &r, "guest.remove", g->name);
	rc = step_end(&s, agent_destroy(&v, g, e), e);
	if (rc == 0)
		rc = db_guest_delete(v.ls.db, v.ls.lab, g->name, e);
	if (rc == 0)
		rc = guest_host_key_forget(&v.ls.dirs, g->name, e);
	if (rc == 0)
		run_say(&r, g->name, "removed from %s: domain, logical volume and config", g->host);
	run_end(&r, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
out:
	if (lock >= 0)
		lab_unlock(lock);
	labview_free(&v);
	return rc;
}

static void list_json(const struct db_guest *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const struct db_guest *g = &v[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(g->name));
		json_object_object_add(o, "host", json_object_new_string(g->host));
		json_object_object_add(o, "ip", json_object_new_string(g->ip ? g->ip : ""));
		json_object_object_add(o, "mac", json_object_new_string(g->mac ? g->mac : ""));
		json_object_object_add(o, "state", json_object_new_string(g->state ? g->state : ""));
		json_object_object_add(o, "made_by",
				       json_object_new_string(g->made_by ? g->made_by : "spec"));
		json_object_array_add(a, o);
	}
	printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

/* From the store alone: listing touches no lab file or directory. */
static int guest_list(int argc, char **argv, struct xerr *e)
{
	bool json = argc == 3 && !strcmp(argv[2], "--json");
	struct db *db = NULL;
	struct db_lab *l = NULL;
	struct db_guest *v = NULL;
	size_t n = 0;
	int rc = -1;

	if (argc != 2 && !json)
		return cmd_usage_error(e, "guest", "guest list: expected LAB [--json]");
	if (db_open_default(&db, e) < 0 || lab_require(db, argv[1], &l, e) < 0)
		goto out;
	if (db_guests_list(db, argv[1], &v, &n, e) < 0)
		goto out;
	if (json) {
		list_json(v, n);
	} else {
		struct table *t = TABLE_NEW("", "Name", "Host", "IP", "State", "Made by");

		for (size_t i = 0; i < n; i++)
			TABLE_ROW(t, v[i].name, v[i].host, v[i].ip, v[i].state,
				  v[i].made_by ? v[i].made_by : "spec");
		table_print(t, stdout);
		table_free(t);
	}
	rc = 0;
out:
	db_guests_free(v, n);
	db_lab_free(l);
	if (db)
		db_close(db);
	return rc;
}

/* `-c` attaches (Ctrl-] leaves); without it, what the console printed. */
static int guest_console(int argc, char **argv, struct xerr *e)
{
	bool attach = argc == 4 && !strcmp(argv[3], "-c");
	char *cargv[] = { "console", NULL, NULL, "--log", NULL };

	if (argc != 3 && !attach)
		return cmd_usage_error(e, "guest", "guest console: expected LAB NAME [-c]");
	cargv[1] = argv[1];
	cargv[2] = argv[2];
	if (attach)
		cargv[3] = NULL;
	return cmd_console(attach ? 3 : 4, cargv, e);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
} subcmds[] = {
	{ "create", guest_create },
	{ "rm", guest_rm },
	{ "list", guest_list },
	{ "console", guest_console },
};

int cmd_guest(int argc, char **argv, struct xerr *e)
{
	if (argc < 2)
		return cmd_usage_error(e, "guest", "which subcommand?");
	for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
		if (!strcmp(subcmds[i].name, argv[1]))
			return subcmds[i].fn(argc - 1, argv + 1, e);
	return cmd_usage_error(e, "guest", "unknown subcommand '%s'", argv[1]);
}
