/* xlab list LAB [--json]: every domain of every host of a lab, in xl's own
 * table (Name, ID, Mem, VCPUs, State, Time(s)) with the host last. */
#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agent_client.h"
#include "cmd.h"
#include "hostconn.h"
#include "labstate.h"
#include "table.h"
#include "text.h"
#include "util.h"

static int host_domains(const struct labstate *ls, const struct db_host *h,
			struct json_object **guests, struct xerr *e)
{
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	_cleanup_free_ char *local = NULL;
	struct json_object *res = NULL, *list;
	int rc = -1;

	if (agent_local_path(&local, e) < 0 || lab_host_connect(&ls->dirs, h->name, h->ip, &c, e) < 0)
		goto out;
	if (agent_open(c, local, &ag, NULL, e) < 0 ||
	    agent_call(ag, AGENT_OP_GUEST_LIST, NULL, &res, e) < 0)
		goto out;
	if (!json_object_object_get_ex(res, "guests", &list)) {
		xerr_set(e, XERR_FAIL, "agent on '%s': guest.list without guests", h->name);
		goto out;
	}
	*guests = json_object_get(list);
	rc = 0;
out:
	json_object_put(res);
	agent_close(ag);
	sshc_free(c);
	return rc;
}

/* Hosts are asked at once: each answer costs an SSH handshake and an agent
 * start, and a lab's hosts are independent. */
struct host_ask {
	const struct labstate *ls;
	const struct db_host *h;
	struct json_object *guests;
	struct xerr e;
	int rc;
	pthread_t thread;
	bool started;
};

static void *host_ask_run(void *arg)
{
	struct host_ask *a = arg;

	a->rc = host_domains(a->ls, a->h, &a->guests, &a->e);
	return NULL;
}

static void hosts_ask_all(const struct labstate *ls, struct host_ask *asks)
{
	for (size_t i = 0; i < ls->n_hosts; i++) {
		asks[i] = (struct host_ask){ .ls = ls, .h = &ls->hosts[i] };
		asks[i].started = pthread_create(&asks[i].thread, NULL, host_ask_run, &asks[i]) == 0;
		if (!asks[i].started) /* no thread left: ask this one here */
			host_ask_run(&asks[i]);
	}
	for (size_t i = 0; i < ls->n_hosts; i++)
		if (asks[i].started)
			pthread_join(asks[i].thread, NULL);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

/* One domain in xl list's columns, and its host. */
static void list_row(struct table *t, struct json_object *g, const char *host)
{
	char id[24], mem[24], vcpus[24], time_s[32];
	struct json_object *v;

	snprintf(id, sizeof(id), "%lld", (long long)jint(g, "domid"));
	snprintf(mem, sizeof(mem), "%lld", (long long)(jint(g, "memory_kib") / 1024));
	snprintf(vcpus, sizeof(vcpus), "%lld", (long long)jint(g, "vcpus"));
	snprintf(time_s, sizeof(time_s), "%.1f",
		 json_object_object_get_ex(g, "time_s", &v) ? json_object_get_double(v) : 0.0);
	TABLE_ROW(t, tt(jstr(g, "name")), id, mem, vcpus, tt(jstr(g, "state")), time_s, host,
		  tt(jstr(g, "type")));
}

int cmd_list(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct labstate ls;
	_cleanup_free_ struct host_ask *asks = NULL;
	struct json_object *all = json_object_new_array();
	struct table *t = NULL;
	bool json = false;
	size_t failed = 0;
	int c, rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j') {
			json_object_put(all);
			return cmd_usage_error(e, "list", "unknown option");
		}
		json = true;
	}
	if (optind != argc - 1) {
		json_object_put(all);
		return cmd_usage_error(e, "list", "expected one lab name");
	}
	if (labstate_load(argv[optind], &ls, e) < 0)
		goto out;
	if (!json) {
		t = TABLE_NEW("", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)", "Host", "Type");
		for (size_t i = 1; i <= 3; i++)
			table_right(t, i);
		table_right(t, 5);
	}
	asks = xcalloc(ls.n_hosts + 1, sizeof(*asks));
	hosts_ask_all(&ls, asks);
	for (size_t i = 0; i < ls.n_hosts; i++) {
		const struct db_host *h = &ls.hosts[i];
		struct json_object *guests = asks[i].guests;

		if (asks[i].rc < 0) {
			/* One unreachable host must not hide the others. */
			fprintf(stderr, "xlab: %s: %s\n", h->name, tt(asks[i].e.msg));
			failed++;
			continue;
		}
		for (size_t k = 0; k < json_object_array_length(guests); k++) {
			struct json_object *g = json_object_array_get_idx(guests, k);

			if (json) {
				json_object_object_add(g, "host", json_object_new_string(h->name));
				json_object_array_add(all, json_object_get(g));
				continue;
			}
			/* What a dom0 answers is printed as text, never as escapes. */
			list_row(t, g, h->name);
		}
		json_object_put(guests);
	}
	if (t)
		table_print(t, stdout);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = failed ? xerr_set(e, XERR_FAIL, "%zu of %zu host(s) did not answer", failed,
			       ls.n_hosts) : 0;
out:
	table_free(t);
	json_object_put(all);
	labstate_free(&ls);
	return rc;
}
