/* The spec's blocks as tables of keys: hosts, guests (and their xl keys),
 * tests, defaults, network, storage, experiments, matrix, class, the top. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "subnet.h"
#include "spec_int.h"

/* ---- blocks ---- */

static void read_disks(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec_host *h = base;

	(void)k;
	h->disks_pos = v->pos;
	if (v->bad)
		return;
	if (v->kind != Y_SEQ) {
		diag(c, v->pos, "write it like [4G, 8G]", "'disks' must be a sequence of sizes, not %s",
		     kind_name(v));
		return;
	}
	if (v->n > MAX_DISKS) {
		diag(c, v->pos, NULL, "%zu extra disks; at most %d are allowed", v->n, MAX_DISKS);
		return;
	}
	free(h->disks);
	h->disks = xcalloc(v->n + 1, sizeof(*h->disks));
	h->n_disks = 0;
	for (size_t i = 0; i < v->n; i++)
		if (read_size(c, "disks", v->kids[i], &h->disks[h->n_disks]))
			h->n_disks++;
}

static bool xen_version_ok(struct ctx *c, const char *key, const struct ynode *v);

static void read_host_xen(struct ctx *c, const struct ynode *k, const struct ynode *v,
			  void *base)
{
	struct spec_host *h = base;

	(void)k;
	h->xen_pos = v->pos;
	if (xen_version_ok(c, "xen", v))
		h->xen = xstrdup(v->text);
}

static const struct field host_fields[] = {
	{ "name", F_STR, AT(struct spec_host, name), POS(struct spec_host, pos),
	  REQUIRED | NO_DEFAULT, .check = check_name },
	{ "memory", F_SIZE, AT(struct spec_host, memory), POS(struct spec_host, memory_pos) },
	{ "vcpus", F_INT, AT(struct spec_host, vcpus), POS(struct spec_host, vcpus_pos), 0, 1,
	  MAX_VCPUS },
	{ "dom0_mem", F_SIZE, AT(struct spec_host, dom0_mem), POS(struct spec_host, dom0_mem_pos) },
	{ "dom0_vcpus", F_INT, AT(struct spec_host, dom0_vcpus), POS(struct spec_host, dom0_vcpus_pos),
	  0, 1, MAX_VCPUS },
	{ "data_disk", F_SIZE, AT(struct spec_host, data_disk), NOPOS },
	{ "disks", F_FN, 0, NOPOS, NO_DEFAULT, .fn = read_disks },
	{ "ip", F_STR, AT(struct spec_host, ip), POS(struct spec_host, ip_pos), NO_DEFAULT,
	  .check = check_ip },
	{ "xen", F_FN, 0, NOPOS, NO_DEFAULT, .fn = read_host_xen },
	{ "image", F_STR, AT(struct spec_host, image), POS(struct spec_host, image_pos), NO_DEFAULT,
	  .check = check_image },
	{ "server", F_STR, AT(struct spec_host, server), NOPOS, NO_DEFAULT, .check = check_server },
	{ "xen_args", F_STR, AT(struct spec_host, xen_args), NOPOS, 0, .check = check_xen_args },
};

/* A guest key with two words: *out is whether it says `yes` (the other is
 * `no`); anything else is a diagnostic, with `hint` when there is one. */
static void read_guest_either(struct ctx *c, const char *key, const struct ynode *v,
			      const char *yes, const char *no, const char *hint, bool *out)
{
	_cleanup_free_ char *both = xasprintf("'%s' or '%s'", yes, no);

	if (!want_scalar(c, key, v, both))
		return;
	if (strcmp(v->text, yes) && strcmp(v->text, no)) {
		diag(c, v->pos, hint, "a guest's '%s' must be %s, not '%s'", key, both,
		     show(c, v->text));
		return;
	}
	*out = !strcmp(v->text, yes);
}

/* `storage: shared` puts the guest's LV on the shared VG (so it can
 * migrate); `local`, the default, on its host's own VG. */
