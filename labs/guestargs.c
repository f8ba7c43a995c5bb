/* KEY=VALUE guest arguments; the messages mirror the spec's so a key means
 * the same thing on the command line as in lab.yaml. */
#include "guestargs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "subnet.h"
#include "util.h"


struct kv {
	const char *arg; /* the whole argument, for messages */
	char *key;
	const char *value;
};

static int bad(struct xerr *e, const struct kv *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct xerr *e, const struct kv *a, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xerr_set(e, XERR_USAGE, "argument '%s': %s", a->arg, msg);
}

static int set_size(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	struct xerr se = { 0 };
	uint64_t v;

	if (size_parse(a->value, &v, &se) < 0)
		return bad(e, a, "'%s': %s", a->key, se.msg);
	if (v > spec_size_max(a->key))
		return bad(e, a, "'%s' is more than %s can hold", a->key,
			   spec_size_max(a->key) == SPEC_MEM_MAX ? "Xen" : "an LVM volume");
	if (!strcmp(a->key, "memory"))
		g->memory = v;
	else if (!strcmp(a->key, "swap"))
		g->swap = v;
	else
		g->disk = v;
	return 0;
}

static int set_vcpus(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	const char *p = a->value;
	long long x;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return bad(e, a, "'vcpus' must be an integer, not '%s'", a->value);
	errno = 0;
	x = strtoll(a->value, &end, 10);
	if (errno || x < 1 || x > SPEC_MAX_VCPUS)
		return bad(e, a, "'vcpus' must be between 1 and %d, not %s", SPEC_MAX_VCPUS,
			   a->value);
	g->vcpus = (int)x;
	return 0;
}

static int set_ip(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	struct in_addr in;

	if (inet_pton(AF_INET, a->value, &in) != 1)
		return bad(e, a, "'%s' is not an IPv4 address like 10.80.0.60 (ip)", a->value);
	free(g->ip);
	g->ip = xstrdup(a->value);
	return 0;
}

static int set_rootfs(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	if (!spec_rootfs_valid(a->value))
		return bad(e, a, "'rootfs' must be " SPEC_ROOTFS_KINDS ", not '%s'", a->value);
	free(g->rootfs);
	g->rootfs = xstrdup(a->value);
	return 0;
}

static int xl_render(const struct kv *a, const char *key, char **out, struct xerr *e)
{
	struct buf b = { 0 };
	int ch = spec_xl_scalar(&b, a->value, true);

	if (ch) {
		buf_free(&b);
		return bad(e, a, "xl key '%s' holds a control character (0x%02x)", key, ch);
	}
	*out = buf_steal(&b);
	return 0;
}

static int set_xl(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	const char *key = a->key + 3, *hint;
	char *value = NULL;

	if (!spec_xl_key_valid(key))
		return bad(e, a, "'%s' is not an xl.cfg key (a-z, 0-9 and '_')", key);
	hint = spec_xl_key_owned(key);
	if (hint)
		return bad(e, a, "xl key '%s' is set by xlab and cannot be given; %s", key, hint);
	hint = spec_xl_key_refused(key);
	if (hint)
		return bad(e, a, "xl key '%s' is not supported by xlab guests; %s", key, hint);
	if (xl_render(a, key, &value, e) < 0)
		return -1;
	/* A key read from an xl.cfg (--from-xl; it has a line) is overridden;
	 * one given twice on the command line is a mistake. */
	for (size_t i = 0; i < g->n_xl; i++) {
		if (strcmp(g->xl[i].key, key))
			continue;
		if (!g->xl[i].pos.line) {
			free(value);
			return bad(e, a, "xl key '%s' is given twice", key);
		}
		free(g->xl[i].value);
		g->xl[i].value = value;
		g->xl[i].pos = (struct spec_pos){ 0 };
		return 0;
	}
	g->xl = xrealloc(g->xl, (g->n_xl + 1) * sizeof(*g->xl));
	g->xl[g->n_xl++] = (struct spec_kv){ .key = xstrdup(key), .value = value };
	return 0;
}

static int set_vnc(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	if (strcmp(a->value, "true") && strcmp(a->value, "false"))
		return bad(e, a, "'vnc' must be true or false, not '%s'", a->value);
	g->vnc = !strcmp(a->value, "true");
	return 0;
}

static int set_type(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	if (spec_guest_type_parse(a->value, &g->type) < 0)
		return bad(e, a, "'type' must be pv, pvh or hvm, not '%s'", a->value);
	return 0;
}

static int set_hotplug(struct spec_guest *g, const struct kv *a, struct xerr *e)
{
	if (strcmp(a->value, "xlab") && strcmp(a->value, "xen"))
		return bad(e, a, "'hotplug' must be xlab or xen, not '%s'", a->value);
	g->xen_hotplug = !strcmp(a->value, "xen");
	return 0;
}

static const struct {
	const char *key;
	int (*set)(struct spec_guest *g, const struct kv *a, struct xerr *e);
} keys[] = {
	{ "memory", set_size }, { "disk", set_size },	  { "vcpus", set_vcpus },
	{ "ip", set_ip },	{ "rootfs", set_rootfs }, { "swap", set_size },
	{ "vnc", set_vnc },	{ "type", set_type },	  { "hotplug", set_hotplug },
};

static int apply_one(struct spec_guest *g, const char *arg, char **seen, size_t n_seen,
		     struct xerr *e)
{
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *key = eq ? xstrndup(arg, (size_t)(eq - arg)) : NULL;
	struct kv a = { .arg = arg, .key = key, .value = eq ? eq + 1 : NULL };

