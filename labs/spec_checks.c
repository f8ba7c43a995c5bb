/* Checks across blocks once all is read: names, addresses, capacity, the
 * shared disk, experiments' hosts. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec_int.h"

struct addr_use {
	const char *owner;
	const char *ip;
	struct spec_pos pos;
};
/* ---- cross checks ---- */

static struct spec_pos pos_or(struct spec_pos p, struct spec_pos fallback)
{
	return p.line ? p : fallback;
}

static const char *name_hint(char hint[128], const char *name, const struct spec *s, bool hosts)
{
	const char *cands[MAX_GUESTS];
	size_t n = 0;

	if (hosts)
		for (size_t i = 0; i < s->n_hosts && n < ARRAY_SIZE(cands); i++)
			cands[n++] = s->hosts[i].name;
	else
		for (size_t i = 0; i < s->n_guests && n < ARRAY_SIZE(cands); i++)
			cands[n++] = s->guests[i].name;
	return suggest(hint, name, cands, n);
}

static void check_unique_names(struct ctx *c)
{
	const struct spec *s = c->s;
	size_t n = s->n_hosts + s->n_guests;

	for (size_t i = 0; i < n; i++) {
		const char *name = i < s->n_hosts ? s->hosts[i].name : s->guests[i - s->n_hosts].name;
		struct spec_pos pos = i < s->n_hosts ? s->hosts[i].pos : s->guests[i - s->n_hosts].pos;

		if (!name)
			continue;
		for (size_t j = 0; j < i; j++) {
			bool host = j < s->n_hosts;
			const char *other = host ? s->hosts[j].name : s->guests[j - s->n_hosts].name;
			struct spec_pos opos = host ? s->hosts[j].pos : s->guests[j - s->n_hosts].pos;

			if (other && !strcmp(name, other)) {
				diag(c, pos, NULL,
				     "name '%s' is already used by a %s at line %d (host and guest "
				     "names share one namespace)",
				     name, host ? "host" : "guest", opos.line);
				break;
			}
		}
	}
	for (size_t i = 0; i < s->n_tests; i++)
		for (size_t j = 0; s->tests[i].name && j < i; j++)
			if (s->tests[j].name && !strcmp(s->tests[i].name, s->tests[j].name)) {
				diag(c, s->tests[i].pos, NULL,
				     "test name '%s' is already used at line %d", s->tests[i].name,
				     s->tests[j].pos.line);
				break;
			}
}

static void check_one_ip(struct ctx *c, struct addr_use *seen, size_t n_seen)
{
	const struct spec *s = c->s;
	struct addr_use *u = &seen[n_seen];
	uint32_t mask = ~0u << (32 - s->net_prefix), a, bcast;
	struct in_addr in;

	if (inet_pton(AF_INET, u->ip, &in) != 1)
		return; /* reported while reading */
	a = ntohl(in.s_addr);
	bcast = s->net_addr | ~mask;
	if ((a & mask) != s->net_addr)
		diag(c, u->pos, NULL, "ip %s of '%s' is outside the lab subnet %s", u->ip,
		     u->owner, s->subnet);
	else if (a == s->net_addr)
		diag(c, u->pos, NULL, "ip %s of '%s' is the network address of %s", u->ip,
		     u->owner, s->subnet);
	else if (a == bcast)
		diag(c, u->pos, NULL, "ip %s of '%s' is the broadcast address of %s", u->ip,
		     u->owner, s->subnet);
	else if (a == s->net_addr + 1)
		diag(c, u->pos, NULL, "ip %s of '%s' is the lab's gateway address", u->ip,
		     u->owner);
	else
		for (size_t j = 0; j < n_seen; j++)
			if (!strcmp(seen[j].ip, u->ip)) {
				diag(c, u->pos, NULL, "ip %s of '%s' is already used by '%s' at line %d",
				     u->ip, u->owner, seen[j].owner, seen[j].pos.line);
				break;
			}
}

static void check_ips(struct ctx *c)
{
	const struct spec *s = c->s;
	struct addr_use *seen = xcalloc(s->n_hosts + s->n_guests + 1, sizeof(*seen));
	size_t n = 0;

	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].ip)
			seen[n++] = (struct addr_use){ s->hosts[i].name ? s->hosts[i].name : "?",
						      s->hosts[i].ip, s->hosts[i].ip_pos };
	for (size_t i = 0; i < s->n_guests; i++)
		if (s->guests[i].ip)
			seen[n++] = (struct addr_use){ s->guests[i].name ? s->guests[i].name : "?",
						      s->guests[i].ip, s->guests[i].ip_pos };
	for (size_t i = 0; i < n; i++) {
		if (!s->subnet) {
			if (!s->subnet_pos.line) /* not a bad subnet: no subnet at all */
				diag(c, seen[i].pos, "set network.subnet, or leave 'ip' out",
				     "ip %s of '%s' given but the spec has no network.subnet",
				     seen[i].ip, seen[i].owner);
			continue;
		}
		check_one_ip(c, seen, i);
	}
	free(seen);
}