static void read_guest_storage(struct ctx *c, const struct ynode *k, const struct ynode *v,
			       void *base)
{
	struct spec_guest *g = base;

	(void)k;
	g->storage_pos = v->pos;
	read_guest_either(c, "storage", v, "shared", "local", NULL, &g->shared);
}

static void read_bool(struct ctx *c, const char *key, const struct ynode *v, bool *out);

static void read_guest_vnc(struct ctx *c, const struct ynode *k, const struct ynode *v,
			   void *base)
{
	struct spec_guest *g = base;

	(void)k;
	g->vnc_pos = v->pos;
	read_bool(c, "vnc", v, &g->vnc);
}

static void read_guest_type(struct ctx *c, const struct ynode *k, const struct ynode *v,
			    void *base)
{
	struct spec_guest *g = base;

	(void)k;
	g->type_pos = v->pos;
	if (!want_scalar(c, "type", v, "'pv', 'pvh' or 'hvm'"))
		return;
	if (spec_guest_type_parse(v->text, &g->type) < 0)
		diag(c, v->pos, NULL, "a guest's 'type' must be 'pv', 'pvh' or 'hvm', not '%s'",
		     show(c, v->text));
}

static void read_guest_hotplug(struct ctx *c, const struct ynode *k, const struct ynode *v,
			       void *base)
{
	struct spec_guest *g = base;

	(void)k;
	g->hotplug_pos = v->pos;
	read_guest_either(c, "hotplug", v, "xen", "xlab",
			  "'xen' runs Xen's own block and vif-bridge scripts, 'xlab' (the "
			  "default) xlab's lean ones",
			  &g->xen_hotplug);
}

static const struct field guest_fields[] = {
	{ "name", F_STR, AT(struct spec_guest, name), POS(struct spec_guest, pos),
	  REQUIRED | NO_DEFAULT, .check = check_guest_name },
	{ "host", F_STR, AT(struct spec_guest, host), POS(struct spec_guest, host_pos),
	  REQUIRED | NO_DEFAULT },
	{ "memory", F_SIZE, AT(struct spec_guest, memory), POS(struct spec_guest, memory_pos) },
	{ "vcpus", F_INT, AT(struct spec_guest, vcpus), POS(struct spec_guest, vcpus_pos), 0, 1,
	  MAX_VCPUS },
	{ "disk", F_SIZE, AT(struct spec_guest, disk), POS(struct spec_guest, disk_pos) },
	{ "rootfs", F_STR, AT(struct spec_guest, rootfs), POS(struct spec_guest, rootfs_pos),
	  .check = check_rootfs },
	{ "ip", F_STR, AT(struct spec_guest, ip), POS(struct spec_guest, ip_pos), NO_DEFAULT,
	  .check = check_ip },
	{ "xl", F_FN, 0, NOPOS, NO_DEFAULT, .fn = read_xl },
	{ "storage", F_FN, 0, NOPOS, .fn = read_guest_storage },
	{ "swap", F_SIZE, AT(struct spec_guest, swap), POS(struct spec_guest, swap_pos) },
	{ "vnc", F_FN, 0, NOPOS, .fn = read_guest_vnc },
	{ "type", F_FN, 0, NOPOS, .fn = read_guest_type },
	{ "hotplug", F_FN, 0, NOPOS, .fn = read_guest_hotplug },
};

static const struct field test_fields[] = {
	{ "name", F_STR, AT(struct spec_test, name), POS(struct spec_test, pos), REQUIRED,
	  .check = check_name },
	{ "host", F_STR, AT(struct spec_test, host), POS(struct spec_test, host_pos) },
	{ "guest", F_STR, AT(struct spec_test, guest), POS(struct spec_test, guest_pos) },
	{ "run", F_STRV, AT(struct spec_test, run), POS(struct spec_test, run_pos) },
	{ "expect_console", F_STR, AT(struct spec_test, expect_console),
	  POS(struct spec_test, expect_pos) },
	{ "action", F_STR, AT(struct spec_test, action), POS(struct spec_test, action_pos) },
	{ "repeat", F_INT, AT(struct spec_test, repeat), POS(struct spec_test, repeat_pos), 0, 1,
	  100 },
	{ "timeout_s", F_INT, AT(struct spec_test, timeout_s), NOPOS, 0, 1, 86400 },
};

