/* xlab list LAB [--json]: every domain of every host of a lab, in xl's own
 * table (Name, ID, Mem, VCPUs, State, Time(s)) with the host last. */
#include <getopt.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agent_ops.h"
#include "cmd.h"
#include "hostconn.h"
#include "labstate.h"
#include "table.h"
#include "text.h"
#include "util.h"

static int host_domains(const struct labstate *ls, const struct db_host *h,
			struct agent_domain **doms, size_t *n, struct xerr *e)
{
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	_cleanup_free_ char *local = NULL;
	int rc = -1;

	if (agent_local_path(&local, e) < 0 || lab_host_connect(&ls->dirs, h->name, h->ip, &c, e) < 0)
		goto out;
	if (agent_open(c, local, &ag, NULL, e) < 0 || agent_guest_list(ag, doms, n, e) < 0)
		goto out;
	rc = 0;
out:
	agent_close(ag);
	sshc_free(c);
	return rc;
}

/* Hosts are asked at once: each answer costs an SSH handshake and an agent
 * start, and a lab's hosts are independent. */
struct host_ask {
	const struct labstate *ls;
	const struct db_host *h;
	struct agent_domain *doms;
	size_t n;
	struct xerr e;
	int rc;
	pthread_t thread;
	bool started;
};

static void *host_ask_run(void *arg)
{
	struct host_ask *a = arg;

	a->rc = host_domains(a->ls, a->h, &a->doms, &a->n, &a->e);
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

/* One domain in xl list's columns, and its host. */
static void list_row(struct table *t, const struct agent_domain *d, const char *host)
{
	char id[24], mem[24], vcpus[24], time_s[32];

	snprintf(id, sizeof(id), "%lld", (long long)d->domid);
	snprintf(mem, sizeof(mem), "%lld", (long long)(d->memory_kib / 1024));
	snprintf(vcpus, sizeof(vcpus), "%lld", (long long)d->vcpus);
	snprintf(time_s, sizeof(time_s), "%.1f", d->time_s);
	TABLE_ROW(t, tt(d->name), id, mem, vcpus, tt(d->state), time_s, host, tt(d->type));
}

/* The same row for --json, with the agent's own key names. */
static struct json_object *list_json(const struct agent_domain *d, const char *host)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, AGENT_RES_NAME, json_object_new_string(d->name));
	json_object_object_add(o, AGENT_RES_DOMID, json_object_new_int64(d->domid));
	json_object_object_add(o, AGENT_RES_MEMORY_KIB, json_object_new_int64(d->memory_kib));
	json_object_object_add(o, AGENT_RES_VCPUS, json_object_new_int64(d->vcpus));
	json_object_object_add(o, AGENT_RES_STATE, json_object_new_string(d->state));
	json_object_object_add(o, AGENT_RES_TIME_S, json_object_new_double(d->time_s));
	if (*d->type)
		json_object_object_add(o, AGENT_RES_TYPE, json_object_new_string(d->type));
	json_object_object_add(o, "host", json_object_new_string(host));
	return o;
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

		if (asks[i].rc < 0) {
			/* One unreachable host must not hide the others. */
			fprintf(stderr, "xlab: %s: %s\n", h->name, tt(asks[i].e.msg));
			failed++;
			continue;
		}
		for (size_t k = 0; k < asks[i].n; k++) {
			if (json) {
				json_object_array_add(all, list_json(&asks[i].doms[k], h->name));
				continue;
			}
			/* What a dom0 answers is printed as text, never as escapes. */
			list_row(t, &asks[i].doms[k], h->name);
		}
		agent_domains_free(asks[i].doms, asks[i].n);
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
