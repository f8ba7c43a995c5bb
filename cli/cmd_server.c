/* xlab server add NAME URI | list [--json] | rm NAME: the libvirt servers
 * labs may run on (engine/servers.c). What a server reports (its hostname,
 * libvirt's messages) comes from another machine: printed through tt(). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "servers.h"
#include "table.h"
#include "text.h"
#include "util.h"

static int server_add_cmd(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *fp = NULL;

	if (argc != 3)
		return cmd_usage_error(e, "server add", "expected a name and a libvirt URI");
	if (server_add(argv[1], argv[2], &fp, e) < 0)
		return -1;
	printf("server %s added: %s\n", argv[1], argv[2]);
	if (fp)
		printf("its SSH host key %s is pinned: a server that shows another is refused\n",
		       fp);
	return 0;
}

static int server_rm_cmd(int argc, char **argv, struct xerr *e)
{
	if (argc != 2)
		return cmd_usage_error(e, "server rm", "expected a server name");
	if (server_rm(argv[1], e) < 0)
		return -1;
	printf("server %s removed\n", argv[1]);
	return 0;
}

/* "23.4G": a figure to read, not to compute with (--json has bytes). */
static void human(unsigned long long bytes, char out[32])
{
	static const char unit[] = "KMGTPE";
	double v = (double)bytes;
	int i = -1;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(out, 32, "%llu", bytes);
	else
		snprintf(out, 32, "%.1f%c", v, unit[i]);
}

/* Free disk and where it was measured: "12.0G of 20.0G (pool default)". */
static char *disk_text(const struct server_view *s)
{
	char fr[32], tot[32];

	if (s->cap.pool) {
		human(s->cap.pool_available, fr);
		human(s->cap.pool_capacity, tot);
		return xasprintf("%s of %s (pool %s)", fr, tot, tt(s->cap.pool));
	}
	if (s->disk_dir) {
		human(s->dir_free, fr);
		human(s->dir_total, tot);
		return xasprintf("%s of %s (directory %s)", fr, tot, s->disk_dir);
	}
	return NULL;
}

static void list_row(struct table *t, const struct server_view *s)
{
	_cleanup_free_ char *disk = NULL;
	char cpus[16], mem[32], fr[32], lv[32], hv[32], hvs[64];

	if (!s->reachable) {
		TABLE_ROW(t, s->name, s->uri, "unreachable", NULL, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	disk = disk_text(s);
	snprintf(cpus, sizeof(cpus), "%u", s->cap.cpus);
	human(s->cap.memory_bytes, mem);
	human(s->cap.free_memory_bytes, fr);
	virt_version_format(s->cap.libvirt_version, lv);
	virt_version_format(s->cap.hv_version, hv);
	snprintf(hvs, sizeof(hvs), "%s %s", tt(s->cap.hv_type), hv);
	TABLE_ROW(t, s->name, s->uri, tt(s->cap.hostname), cpus, mem, fr, disk, lv, hvs);
}

static void list_table(const struct server_view *v, size_t n)
{
	struct table *t = TABLE_NEW("", "NAME", "URI", "HOSTNAME", "CPUS", "MEMORY", "FREE",
				    "DISK FREE", "LIBVIRT", "HYPERVISOR");

	for (size_t i = 3; i <= 5; i++)
		table_right(t, i);
	for (size_t i = 0; i < n; i++)
		list_row(t, &v[i]);
	table_print(t, stdout);
	table_free(t);
	for (size_t i = 0; i < n; i++)
		if (!v[i].reachable)
			printf("%s: unreachable: %s\n", v[i].name, tt(v[i].error));
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *disk_json(const struct server_view *s)
{
	struct json_object *d = json_object_new_object();

	if (s->cap.pool) {
		json_object_object_add(d, "source", jstr("pool"));
		json_object_object_add(d, "pool", jstr(s->cap.pool));
		json_object_object_add(d, "free_bytes", json_object_new_uint64(s->cap.pool_available));
		json_object_object_add(d, "capacity_bytes",
				       json_object_new_uint64(s->cap.pool_capacity));
	} else if (s->disk_dir) {
		json_object_object_add(d, "source", jstr("directory"));
		json_object_object_add(d, "directory", jstr(s->disk_dir));
		json_object_object_add(d, "free_bytes", json_object_new_uint64(s->dir_free));
		json_object_object_add(d, "capacity_bytes", json_object_new_uint64(s->dir_total));
	} else {
		json_object_put(d);
		return NULL;
	}
	return d;
}

static struct json_object *server_json(const struct server_view *s)
{
	struct json_object *o = json_object_new_object();
	char lv[32], hv[32];

	json_object_object_add(o, "name", jstr(s->name));
	json_object_object_add(o, "uri", jstr(s->uri));
	json_object_object_add(o, "local", json_object_new_boolean(s->local));
	json_object_object_add(o, "added", jstr(s->added));
	json_object_object_add(o, "reachable", json_object_new_boolean(s->reachable));
	json_object_object_add(o, "error", jstr(s->error));
	if (!s->reachable)
		return o;
	virt_version_format(s->cap.libvirt_version, lv);
	virt_version_format(s->cap.hv_version, hv);
	json_object_object_add(o, "hostname", jstr(s->cap.hostname));
	json_object_object_add(o, "cpus", json_object_new_int64(s->cap.cpus));
	json_object_object_add(o, "memory_bytes", json_object_new_uint64(s->cap.memory_bytes));
	json_object_object_add(o, "free_memory_bytes",
			       json_object_new_uint64(s->cap.free_memory_bytes));
	json_object_object_add(o, "disk", disk_json(s));
	json_object_object_add(o, "libvirt_version", jstr(lv));
	json_object_object_add(o, "hypervisor", jstr(s->cap.hv_type));
	json_object_object_add(o, "hypervisor_version", jstr(hv));
	return o;
}

static void list_json(const struct server_view *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, server_json(&v[i]));
	printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

static int server_list_cmd(int argc, char **argv, struct xerr *e)
{
	struct server_view *v = NULL;
	bool json = false;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return cmd_usage_error(e, "server list", "unexpected '%s'", argv[i]);
	}
	if (servers_list(&v, &n, e) < 0)
		return -1;
	if (json)
		list_json(v, n);
	else
		list_table(v, n);
	servers_free(v, n);
	return 0;
}

int cmd_server(int argc, char **argv, struct xerr *e)
{
	/* Usage, help and options of each are in the command table (cmdtable.c). */
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv, struct xerr *e);
	} subs[] = {
		{ "add", server_add_cmd },
		{ "list", server_list_cmd },
		{ "rm", server_rm_cmd },
	};

	if (argc < 2)
		return server_list_cmd(1, argv, e);
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(subs[i].name, argv[1]) == 0)
			return subs[i].fn(argc - 1, argv + 1, e);
	return cmd_usage_error(e, "server", "unknown subcommand '%s'", argv[1]);
}