static void defaults_host(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k, (void)base;
	walk_map(c, v, "defaults.host", host_fields, ARRAY_SIZE(host_fields), &c->host_tpl, true);
}

static void defaults_guest(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k, (void)base;
	walk_map(c, v, "defaults.guest", guest_fields, ARRAY_SIZE(guest_fields), &c->guest_tpl,
		 true);
}

static const struct field defaults_fields[] = {
	{ "host", F_FN, 0, NOPOS, .fn = defaults_host },
	{ "guest", F_FN, 0, NOPOS, .fn = defaults_guest },
};

/* Inherited values carry no position: errors about them point at the
 * entry's name instead of at the defaults block. */
static void host_init(struct ctx *c, struct spec_host *h)
{
	*h = (struct spec_host){ .memory = c->host_tpl.memory,
				 .dom0_mem = c->host_tpl.dom0_mem,
				 .data_disk = c->host_tpl.data_disk,
				 .vcpus = c->host_tpl.vcpus,
				 .dom0_vcpus = c->host_tpl.dom0_vcpus,
				 .xen_args = c->host_tpl.xen_args ? xstrdup(c->host_tpl.xen_args) : NULL };
}

static void guest_init(struct ctx *c, struct spec_guest *g)
{
	*g = (struct spec_guest){ .memory = c->guest_tpl.memory,
				  .disk = c->guest_tpl.disk,
				  .vcpus = c->guest_tpl.vcpus,
				  .rootfs = xstrdup(c->guest_tpl.rootfs),
				  .shared = c->guest_tpl.shared,
				  .swap = c->guest_tpl.swap,
				  .vnc = c->guest_tpl.vnc,
				  .type = c->guest_tpl.type,
				  .xen_hotplug = c->guest_tpl.xen_hotplug };
}

/* A list block: a sequence of mappings, each read through `t`. */
static bool want_list(struct ctx *c, const struct ynode *k, const struct ynode *v, size_t max)
{
	if (v->bad)
		return false;
	if (v->kind != Y_SEQ) {
		diag(c, is_null(v) ? k->pos : v->pos, "write one '- name: ...' entry per line",
		     "'%s' must be a sequence, not %s", k->text, kind_name(v));
		return false;
	}
	if (v->n > max) {
		diag(c, v->pos, NULL, "%zu %s; at most %zu are allowed", v->n, k->text, max);
		return false;
	}
	return true;
}

static bool want_entry(struct ctx *c, const struct ynode *item, const char *what)
{
	if (item->bad)
		return false;
	if (item->kind == Y_MAP)
		return true;
	if (item->kind == Y_SCALAR && !is_null(item)) {
		char hint[128];

		snprintf(hint, sizeof(hint), "write '- name: %s'", show(c, item->text));
		diag(c, item->pos, hint, "each entry of '%s' is a mapping with 'name', not a scalar",
		     what);
	} else {
		diag(c, item->pos, NULL, "each entry of '%s' is a mapping with 'name', not %s", what,
		     kind_name(item));
	}
	return false;
}

static void read_hosts(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_HOSTS))
		return;
	if (v->n == 0)
		diag(c, v->pos, NULL, "'hosts' must list at least one host");
	s->hosts = xcalloc(v->n + 1, sizeof(*s->hosts));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_host *h = &s->hosts[s->n_hosts];

		if (!want_entry(c, v->kids[i], "hosts"))
			continue;
		host_init(c, h);
		h->pos = v->kids[i]->pos;
		s->n_hosts++;
		walk_map(c, v->kids[i], "a host", host_fields, ARRAY_SIZE(host_fields), h, false);
	}
}

static void read_guests(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_GUESTS))
		return;
	s->guests = xcalloc(v->n + 1, sizeof(*s->guests));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_guest *g = &s->guests[s->n_guests];

		if (!want_entry(c, v->kids[i], "guests"))
			continue;
		guest_init(c, g);
		g->pos = v->kids[i]->pos;
		s->n_guests++;
		walk_map(c, v->kids[i], "a guest", guest_fields, ARRAY_SIZE(guest_fields), g,
			 false);
	}
}