/* What the VG of a host holds: each PV loses its metadata area and keeps
 * whole extents only. */
static uint64_t pv_usable(uint64_t size)
{
	return size > LVM_META ? (size - LVM_META) / LVM_EXTENT * LVM_EXTENT : 0;
}

/* What an LV of `size` takes: whole extents. */
static uint64_t lv_size(uint64_t size)
{
	return u64_add_sat(size, LVM_EXTENT - 1) / LVM_EXTENT * LVM_EXTENT;
}

void check_host_capacity(struct ctx *c, const struct spec_host *h)
{
	const struct spec *s = c->s;
	uint64_t mem_free, vg = pv_usable(h->data_disk), mem = 0, disk = 0;
	bool mem_done = false, disk_done = false;
	char b1[32], b2[32], b3[32], b4[32];

	if (h->dom0_mem >= h->memory) {
		diag(c, pos_or(h->dom0_mem_pos, h->pos), NULL,
		     "host '%s': dom0_mem %s must be less than its memory %s", h->name,
		     fmt_size(b1, h->dom0_mem), fmt_size(b2, h->memory));
		mem_done = true;
	}
	if (h->dom0_vcpus > h->vcpus)
		diag(c, pos_or(h->dom0_vcpus_pos, h->pos), NULL,
		     "host '%s': dom0_vcpus %d is more than its vcpus %d", h->name, h->dom0_vcpus,
		     h->vcpus);
	mem_free = mem_done ? 0 : h->memory - h->dom0_mem;
	for (size_t i = 0; i < h->n_disks; i++)
		vg = u64_add_sat(vg, pv_usable(h->disks[i]));
	for (size_t i = 0; i < s->n_guests; i++) {
		const struct spec_guest *g = &s->guests[i];

		if (!g->host || strcmp(g->host, h->name))
			continue;
		mem = u64_add_sat(mem, g->memory);
		if (!g->shared) /* shared guests' LVs are on the shared VG */
			disk = u64_add_sat(disk, lv_size(g->disk));
		if (!mem_done && mem > mem_free) {
			diag(c, pos_or(g->memory_pos, g->pos), NULL,
			     "guests on host '%s' need %s of memory (up to '%s'), but it has %s for "
			     "guests (memory %s - dom0_mem %s)",
			     h->name, fmt_size(b1, mem), g->name ? g->name : "?",
			     fmt_size(b2, mem_free), fmt_size(b3, h->memory),
			     fmt_size(b4, h->dom0_mem));
			mem_done = true;
		}
		if (!disk_done && disk > vg) {
			diag(c, pos_or(g->disk_pos, g->pos), "give the host a bigger data_disk or more 'disks'",
			     "guest disks on host '%s' need %s (up to '%s'), but its volume group "
			     "holds %s",
			     h->name, fmt_size(b1, disk), g->name ? g->name : "?", fmt_size(b2, vg));
			disk_done = true;
		}
	}
}

static void check_guest_hosts(struct ctx *c)
{
	const struct spec *s = c->s;
	char hint[128];

	for (size_t i = 0; i < s->n_guests; i++) {
		const struct spec_guest *g = &s->guests[i];

		if (g->host && !spec_find_host(s, g->host))
			diag(c, g->host_pos, name_hint(hint, g->host, s, true),
			     "guest '%s' is on host '%s', but no host has that name",
			     g->name ? g->name : "?", show(c, g->host));
	}
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].name)
			check_host_capacity(c, &s->hosts[i]);
}

