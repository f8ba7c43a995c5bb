/* xl.cfg keys onto the guest model. xlab boots every guest the same way
 * (pv, pvh or hvm: the image's guest kernel booted directly, one root LV
 * /dev/VG/NAME as xvda, an optional NAME-swap as xvdb, one vif on xenbr0
 * with a MAC made from the lab and guest names), so a file is adopted only
 * where it says the same; a key that asks for more
 * (passthrough, another kernel, a file disk) is refused rather than
 * silently dropped. */
#include "guestxl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan.h"
#include "util.h"
#include "xlcfg.h"
#include "xldev.h"

struct ctx {
	struct spec_guest *g;
	const struct guest_xl_env *env;
	const char *path;
	struct xerr *e;
};

static int at(const struct ctx *c, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int at(const struct ctx *c, int line, const char *key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xerr_set(c->e, XERR_USAGE, "%s:%d: key '%s': %s", c->path, line, key, msg);
}

static int unsupported(const struct ctx *c, const struct xlcfg_entry *en)
{
	return xerr_set(c->e, XERR_USAGE,
			"%s:%d: key '%s' is not supported by xlab guests; remove it or create "
			"the guest with KEY=VALUE",
			c->path, en->line, en->key);
}

static int want(const struct ctx *c, const struct xlcfg_entry *en, enum xlcfg_type t)
{
	static const char *const names[] = { "a string", "a number", "a list" };

	if (en->type == t)
		return 0;
	return at(c, en->line, en->key, "must be %s", names[t]);
}

static int number_in(const struct ctx *c, const struct xlcfg_entry *en, long long lo,
		     long long hi, long long *out)
{
	char *end;

	if (want(c, en, XLCFG_NUMBER) < 0)
		return -1;
	errno = 0;
	*out = strtoll(en->value, &end, 0);
	if (errno || *end || *out < lo || *out > hi)
		return at(c, en->line, en->key, "must be between %lld and %lld, not %s", lo, hi,
			  en->value);
	return 0;
}

static int set_name(const struct ctx *c, const struct xlcfg_entry *en)
{
	if (want(c, en, XLCFG_STRING) < 0)
		return -1;
	if (strcmp(en->value, c->g->name))
		return at(c, en->line, en->key,
			  "'%s' differs from the guest's name '%s' on the command line; make them "
			  "the same or remove 'name'",
			  en->value, c->g->name);
	return 0;
}

static int set_type(const struct ctx *c, const struct xlcfg_entry *en)
{
	if (want(c, en, XLCFG_STRING) < 0)
		return -1;
	if (spec_guest_type_parse(en->value, &c->g->type) < 0)
		return at(c, en->line, en->key, "xlab guests are pv, pvh or hvm, not '%s'",
			  en->value);
	return 0;
}

static int set_memory(const struct ctx *c, const struct xlcfg_entry *en)
{
	long long mib;

	if (number_in(c, en, 1, 1ll << 24, &mib) < 0)
		return -1;
	c->g->memory = (uint64_t)mib << 20;
	return 0;
}

static int set_vcpus(const struct ctx *c, const struct xlcfg_entry *en)
{
	long long n;

	if (number_in(c, en, 1, SPEC_MAX_VCPUS, &n) < 0)
		return -1;
	c->g->vcpus = (int)n;
	return 0;
}

/* kernel and ramdisk: the image's guest kit is the only one in every dom0.
 * Its vmlinux is the same kernel unpacked (what a kept config names). */
static int set_kit(const struct ctx *c, const struct xlcfg_entry *en)
{
	bool kernel = !strcmp(en->key, "kernel");
	const char *kit = kernel ? PLAN_GUEST_KIT "/vmlinuz" : PLAN_GUEST_KIT "/initrd.img";

	if (want(c, en, XLCFG_STRING) < 0)
		return -1;
	if (kernel && !strcmp(en->value, PLAN_GUEST_KIT "/vmlinux"))
		return 0;
	if (strcmp(en->value, kit))
		return at(c, en->line, en->key,
			  "'%s' is not the lab's guest %s %s: xlab guests boot the image's "
			  "kernel; remove '%s' or set it to %s",
			  en->value, en->key, kit, en->key, kit);
	return 0;
}

/* serial and vnc: what xlab writes for an HVM guest (a pty serial port,
 * the VGA on VNC or none). */
static int set_serial(const struct ctx *c, const struct xlcfg_entry *en)
{
	if (want(c, en, XLCFG_STRING) < 0)
		return -1;
	if (strcmp(en->value, "pty"))
		return at(c, en->line, en->key,
			  "'%s': xlab gives hvm guests one serial port on a pty; remove it or "
			  "set it to 'pty'",
			  en->value);
	return 0;
}

static int set_vnc(const struct ctx *c, const struct xlcfg_entry *en)
{
	long long on;

	if (number_in(c, en, 0, 1, &on) < 0)
		return -1;
	c->g->vnc = on;
	return 0;
}

/* root and extra: the command line xlab writes already says these words. */
static int set_cmdline(const struct ctx *c, const struct xlcfg_entry *en)
{
	bool root = !strcmp(en->key, "root");
	_cleanup_free_ char *words = NULL;
	char *save = NULL;

	if (want(c, en, XLCFG_STRING) < 0)
		return -1;
	words = xstrdup(en->value);
	for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		bool ok = root ? (!strcmp(w, "/dev/xvda") || !strcmp(w, "ro") || !strcmp(w, "rw"))
			       : !strcmp(w, "console=hvc0");

		if (!ok)
			return at(c, en->line, en->key,
				  "'%s' cannot be honoured: xlab sets the kernel command line "
				  "(root=/dev/xvda ro console=hvc0 and its xlab.* keys); remove it",
				  w);
	}
	return 0;
}