static void read_tests(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_TESTS))
		return;
	s->tests = xcalloc(v->n + 1, sizeof(*s->tests));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_test *t = &s->tests[s->n_tests];

		if (!want_entry(c, v->kids[i], "tests"))
			continue;
		*t = (struct spec_test){ .timeout_s = 120, .repeat = 1, .pos = v->kids[i]->pos };
		s->n_tests++;
		walk_map(c, v->kids[i], "a test", test_fields, ARRAY_SIZE(test_fields), t, false);
	}
}

static void read_subnet(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;
	struct xerr e = { 0 };
	struct cidr cidr;

	s->subnet_pos = is_null(v) ? k->pos : v->pos;
	if (!want_scalar(c, "subnet", v, "an IPv4 CIDR like 10.80.0.0/24"))
		return;
	if (cidr_parse(v->text, &cidr, &e) < 0) {
		diag(c, v->pos, NULL, "subnet: %s", show(c, e.msg));
		return;
	}
	if (cidr.prefix < 16 || cidr.prefix > 29) {
		diag(c, v->pos, NULL, "subnet '%s': the prefix must be between /16 and /29",
		     show(c, v->text));
		return;
	}
	if (cidr_reserved(&cidr)) {
		diag(c, v->pos, "use a private range such as 10.80.0.0/24 or 192.168.80.0/24",
		     "subnet '%s' overlaps %s, which cannot be a lab network", show(c, v->text),
		     cidr_reserved(&cidr));
		return;
	}
	s->subnet = xstrdup(v->text);
	s->net_addr = cidr.addr;
	s->net_prefix = cidr.prefix;
}

static const struct field network_fields[] = {
	{ "subnet", F_FN, 0, NOPOS, .fn = read_subnet },
};

static const struct field shared_fields[] = {
	{ "vg", F_STR, AT(struct spec, shared_vg), NOPOS, REQUIRED, .check = check_vg },
	{ "size", F_SIZE, AT(struct spec, shared_size), NOPOS, REQUIRED },
};

/* storage.shared: one disk attached to every host, holding one VG. */
static void read_shared(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	(void)k;
	s->shared_pos = v->pos;
	walk_map(c, v, "storage.shared", shared_fields, ARRAY_SIZE(shared_fields), base, false);
	if (s->shared_vg && s->shared_size < 2 * LVM_META)
		diag(c, v->pos, NULL, "storage.shared.size must be at least 8M");
}

static const struct field storage_fields[] = {
	{ "vg", F_STR, AT(struct spec, vg), NOPOS, .check = check_vg },
	{ "shared", F_FN, 0, NOPOS, .fn = read_shared },
};

/* ---- experiments ---- */

static void read_bool(struct ctx *c, const char *key, const struct ynode *v, bool *out)
{
	if (!want_scalar(c, key, v, "true or false"))
		return;
	if (v->plain && !strcmp(v->text, "true"))
		*out = true;
	else if (v->plain && !strcmp(v->text, "false"))
		*out = false;
	else
		diag(c, v->pos, v->plain ? NULL : "remove the quotes",
		     "'%s' must be true or false, not '%s'", key, show(c, v->text));
}

static void read_back_and_forth(struct ctx *c, const struct ynode *k, const struct ynode *v,
				void *base)
{
	(void)k;
	read_bool(c, "back_and_forth", v, &((struct spec_experiment *)base)->back_and_forth);
}

static void read_on_failure(struct ctx *c, const struct ynode *k, const struct ynode *v,
			    void *base)
{
	struct spec_experiment *x = base;

	(void)k;
	if (!want_scalar(c, "on_failure", v, "'stop' or 'continue'"))
		return;
	if (!strcmp(v->text, "stop"))
		x->on_failure = SPEC_ON_FAILURE_STOP;
	else if (!strcmp(v->text, "continue"))
		x->on_failure = SPEC_ON_FAILURE_CONTINUE;
	else
		diag(c, v->pos, NULL, "'on_failure' must be 'stop' or 'continue', not '%s'",
		     show(c, v->text));
}