/* Shared guests need the shared VG, and together must fit in it. */
void check_shared(struct ctx *c)
{
	const struct spec *s = c->s;
	uint64_t vg = pv_usable(s->shared_size), disk = 0;
	char b1[32], b2[32];

	if (s->shared_vg && s->vg && !strcmp(s->shared_vg, s->vg))
		diag(c, s->shared_pos, NULL,
		     "storage.shared.vg '%s' is also each host's own VG (storage.vg): use "
		     "another name",
		     s->shared_vg);
	for (size_t i = 0; i < s->n_guests; i++) {
		const struct spec_guest *g = &s->guests[i];

		if (!g->shared)
			continue;
		if (!s->shared_vg) {
			if (!s->shared_pos.line) /* no shared block at all, not a bad one */
				diag(c, pos_or(g->storage_pos, g->pos),
				     "add storage: {shared: {vg: shared, size: 8G}}",
				     "guest '%s' uses shared storage, but the spec has no "
				     "storage.shared",
				     g->name ? g->name : "?");
			continue;
		}
		disk = u64_add_sat(disk, lv_size(g->disk));
		if (disk > vg) {
			diag(c, pos_or(g->disk_pos, g->pos), "make storage.shared.size bigger",
			     "guest disks on the shared VG need %s (up to '%s'), but it holds %s",
			     fmt_size(b1, disk), g->name ? g->name : "?", fmt_size(b2, vg));
			return;
		}
	}
}

static void check_experiment_host(struct ctx *c, const struct spec_experiment *x,
				  const char *role, const char *host, struct spec_pos pos)
{
	char hint[128];

	if (host && !spec_find_host(c->s, host))
		diag(c, pos, name_hint(hint, host, c->s, true),
		     "experiment '%s' migrates %s host '%s', but no host has that name",
		     x->name ? x->name : "?", role, show(c, host));
}

static void check_experiment(struct ctx *c, const struct spec_experiment *x, size_t idx)
{
	const struct spec *s = c->s;
	const char *name = x->name ? x->name : "?";
	const struct spec_guest *g;
	char hint[128];

	for (size_t j = 0; x->name && j < idx; j++)
		if (s->experiments[j].name && !strcmp(s->experiments[j].name, x->name)) {
			diag(c, x->pos, NULL, "experiment name '%s' is already used at line %d",
			     x->name, s->experiments[j].pos.line);
			break;
		}
	if (x->guest) {
		g = spec_find_guest(s, x->guest);
		if (!g)
			diag(c, x->guest_pos,
			     spec_find_host(s, x->guest) ? "it is a host; 'guest' names a guest" :
							    name_hint(hint, x->guest, s, false),
			     "experiment '%s' migrates guest '%s', but no guest has that name", name,
			     show(c, x->guest));
		else if (!g->shared)
			diag(c, x->guest_pos, "give the guest 'storage: shared'",
			     "experiment '%s' migrates guest '%s', whose disk is on its host's "
			     "own VG: only a guest on shared storage can migrate",
			     name, x->guest);
	}
	check_experiment_host(c, x, "from", x->from, x->from_pos);
	check_experiment_host(c, x, "to", x->to, x->to_pos);
	if (x->from && x->to && !strcmp(x->from, x->to))
		diag(c, x->to_pos, NULL,
		     "experiment '%s' migrates from '%s' to the same host: 'from' and 'to' must "
		     "differ",
		     name, x->to);
}

const char *const spec_test_actions[] = { "save-restore", "local-migrate", "stop-start" };
const size_t spec_n_test_actions = ARRAY_SIZE(spec_test_actions);
const char *const spec_host_actions[] = { "leak-check", "xen-dmesg-clean" };
const size_t spec_n_host_actions = ARRAY_SIZE(spec_host_actions);

#define GUEST_ACTIONS "save-restore, local-migrate and stop-start"
#define HOST_ACTIONS "leak-check and xen-dmesg-clean"

static bool action_in(const char *action, const char *const *v, size_t n)
{
	for (size_t i = 0; action && i < n; i++)
		if (!strcmp(action, v[i]))
			return true;
	return false;
}

bool spec_test_is_host_check(const struct spec_test *t)
{
	return t->host && action_in(t->action, spec_host_actions, spec_n_host_actions);
}

/* An action that is not the one for this kind of target says which kind
 * it is for, and which actions this target has. */
static void check_test_action(struct ctx *c, const struct spec_test *t, const char *name,
			      bool on_host)
{
	const char *const *mine = on_host ? spec_host_actions : spec_test_actions;
	size_t n_mine = on_host ? spec_n_host_actions : spec_n_test_actions;

	if (action_in(t->action, mine, n_mine))
		return;
	if (on_host && action_in(t->action, spec_test_actions, spec_n_test_actions))
		diag(c, t->action_pos, "on a host the actions are " HOST_ACTIONS,
		     "test '%s': '%s' is a guest action: use it with 'guest', not 'host'", name,
		     t->action);
	else if (!on_host && action_in(t->action, spec_host_actions, spec_n_host_actions))
		diag(c, t->action_pos, "on a guest the actions are " GUEST_ACTIONS,
		     "test '%s': '%s' checks a whole host: use it with 'host', not 'guest'", name,
		     t->action);
	else
		diag(c, t->action_pos,
		     "the actions are " GUEST_ACTIONS " (with 'guest'), " HOST_ACTIONS
		     " (with 'host')",
		     "test '%s': no action '%s'", name, show(c, t->action));
}