/* The disk xlab makes for the guest: /dev/VG/NAME (or NAME-swap) on the
 * hosts' VG. Hand-made guests are made and removed (`xlab guest rm`) on
 * that VG only, so the shared VG is refused too. */
static int disk_lv(const struct ctx *c, int line, const struct xl_disk *d, const char *lv)
{
	const char *vg = d->target + 5, *slash = strchr(vg, '/');
	_cleanup_free_ char *want_lv = xasprintf("/dev/%s/%s", c->env->vg, lv), *vg_name = NULL;

	if (!slash || strchr(slash + 1, '/') || slash == vg)
		return at(c, line, "disk", "'%s' is not a logical volume /dev/VG/LV", d->target);
	vg_name = xstrndup(vg, (size_t)(slash - vg));
	if (c->env->shared_vg && !strcmp(vg_name, c->env->shared_vg))
		return at(c, line, "disk",
			  "'%s' is on the lab's shared VG '%s': guests made by hand live on the "
			  "hosts' VG '%s'; use %s",
			  d->target, c->env->shared_vg, c->env->vg, want_lv);
	if (strcmp(vg_name, c->env->vg))
		return at(c, line, "disk",
			  "'%s' is not on the hosts' VG '%s' (the lab's hosts have no VG '%s')",
			  d->target, c->env->vg, vg_name);
	if (strcmp(d->target, want_lv))
		return at(c, line, "disk",
			  "'%s': xlab names the guest's %s LV after the guest: use %s (an LV "
			  "that already exists is kept, not made again)",
			  d->target, strcmp(lv, c->g->name) ? "swap" : "root", want_lv);
	return 0;
}

static int disk_one(const struct ctx *c, int line, const char *spec, bool *root, bool *swap)
{
	_cleanup_free_ char *swap_lv = xasprintf("%s-swap", c->g->name);
	struct xl_disk d = { 0 };
	struct xerr de = { 0 };
	int rc;

	if (xl_disk_parse(spec, &d, &de) < 0)
		return at(c, line, "disk", "'%s': %s", spec, de.msg);
	if (!strcmp(d.vdev, "xvda") && !*root) {
		*root = true;
		rc = disk_lv(c, line, &d, c->g->name);
	} else if (!strcmp(d.vdev, "xvdb") && !*swap) {
		*swap = true;
		rc = disk_lv(c, line, &d, swap_lv);
	} else {
		rc = at(c, line, "disk",
			"'%s': xlab guests have their root LV as xvda and at most a swap LV as "
			"xvdb, not '%s'",
			spec, d.vdev);
	}
	xl_disk_free(&d);
	return rc;
}

static int set_disks(const struct ctx *c, const struct xlcfg_entry *en)
{
	bool root = false, swap = false;

	if (want(c, en, XLCFG_LIST) < 0)
		return -1;
	for (size_t i = 0; i < en->n_items; i++)
		if (disk_one(c, en->item_lines[i], en->items[i], &root, &swap) < 0)
			return -1;
	if (!root)
		return at(c, en->line, "disk", "no root disk: give /dev/%s/%s as xvda", c->env->vg,
			  c->g->name);
	if (swap && !c->g->swap)
		c->g->swap = GUEST_XL_SWAP_DEFAULT;
	return 0;
}