static const struct field migrate_fields[] = {
	{ "guest", F_STR, AT(struct spec_experiment, guest), POS(struct spec_experiment, guest_pos),
	  REQUIRED },
	{ "from", F_STR, AT(struct spec_experiment, from), POS(struct spec_experiment, from_pos),
	  REQUIRED },
	{ "to", F_STR, AT(struct spec_experiment, to), POS(struct spec_experiment, to_pos),
	  REQUIRED },
};

static void read_migrate(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "'migrate'", migrate_fields, ARRAY_SIZE(migrate_fields), base, false);
}

static const struct field probe_fields[] = {
	{ "ping_ms", F_INT, AT(struct spec_experiment, ping_ms), NOPOS, REQUIRED, PING_MS_MIN,
	  PING_MS_MAX },
};

static void read_probe(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "'probe'", probe_fields, ARRAY_SIZE(probe_fields), base, false);
}

static const struct field experiment_fields[] = {
	{ "name", F_STR, AT(struct spec_experiment, name), POS(struct spec_experiment, pos),
	  REQUIRED, .check = check_name },
	{ "migrate", F_FN, 0, POS(struct spec_experiment, migrate_pos), REQUIRED,
	  .fn = read_migrate },
	{ "rounds", F_INT, AT(struct spec_experiment, rounds), NOPOS, 0, 1, MAX_ROUNDS },
	{ "back_and_forth", F_FN, 0, NOPOS, .fn = read_back_and_forth },
	{ "probe", F_FN, 0, NOPOS, .fn = read_probe },
	{ "on_failure", F_FN, 0, NOPOS, .fn = read_on_failure },
};

static void read_experiments(struct ctx *c, const struct ynode *k, const struct ynode *v,
			     void *base)
{
	struct spec *s = base;

	if (!want_list(c, k, v, MAX_EXPERIMENTS))
		return;
	s->experiments = xcalloc(v->n + 1, sizeof(*s->experiments));
	for (size_t i = 0; i < v->n; i++) {
		struct spec_experiment *x = &s->experiments[s->n_experiments];

		if (!want_entry(c, v->kids[i], "experiments"))
			continue;
		*x = (struct spec_experiment){ .rounds = 1, .ping_ms = 20, .pos = v->kids[i]->pos };
		s->n_experiments++;
		walk_map(c, v->kids[i], "an experiment", experiment_fields,
			 ARRAY_SIZE(experiment_fields), x, false);
	}
}

/* A Xen version ("4.17") for `xen:` and `matrix.xen`; diagnoses and returns
 * false when it is not one. */
static bool xen_version_ok(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *t = v->text, *dot;
	bool ok;

	if (!want_scalar(c, key, v, "a version string like \"4.17\""))
		return false;
	dot = strchr(t, '.');
	ok = dot && dot > t && dot[1] && strspn(t, "0123456789") == (size_t)(dot - t) &&
	     strspn(dot + 1, "0123456789") == strlen(dot + 1);
	/* Unquoted 4.17 is a YAML float: take it only when the text cannot
	 * have lost anything (4.1 may have been meant as 4.10). */
	if (ok && v->plain)
		ok = strlen(t) == 4 && dot == t + 1;
	if (!ok) {
		char hint[128];

		snprintf(hint, sizeof(hint), "quote it: xen: \"%s\"", show(c, t));
		diag(c, v->pos, v->plain ? hint : NULL,
		     "'%s' must be a version string like \"4.17\", not %s'%s'", key,
		     v->plain ? "the number " : "", show(c, t));
		return false;
	}
	return true;
}

static void read_xen(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec *s = base;

	(void)k;
	s->xen_pos = v->pos;
	if (xen_version_ok(c, "xen", v))
		s->xen = xstrdup(v->text);
}