	if (!eq || eq == arg)
		return bad(e, &a, "expected KEY=VALUE (keys: " GUEST_ARGS_KEYS ")");
	if (!*a.value)
		return bad(e, &a, "'%s' needs a value", key);
	if (!strncmp(key, "xl.", 3))
		return set_xl(g, &a, e);
	for (size_t i = 0; i < n_seen; i++)
		if (!strcmp(seen[i], key))
			return bad(e, &a, "'%s' is given twice", key);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].key, key))
			return keys[i].set(g, &a, e);
	if (!strcmp(key, "name") || !strcmp(key, "host"))
		return bad(e, &a, "'%s' is given as `xlab guest create LAB NAME --host HOST`", key);
	return bad(e, &a, "unknown key '%s' (keys: " GUEST_ARGS_KEYS ")", key);
}

int guest_args_init(struct spec_guest *g, const char *name, const char *host, struct xerr *e)
{
	*g = (struct spec_guest){ .memory = 128ull << 20, .disk = 256ull << 20, .vcpus = 1 };
	if (!spec_name_valid(name))
		return xerr_set(e, XERR_USAGE,
				"'%s' is not a valid guest name: use a lower-case DNS label (a-z, "
				"0-9 and '-', at most 63, not starting or ending with '-')",
				name);
	if (names_guest_reserved(name))
		return xerr_set(e, XERR_USAGE,
				"guest name '%s' ends in '-swap', which names another guest's "
				"swap volume; choose another name",
				name);
	g->name = xstrdup(name);
	g->host = xstrdup(host);
	g->rootfs = xstrdup("busybox");
	return 0;
}

int guest_args_apply(struct spec_guest *g, char *const *args, size_t n, struct xerr *e)
{
	_cleanup_free_ char **seen = xcalloc(n + 1, sizeof(char *));
	size_t n_seen = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *eq = strchr(args[i], '=');

		rc = apply_one(g, args[i], seen, n_seen, e);
		if (rc == 0 && eq && strncmp(args[i], "xl.", 3))
			seen[n_seen++] = xstrndup(args[i], (size_t)(eq - args[i]));
	}
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	return rc;
}

void guest_args_free(struct spec_guest *g)
{
	spec_guest_clear(g);
	memset(g, 0, sizeof(*g));
}

void guest_args_copy(struct spec_guest *c, const struct spec_guest *g)
{
	*c = *g;
	c->name = xstrdup(g->name);
	c->host = xstrdup(g->host);
	c->rootfs = xstrdup(g->rootfs);
	c->ip = g->ip ? xstrdup(g->ip) : NULL;
	c->xl = g->n_xl ? xcalloc(g->n_xl, sizeof(*c->xl)) : NULL;
	for (size_t i = 0; i < g->n_xl; i++)
		c->xl[i] = (struct spec_kv){ xstrdup(g->xl[i].key), xstrdup(g->xl[i].value),
					     g->xl[i].pos };
}

void guest_args_append(struct spec *s, const struct spec_guest *g)
{
	s->guests = xrealloc(s->guests, (s->n_guests + 1) * sizeof(*s->guests));
	guest_args_copy(&s->guests[s->n_guests++], g);
}

static uint32_t ip_value(const char *s)
{
	struct in_addr in;

	return inet_pton(AF_INET, s, &in) == 1 ? ntohl(in.s_addr) : 0;
}

int guest_ip_check(const struct plan *p, const struct plan_guest *pg, struct xerr *e)
{
	struct cidr net;
	uint32_t ip = ip_value(pg->ip), mask, bcast;

	if (cidr_parse(p->subnet, &net, e) < 0)
		return -1;
	mask = net.prefix ? 0xffffffffu << (32 - net.prefix) : 0;
	bcast = net.addr | ~mask;
	if ((ip & mask) != net.addr || ip == net.addr || ip == bcast || ip == net.addr + 1)
		return xerr_set(e, XERR_USAGE,
				"ip %s of guest '%s' is not a usable address of the lab subnet %s "
				"(the network, gateway .1 and broadcast are taken)",
				pg->ip, pg->spec->name, p->subnet);
	for (size_t i = 0; i < p->n_hosts; i++)
		if (ip_value(p->hosts[i].ip) == ip)
			return xerr_set(e, XERR_USAGE, "ip %s of guest '%s' is host '%s''s",
					pg->ip, pg->spec->name, p->hosts[i].spec->name);
	for (size_t i = 0; i < p->n_guests; i++)
		if (&p->guests[i] != pg && ip_value(p->guests[i].ip) == ip)
			return xerr_set(e, XERR_USAGE,
					"ip %s of guest '%s' is already guest '%s''s", pg->ip,
					pg->spec->name, p->guests[i].spec->name);
	return 0;
}

int guest_args_plan(struct spec *s, const struct plan_env *env, const struct spec_guest *hand,
		    size_t n_hand, struct plan **out, struct xerr *e)
{
	struct plan *p = NULL;

	if (plan_build(s, env, &p, e) < 0)
		return -1;
	for (size_t i = 0; i < s->n_hosts; i++)
		if (!s->hosts[i].ip)
			s->hosts[i].ip = xstrdup(p->hosts[i].ip);
	for (size_t i = 0; i < s->n_guests; i++)
		if (!s->guests[i].ip)
			s->guests[i].ip = xstrdup(p->guests[i].ip);
	plan_free(p);
	for (size_t i = 0; i < n_hand; i++)
		guest_args_append(s, &hand[i]);
	/* The same rule as in a spec file: a guest the hosts cannot hold is
	 * refused here, not by xl in the dom0. */
	if (n_hand && spec_check_capacity(s, e) < 0)
		return -1;
	if (plan_build(s, env, &p, e) < 0)
		return -1;
	if (n_hand && guest_ip_check(p, &p->guests[p->n_guests - 1], e) < 0) {
		plan_free(p);
		return -1;
	}
	*out = p;
	return 0;
}
