/* xlab status [LAB] [--json]: labs, and each host's state, address and
 * whether libvirt has it running. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "db.h"
#include "lab.h"
#include "lifecycle.h"
#include "nodestate.h"
#include "servers.h"
#include "serverspec.h"
#include "table.h"
#include "text.h"
#include "util.h"
#include "virt.h"

/* Seconds since an ISO 8601 UTC timestamp of the store, or -1. */
static long since(const char *iso)
{
	struct tm tm = { 0 };

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	return (long)(time(NULL) - timegm(&tm));
}

static const char *host_running(struct virt *v, const char *lab, const char *host,
				long *uptime_s, const char *updated)
{
	_cleanup_free_ char *dom = NULL;
	struct virt_dom_info info;
	struct virt_owner want;
	struct xerr e = { 0 };

	*uptime_s = -1;
	if (!v || lab_domain_name(lab, host, &dom, &e) < 0 || lab_owner(lab, &want, &e) < 0)
		return "unknown";
	if (virt_domain_info(v, dom, &info, &e) < 0 || !info.exists)
		return "absent";
	/* The name is taken by something this store did not make for the lab. */
	if (virt_owner_check("domain", dom, &info.owner, &want, &e) < 0)
		return "taken";
	if (!info.running)
		return "shut off";
	/* The store marks a host "up" when its sshd first answered. */
	*uptime_s = since(updated);
	return "running";
}

/* Another store on this libvirt with a lab of the same name: its objects
 * carry its own store id, so neither touches the other's; say so. */
static void status_other_stores(struct virt *v, const char *lab)
{
	_cleanup_strv_ char **stores = NULL;
	struct virt_owner want;
	struct xerr e = { 0 };

	if (!v || lab_owner(lab, &want, &e) < 0 || virt_lab_stores(v, lab, &stores, &e) < 0)
		return;
	for (char **p = stores; *p; p++)
		if (strcmp(*p, want.store) != 0)
			printf("  note: another xlab store (id %s) has a lab '%s' on this libvirt too; "
			       "each store touches only its own domains and network\n",
			       **p ? *p : "none, an older xlab", lab);
}

/* Guests, the spec's and those made by hand (`xlab guest create`). */
static void status_guests(const struct db_guest *g, size_t n, struct json_object *jl)
{
	struct table *t = jl ? NULL : TABLE_NEW("  ", "GUEST", "STATE", "HOST", "IP", "MADE BY");
	struct json_object *jg = jl ? json_object_new_array() : NULL;

	for (size_t i = 0; i < n; i++) {
		const char *by = g[i].made_by ? g[i].made_by : "spec";

		if (t) {
			TABLE_ROW(t, g[i].name, g[i].state, g[i].host, g[i].ip, by);
			continue;
		}
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(g[i].name));
		json_object_object_add(o, "host", json_object_new_string(g[i].host));
		json_object_object_add(o, "state", json_object_new_string(g[i].state ? g[i].state : ""));
		json_object_object_add(o, "ip", json_object_new_string(g[i].ip ? g[i].ip : ""));
		json_object_object_add(o, "made_by", json_object_new_string(by));
		json_object_array_add(jg, o);
	}
	if (jl)
		json_object_object_add(jl, "guests", jg);
	if (t && table_rows(t))
		table_print(t, stdout);
	table_free(t);
}

/* What the store says and libvirt does not: a host recorded up whose
 * domain is gone or off (removed or stopped behind xlab's back). */
static char *host_drift(const char *lab, const struct db_host *h, const char *vm)
{
	_cleanup_free_ char *dom = NULL;
	struct xerr e = { 0 };

	if (node_state_parse(h->state) != NODE_UP || strcmp(vm, "running") == 0 ||
	    strcmp(vm, "unknown") == 0 || lab_domain_name(lab, h->name, &dom, &e) < 0)
		return NULL;
	return xasprintf("domain %s %s (the store has host '%s' up; `xlab up %s` "
			 "makes it again)",
			 dom, strcmp(vm, "absent") == 0 ? "missing" : vm, h->name, lab);
}

