/* A guest's xl.cfg keys: the ones xlab writes itself, the ones no guest
 * may have, and raw `xl:` values rendered as xl.cfg text. */
#include <stdlib.h>
#include <string.h>

#include "spec_int.h"

static const char *const type_names[] = {
	[SPEC_GUEST_PV] = "pv", [SPEC_GUEST_PVH] = "pvh", [SPEC_GUEST_HVM] = "hvm",
};

const char *spec_guest_type_name(enum spec_guest_type t)
{
	return (size_t)t < ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

int spec_guest_type_parse(const char *text, enum spec_guest_type *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (!strcmp(text, type_names[i])) {
			*out = (enum spec_guest_type)i;
			return 0;
		}
	return -1;
}

/* xl.cfg keys the plan writes itself from the guest's own keys. */
static const struct {
	const char *key, *hint;
} xl_owned[] = {
	{ "name", "the guest's 'name' is used" },
	{ "memory", "use the guest's 'memory' key" },
	{ "vcpus", "use the guest's 'vcpus' key" },
	{ "kernel", "xlab boots its own PV kernel" },
	{ "ramdisk", "xlab boots its own PV kernel" },
	{ "disk", "use the guest's 'disk' key" },
	{ "vif", "xlab wires the guest to the lab network; use 'ip' for its address" },
	{ "extra", "xlab sets the kernel command line" },
	{ "root", "xlab sets the root device" },
	{ "vfb", "use the guest's 'vnc: true'" },
	{ "serial", "an hvm guest's console is its serial port on a pty" },
	{ "type", "use the guest's 'type' key (pv, pvh or hvm)" },
};

const char *spec_xl_key_owned(const char *key)
{
	for (size_t j = 0; j < ARRAY_SIZE(xl_owned); j++)
		if (!strcmp(key, xl_owned[j].key))
			return xl_owned[j].hint;
	return NULL;
}

/* xl.cfg keys no xlab guest may have, whichever way they come (spec 'xl:',
 * `guest create xl.KEY=`, --from-xl): devices of the host (passthrough),
 * another boot path (bootloader, builder, cmdline) and device models
 * (programs dom0 would run). A trailing '*' matches a prefix. */
static const char *const xl_refused[] = {
	"pci*", "rdm*", "dtdev", "iomem", "ioports", "irqs", "usb*", "vnc*", "sdl*", "spice*",
	"vkb", "vtpm", "vdispl", "vsnd", "p9", "pvcalls", "channel", "connectors",
	"bootloader*", "builder", "cmdline", "device_model*", "stubdomain*", "device_tree",
	"vif2", "nics",
};

const char *spec_xl_key_refused(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(xl_refused); i++) {
		size_t n = strcspn(xl_refused[i], "*");

		if (xl_refused[i][n] ? !strncmp(key, xl_refused[i], n) : !strcmp(key, xl_refused[i]))
			return "xlab guests have no passthrough devices, other boot paths or "
			       "device models";
	}
	return NULL;
}

bool xl_key_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* A scalar as xl.cfg text: a plain integer stays a number, anything else is
 * a double-quoted string with the escapes libxlu understands. */
int spec_xl_scalar(struct buf *b, const char *text, bool number_ok)
{
	if (number_ok && is_int_text(text) && strlen(text) < 19) {
		buf_puts(b, text);
		return 0;
	}
	buf_puts(b, "\"");
	for (const char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else if (ch == '\t')
			buf_puts(b, "\\t");
		else if (ch == '\r')
			buf_puts(b, "\\r");
		else if (ch < 0x20 || ch == 0x7f)
			return ch;
		else
			buf_append(b, p, 1);
	}
	buf_puts(b, "\"");
	return 0;
}

static bool xl_render_scalar(struct ctx *c, const char *key, const struct ynode *v,
			     struct buf *b)
{
	int bad;

	if (!want_scalar(c, key, v, "a string, a number or a list"))
		return false;
	bad = spec_xl_scalar(b, v->text, v->plain);
	if (bad) {
		diag(c, v->pos, NULL, "xl key '%s' holds a control character (0x%02x)",
		     show(c, key), bad);
		return false;
	}
	return true;
}

static bool xl_render(struct ctx *c, const char *key, const struct ynode *v, struct buf *b)
{
	if (v->bad)
		return false;
	if (v->kind == Y_MAP) {
		diag(c, v->pos, NULL, "xl key '%s' must be a string, a number or a list, not a mapping",
		     show(c, key));
		return false;
	}
	if (v->kind == Y_SCALAR)
		return xl_render_scalar(c, key, v, b);
	buf_puts(b, "[ ");
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			buf_puts(b, ", ");
		if (v->kids[i]->kind != Y_SCALAR) {
			diag(c, v->kids[i]->pos, NULL, "xl key '%s': a list holds strings, not %s",
			     show(c, key), kind_name(v->kids[i]));
			return false;
		}
		if (!want_scalar(c, key, v->kids[i], "a list of strings"))
			return false;
		v->kids[i]->plain = false; /* xl lists hold strings */
		if (!xl_render_scalar(c, key, v->kids[i], b))
			return false;
	}
	buf_puts(b, v->n ? " ]" : "]");
	return true;
}

static bool xl_check_key(struct ctx *c, const struct ynode *k)
{
	if (k->bad)
		return false;
	if (k->kind != Y_SCALAR || !xl_key_ok(k->text)) {
		diag(c, k->pos, NULL, "'%s' is not an xl.cfg key (a-z, 0-9 and '_')",
		     k->kind == Y_SCALAR ? show(c, k->text) : kind_name(k));
		return false;
	}
	for (size_t j = 0; j < ARRAY_SIZE(xl_owned); j++)
		if (!strcmp(k->text, xl_owned[j].key)) {
			diag(c, k->pos, xl_owned[j].hint,
			     "xl key '%s' is set by xlab and cannot be given in 'xl:'", k->text);
			return false;
		}
	if (spec_xl_key_refused(k->text)) {
		diag(c, k->pos, spec_xl_key_refused(k->text),
		     "xl key '%s' is not supported by xlab guests", k->text);
		return false;
	}
	return true;
}

void read_xl(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base)
{
	struct spec_guest *g = base;

	(void)k;
	if (!want_map(c, v, "'xl'"))
		return;
	check_dups(c, v);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *xk = v->kids[i];
		struct buf b = { 0 };
		bool dup = false;

		if (!xl_check_key(c, xk))
			continue;
		for (size_t j = 0; j < g->n_xl && !dup; j++)
			dup = !strcmp(g->xl[j].key, xk->text);
		if (dup || !xl_render(c, xk->text, v->kids[i + 1], &b)) {
			buf_free(&b);
			continue;
		}
		g->xl = xrealloc(g->xl, (g->n_xl + 1) * sizeof(*g->xl));
		g->xl[g->n_xl++] = (struct spec_kv){ xstrdup(xk->text), buf_steal(&b), xk->pos };
	}
}