static int vif_check(const struct ctx *c, int line, const char *spec, const struct xl_vif *v)
{
	char mac[18];
	struct in_addr in;

	plan_mac(c->env->lab, c->g->name, mac);
	if (v->mac && strcasecmp(v->mac, mac))
		return at(c, line, "vif",
			  "'%s': xlab gives guest '%s' the MAC %s (made from the lab and guest "
			  "names); remove mac= or set it to that",
			  spec, c->g->name, mac);
	if (v->bridge && strcmp(v->bridge, "xenbr0"))
		return at(c, line, "vif", "'%s': the lab network is the bridge xenbr0, not '%s'",
			  spec, v->bridge);
	if (v->ip && inet_pton(AF_INET, v->ip, &in) != 1)
		return at(c, line, "vif", "'%s': '%s' is not one IPv4 address like 10.80.0.60",
			  spec, v->ip);
	if (v->ip) {
		free(c->g->ip);
		c->g->ip = xstrdup(v->ip);
	}
	return 0;
}

static int set_vifs(const struct ctx *c, const struct xlcfg_entry *en)
{
	struct xl_vif v = { 0 };
	struct xerr ve = { 0 };
	int rc;

	if (want(c, en, XLCFG_LIST) < 0)
		return -1;
	if (en->n_items > 1)
		return at(c, en->item_lines[1], "vif",
			  "xlab guests have one network interface, on the lab network; this is "
			  "a second one");
	if (en->n_items == 0)
		return 0;
	if (xl_vif_parse(en->items[0], &v, &ve) < 0)
		return at(c, en->item_lines[0], "vif", "'%s': %s", en->items[0], ve.msg);
	rc = vif_check(c, en->item_lines[0], en->items[0], &v);
	xl_vif_free(&v);
	return rc;
}


static const struct {
	const char *key;
	int (*set)(const struct ctx *c, const struct xlcfg_entry *en);
} mapped[] = {
	{ "name", set_name },	      { "type", set_type },	{ "memory", set_memory },
	{ "vcpus", set_vcpus },	      { "kernel", set_kit },	{ "ramdisk", set_kit },
	{ "root", set_cmdline },      { "extra", set_cmdline }, { "disk", set_disks },
	{ "vif", set_vifs },	      { "serial", set_serial }, { "vnc", set_vnc },
};

/* As xl.cfg text again, the way spec_kv values are kept; NULL when a
 * value holds a control character xl.cfg cannot carry. */
static char *render(const struct xlcfg_entry *en)
{
	struct buf b = { 0 };
	int bad = 0;

	if (en->type == XLCFG_NUMBER)
		return xstrdup(en->value);
	if (en->type == XLCFG_STRING) {
		bad = spec_xl_scalar(&b, en->value, false);
	} else {
		buf_puts(&b, "[");
		for (size_t i = 0; i < en->n_items && !bad; i++) {
			buf_puts(&b, i ? ", " : " ");
			bad = spec_xl_scalar(&b, en->items[i], false);
		}
		buf_puts(&b, en->n_items ? " ]" : "]");
	}
	if (bad) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Any other key goes into the config as it is, like `xl.KEY=VALUE`. */
static int pass_through(const struct ctx *c, const struct xlcfg_entry *en)
{
	struct spec_guest *g = c->g;
	char *value;

	if (!spec_xl_key_valid(en->key))
		return at(c, en->line, en->key, "not an xl.cfg key xlab passes on (a-z, 0-9, '_')");
	value = render(en);
	if (!value)
		return at(c, en->line, en->key, "the value holds a control character");
	g->xl = xrealloc(g->xl, (g->n_xl + 1) * sizeof(*g->xl));
	g->xl[g->n_xl++] = (struct spec_kv){ .key = xstrdup(en->key), .value = value,
					     .pos = { .line = en->line, .col = 1 } };
	return 0;
}

static int entry_apply(const struct ctx *c, const struct xlcfg_entry *en)
{
	for (size_t i = 0; i < ARRAY_SIZE(mapped); i++)
		if (!strcmp(mapped[i].key, en->key))
			return mapped[i].set(c, en);
	if (spec_xl_key_refused(en->key) || spec_xl_key_owned(en->key))
		return unsupported(c, en);
	return pass_through(c, en);
}

int guest_xl_apply(struct spec_guest *g, const struct guest_xl_env *env, const char *path,
		   const char *text, struct xerr *e)
{
	struct ctx c = { .g = g, .env = env, .path = path, .e = e };
	struct xlcfg cfg;
	int rc = 0;

	if (xlcfg_parse(path, text, &cfg, e) < 0)
		return -1;
	for (size_t i = 0; i < cfg.n && rc == 0; i++)
		rc = entry_apply(&c, &cfg.v[i]);
	xlcfg_free(&cfg);
	return rc;
}