/* matrix.xen: the versions `xlab matrix` runs the lab on, each once. */
static void read_matrix_xen(struct ctx *c, const struct ynode *k, const struct ynode *v,
			    void *base)
{
	struct spec *s = base;
	size_t n = 0;

	s->matrix_pos = is_null(v) ? k->pos : v->pos;
	if (v->bad)
		return;
	if (v->kind != Y_SEQ || v->n == 0) {
		diag(c, s->matrix_pos, "write it like xen: [\"4.17\", \"4.20\"]",
		     "'matrix.xen' must be a non-empty sequence of versions, not %s",
		     v->kind == Y_SEQ ? "an empty one" : kind_name(v));
		return;
	}
	strv_free(s->matrix_xen);
	s->matrix_xen = xcalloc(v->n + 1, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *item = v->kids[i];
		bool dup = false;

		if (item->bad || !xen_version_ok(c, "matrix.xen", item))
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup || !strcmp(s->matrix_xen[j], item->text);
		if (dup) {
			diag(c, item->pos, NULL, "Xen %s is listed twice in matrix.xen",
			     show(c, item->text));
			continue;
		}
		s->matrix_xen[n++] = xstrdup(item->text);
	}
}

static const struct field matrix_fields[] = {
	{ "xen", F_FN, 0, NOPOS, .fn = read_matrix_xen },
};

static void read_matrix(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "matrix", matrix_fields, ARRAY_SIZE(matrix_fields), base, false);
}

static void read_network(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "network", network_fields, ARRAY_SIZE(network_fields), base, false);
}

static void read_storage(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "storage", storage_fields, ARRAY_SIZE(storage_fields), base, false);
}

static void read_defaults(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "defaults", defaults_fields, ARRAY_SIZE(defaults_fields), base, false);
}

/* A spec names its students' list next to itself: an absolute path or ".."
 * would let a spec from elsewhere read (and quote in an error) any file. */
static bool check_students(struct ctx *c, const char *key, const struct ynode *v)
{
	const char *s = v->text;
	bool ok = s[0] != '/';

	for (const char *p = s; ok && *p;) {
		size_t n = strcspn(p, "/");

		ok = !(n == 2 && p[0] == '.' && p[1] == '.');
		p += n + (p[n] == '/');
	}
	if (!ok)
		diag(c, v->pos, "put the list next to the spec, or pass --students FILE",
		     "%s '%s' must be a path inside the spec's directory", key, show(c, s));
	return ok;
}

/* class: what `xlab class up` makes of the lab: copies, students' names. */
static const struct field class_fields[] = {
	{ "copies", F_INT, AT(struct spec, class_copies), POS(struct spec, class_pos), 0, 1,
	  999 },
	{ "students", F_STR, AT(struct spec, class_students), NOPOS, .check = check_students },
};

static void read_class(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	(void)k;
	walk_map(c, v, "class", class_fields, ARRAY_SIZE(class_fields), base, false);
}

/* Table order is reading order: defaults before hosts and guests. */
const struct field top_fields[] = {
	{ "lab", F_STR, AT(struct spec, lab), POS(struct spec, lab_pos), REQUIRED,
	  .check = check_name },
	{ "xen", F_FN, 0, NOPOS, .fn = read_xen },
	{ "image", F_STR, AT(struct spec, image), POS(struct spec, image_pos), .check = check_image },
	{ "libvirt", F_STR, AT(struct spec, libvirt_uri), NOPOS, .check = check_libvirt },
	{ "server", F_STR, AT(struct spec, server), NOPOS, .check = check_server },
	{ "network", F_FN, 0, NOPOS, .fn = read_network },
	{ "storage", F_FN, 0, NOPOS, .fn = read_storage },
	{ "defaults", F_FN, 0, NOPOS, .fn = read_defaults },
	{ "hosts", F_FN, 0, NOPOS, REQUIRED, .fn = read_hosts },
	{ "guests", F_FN, 0, NOPOS, .fn = read_guests },
	{ "tests", F_FN, 0, NOPOS, .fn = read_tests },
	{ "experiments", F_FN, 0, NOPOS, .fn = read_experiments },
	{ "matrix", F_FN, 0, NOPOS, .fn = read_matrix },
	{ "class", F_FN, 0, NOPOS, .fn = read_class },
};
const size_t top_fields_n = ARRAY_SIZE(top_fields);