/* `repeat` belongs to a guest action: a host check looks once, after the
 * run's other tests, so a second look would find the same. */
static void check_test_repeat(struct ctx *c, const struct spec_test *t, const char *name)
{
	if (!t->repeat_pos.line)
		return;
	if (!t->action)
		diag(c, t->repeat_pos, NULL, "'repeat' repeats an 'action'; test '%s' has none",
		     name);
	else if (spec_test_is_host_check(t))
		diag(c, t->repeat_pos, NULL,
		     "'repeat' repeats a guest action; host action '%s' runs once, after the "
		     "run's other tests",
		     show(c, t->action));
}

/* The host or guest a test names exists; a node of the other kind by that
 * name says which key to use. */
static void check_test_target(struct ctx *c, const struct spec_test *t, const char *name)
{
	const struct spec *s = c->s;
	bool on_host = t->host != NULL;
	const char *target = on_host ? t->host : t->guest;
	bool other = on_host ? spec_find_guest(s, target) != NULL : spec_find_host(s, target) != NULL;
	char hint[128];

	if (on_host ? spec_find_host(s, target) != NULL : spec_find_guest(s, target) != NULL)
		return;
	diag(c, on_host ? t->host_pos : t->guest_pos,
	     other ? (on_host ? "it is a guest: use 'guest:'" : "it is a host: use 'host:'") :
		     name_hint(hint, target, s, on_host),
	     on_host ? "test '%s' runs on host '%s', but no host has that name" :
		       "test '%s' watches guest '%s', but no guest has that name",
	     name, show(c, target));
}

/* A test does one thing: an `action` beside `run` (on a host) or
 * `expect_console` (on a guest) is refused. */
static bool check_test_single(struct ctx *c, const struct spec_test *t, const char *name)
{
	struct spec_pos other = t->host ? t->run_pos : t->expect_pos;

	if (!t->action_pos.line || !other.line)
		return true;
	diag(c, t->action_pos, NULL, "test '%s' has both '%s' and 'action'; make them two tests",
	     name, t->host ? "run" : "expect_console");
	return false;
}

/* What the test does, for its kind of target: a host runs a command or a
 * host action, a guest shows text on its console or takes a guest action. */
static void check_test_does(struct ctx *c, const struct spec_test *t, const char *name)
{
	bool on_host = t->host != NULL;
	struct spec_pos foreign = on_host ? t->expect_pos : t->run_pos;
	bool own = on_host ? t->run || t->run_pos.line : t->expect_console || t->expect_pos.line;

	if (foreign.line)
		diag(c, foreign, NULL, "%s",
		     on_host ? "'expect_console' watches a guest's console: use it with 'guest', "
			       "not 'host'" :
			       "'run' runs a command in a host's dom0: use it with 'host', not 'guest'");
	else if (t->action && check_test_single(c, t, name))
		check_test_action(c, t, name, on_host);
	else if (!own && !t->action_pos.line)
		diag(c, t->pos, on_host ? "the host actions are " HOST_ACTIONS : NULL,
		     "test '%s' on %s '%s' needs '%s' or 'action'", name, on_host ? "host" : "guest",
		     on_host ? t->host : t->guest, on_host ? "run" : "expect_console");
	check_test_repeat(c, t, name);
}

static void check_test(struct ctx *c, const struct spec_test *t)
{
	const char *name = t->name ? t->name : "?";

	if (t->host && t->guest) {
		diag(c, t->guest_pos, NULL,
		     "test '%s' names both 'host' and 'guest'; a test runs on one of them", name);
		return;
	}
	if (!t->host && !t->guest) {
		if (t->host_pos.line || t->guest_pos.line)
			return; /* one was given but bad: already reported */
		diag(c, t->pos, NULL,
		     "test '%s' needs either 'host' (with 'run' or a host 'action') or 'guest' "
		     "(with 'expect_console' or a guest 'action')",
		     name);
		return;
	}
	check_test_target(c, t, name);
	check_test_does(c, t, name);
}

void cross_check(struct ctx *c)
{
	check_unique_names(c);
	check_guest_hosts(c);
	check_ips(c);
	for (size_t i = 0; i < c->s->n_tests; i++)
		check_test(c, &c->s->tests[i]);
	check_shared(c);
	for (size_t i = 0; i < c->s->n_experiments; i++)
		check_experiment(c, &c->s->experiments[i], i);
}