static struct json_object *host_json(const struct db_host *h, const char *vm, long up)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "state", json_object_new_string(h->state));
	json_object_object_add(o, "vm", json_object_new_string(vm));
	json_object_object_add(o, "ip", json_object_new_string(h->ip ? h->ip : ""));
	json_object_object_add(o, "mac", json_object_new_string(h->mac ? h->mac : ""));
	json_object_object_add(o, "image", h->image ? json_object_new_string(h->image) : NULL);
	json_object_object_add(o, "uptime_s", up >= 0 ? json_object_new_int64(up) : NULL);
	return o;
}

static struct json_object *lab_json(const struct db_lab *l)
{
	struct json_object *jl = json_object_new_object();

	json_object_object_add(jl, "lab", json_object_new_string(l->name));
	json_object_object_add(jl, "state", json_object_new_string(l->state));
	json_object_object_add(jl, "subnet", l->subnet ? json_object_new_string(l->subnet) : NULL);
	json_object_object_add(jl, "spec", l->spec_path ? json_object_new_string(l->spec_path)
							: NULL);
	return jl;
}

/* The libvirt of each server a lab has hosts on: this machine's is the
 * caller's; another's is opened here, or NULL (a warning) when it does not
 * answer. */
struct lab_virts {
	struct lab_dirs d;
	char **names;
	struct virt **v;
	struct virt *here;
};

static void lab_virts_open(const struct db_lab *l, struct virt *here, struct lab_virts *lv)
{
	struct xerr e = { 0 };
	size_t n;

	memset(lv, 0, sizeof(*lv));
	lv->here = here;
	if (lab_dirs_get(l->name, &lv->d, &e) < 0) {
		lab_dirs_free(&lv->d);
		return;
	}
	lv->names = lab_servers(&lv->d);
	n = strv_len(lv->names);
	lv->v = xcalloc(n + 1, sizeof(*lv->v));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(lv->names[i], SERVER_LOCAL) == 0)
			continue;
		if (server_open_named(lv->names[i], &lv->v[i], &e) < 0) {
			fprintf(stderr, "xlab: warning: lab %s: %s\n", tt(l->name), e.msg);
			xerr_clear(&e);
		}
	}
}

/* The lab's own server's libvirt: its first. */
static struct virt *lab_virts_own(const struct lab_virts *lv)
{
	if (!lv->names || strcmp(lv->names[0], SERVER_LOCAL) == 0)
		return lv->here;
	return lv->v[0];
}

static struct virt *lab_virts_host(const struct lab_virts *lv, const char *host)
{
	const char *server = lv->names ? lab_host_server(&lv->d, host) : NULL;

	for (size_t i = 0; server && lv->names[i]; i++)
		if (strcmp(lv->names[i], server) == 0)
			return lv->v[i];
	return lv->here;
}

static void lab_virts_close(struct lab_virts *lv)
{
	for (size_t i = 0; lv->names && lv->names[i]; i++)
		virt_close(lv->v[i]);
	free(lv->v);
	strv_free(lv->names);
	lab_dirs_free(&lv->d);
}

/* Hosts as a table (or JSON), and the drift between store and libvirt. */
static void status_hosts(const struct lab_virts *lv, const struct db_lab *l, const struct db_host *hosts,
			 size_t nh, struct json_object *jl)
{
	struct table *t = jl ? NULL : TABLE_NEW("  ", "HOST", "STATE", "VM", "IMAGE", "IP",
						"MAC", "UPTIME");
	struct json_object *jh = jl ? json_object_new_array() : NULL;
	struct json_object *jd = jl ? json_object_new_array() : NULL;
	struct buf drift = { 0 };

	for (size_t i = 0; i < nh; i++) {
		const struct db_host *h = &hosts[i];
		bool gone = lab_state_parse(l->state) == LAB_DOWN;
		long up = -1;
		struct virt *v = lab_virts_host(lv, h->name);
		const char *vm = gone ? "absent" : host_running(v, l->name, h->name, &up, h->updated);
		_cleanup_free_ char *d = gone ? NULL : host_drift(l->name, h, vm);
		char upt[32] = "-";

		if (strcmp(vm, "running") != 0)
			up = -1;
		if (d && jd)
			json_object_array_add(jd, json_object_new_string(d));
		else if (d)
			buf_printf(&drift, "  drift: %s\n", d);
		if (jh) {
			struct json_object *o = host_json(h, vm, up);
			const char *server = lab_host_server(&lv->d, h->name);

			json_object_object_add(o, "server",
					       json_object_new_string(server ? server : SERVER_LOCAL));
			json_object_array_add(jh, o);
			continue;
		}
		if (up >= 0)
			snprintf(upt, sizeof(upt), "%ldm%02lds", up / 60, up % 60);
		TABLE_ROW(t, h->name, h->state, vm, h->image ? h->image : "-", h->ip, h->mac, upt);
	}
	if (jl) {
		json_object_object_add(jl, "hosts", jh);
		json_object_object_add(jl, "drift", jd);
	} else if (table_rows(t)) {
		table_print(t, stdout);
	}
	if (drift.data)
		fputs(drift.data, stdout);
	buf_free(&drift);
	table_free(t);
}

static int status_lab(struct db *db, const struct lab_virts *lv, const struct db_lab *l,
		      struct json_object *out, struct xerr *e)
{
	struct virt *v = lab_virts_own(lv);
	struct db_host *hosts = NULL;
	struct db_guest *guests = NULL;
	size_t nh = 0, ng = 0;
	struct json_object *jl = out ? lab_json(l) : NULL;

	if (db_hosts_list(db, l->name, &hosts, &nh, e) < 0 ||
	    db_guests_list(db, l->name, &guests, &ng, e) < 0) {
		db_hosts_free(hosts, nh);
		json_object_put(jl);
		return -1;
	}
	if (!out) {
		printf("lab %s: %s, subnet %s, spec %s, %zu guest(s)", l->name, l->state,
		       l->subnet ? l->subnet : "-", l->spec_path ? l->spec_path : "-", ng);
		for (size_t i = 0; lv->names && lv->names[1] && lv->names[i]; i++)
			printf("%s%s", i ? ", " : ", across servers ", lv->names[i]);
		printf("\n");
	}
	status_hosts(lv, l, hosts, nh, jl);
	if (!out)
		status_other_stores(v, l->name);
	status_guests(guests, ng, jl);
	if (out)
		json_object_array_add(out, jl);
	db_hosts_free(hosts, nh);
	db_guests_free(guests, ng);
	return 0;
}

int cmd_status(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "connect", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *connect = NULL, *only = NULL;
	bool json = false;
	struct db *db = NULL;
	struct virt *v = NULL;
	struct db_lab *labs = NULL;
	struct json_object *out = NULL;
	struct xerr ve = { 0 };
	size_t n = 0, shown = 0;
	int c, rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'c')
			connect = optarg;
		else
			return cmd_usage_error(e, "status", "unknown option");
	}
	if (argc - optind > 1)
		return cmd_usage_error(e, "status", "at most one lab name");
	only = optind < argc ? argv[optind] : NULL;
	if (db_open_default(&db, e) < 0)
		return -1;
	if (db_labs_list(db, &labs, &n, e) < 0)
		goto out;
	/* The store still answers when libvirt does not; say so and go on. */
	if (virt_open(virt_default_uri(connect, NULL), &v, &ve) < 0)
		fprintf(stderr, "xlab: warning: %s\n", ve.msg);
	out = json ? json_object_new_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		struct lab_virts lv;
		int r;

		if (only && strcmp(labs[i].name, only) != 0)
			continue;
		lab_virts_open(&labs[i], v, &lv);
		r = status_lab(db, &lv, &labs[i], out, e);
		lab_virts_close(&lv);
		if (r < 0)
			goto out;
		shown++;
	}
	if (only && !shown) {
		lab_unknown(db, only, e);
		goto out;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (!shown)
		printf("no labs; `xlab up FILE` makes one\n");
	rc = 0;
out:
	json_object_put(out);
	db_labs_free(labs, n);
	if (v)
		virt_close(v);
	db_close(db);
	return rc;
}
