/* `xlab guest create --from-xl FILE`: real xl.cfg files (tests/data/xlcfg)
 * mapped onto the guest model, KEY=VALUE over them, and every refusal naming
 * the file, line and key. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dom0paths.h"
#include "guestargs.h"
#include "guestxl.h"
#include "plan.h"
#include "spec.h"
#include "util.h"
#include "xlcfg.h"
#include "xldev.h"

static const struct guest_xl_env env = { .lab = "hands", .vg = "xlab", .shared_vg = "xshared" };

static char *data_path(const char *name)
{
	return xasprintf("%s/tests/data/xlcfg/%s", getenv("XLAB_SOURCE_DIR") ?: ".", name);
}

/* Reads tests/data/xlcfg/NAME into g (guest "web" on h1); the message
 * path is the file's name alone, so expectations read plainly. */
static int from_file(struct spec_guest *g, const char *name, struct xerr *e)
{
	_cleanup_free_ char *path = data_path(name), *text = NULL;
	struct xerr re = { 0 };

	cr_assert_eq(file_read_all(path, 0, &text, NULL, &re), 0, "%s", re.msg);
	cr_assert_eq(guest_args_init(g, "web", "h1", e), 0, "%s", e->msg);
	return guest_xl_apply(g, &env, name, text, e);
}

static const char *xl_value(const struct spec_guest *g, const char *key)
{
	for (size_t i = 0; i < g->n_xl; i++)
		if (!strcmp(g->xl[i].key, key))
			return g->xl[i].value;
	return NULL;
}

Test(guestxl, minimal_pv_guest)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(from_file(&g, "minimal-pv.cfg", &e), 0, "%s", e.msg);
	cr_expect_eq(g.memory, 96ull << 20);
	cr_expect_eq(g.vcpus, 2);
	cr_expect_eq(g.disk, 256ull << 20, "the KEY=VALUE default size");
	cr_expect_eq(g.swap, 0);
	cr_expect_null(g.ip);
	cr_expect_eq(g.n_xl, 0, "type, kernel and ramdisk are xlab's own");
	guest_args_free(&g);
}

/* An HVM guest's file: its type is kept, its serial console accepted. */
Test(guestxl, hvm_guest)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(from_file(&g, "hvm.cfg", &e), 0, "%s", e.msg);
	cr_expect_eq(g.type, SPEC_GUEST_HVM);
	cr_expect_eq(g.memory, 256ull << 20);
	cr_expect_eq(g.n_xl, 0, "serial and vnc are what xlab writes for hvm: %zu", g.n_xl);
	guest_args_free(&g);
}

Test(guestxl, phy_disks_and_vif)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(from_file(&g, "phy-vif.cfg", &e), 0, "%s", e.msg);
	cr_expect_eq(g.memory, 128ull << 20);
	cr_expect_str_eq(g.ip, "10.84.0.77");
	cr_expect_eq(g.swap, GUEST_XL_SWAP_DEFAULT, "xvdb is NAME-swap");
	cr_expect_not(g.shared);
	cr_expect_eq(g.n_xl, 0);
	guest_args_free(&g);
}

Test(guestxl, on_crash_passes_through)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(from_file(&g, "on-crash.cfg", &e), 0, "%s", e.msg);
	cr_expect_eq(g.memory, 64ull << 20);
	cr_assert_eq(g.n_xl, 3);
	cr_expect_str_eq(xl_value(&g, "on_crash"), "\"preserve\"");
	cr_expect_str_eq(xl_value(&g, "on_reboot"), "\"restart\"");
	cr_expect_str_eq(xl_value(&g, "on_poweroff"), "\"destroy\"");
	cr_expect_eq(g.xl[0].pos.line, 3);
	guest_args_free(&g);
}

/* Passed-through values are written back as the spec writes xl keys: one
 * quoting for all three paths (spec, KEY=VALUE, xl.cfg). */
Test(guestxl, passed_through_values_keep_their_xl_form)
{
	const char *text = "on_crash = 'pre\"ser\\ve'\nmaxmem = 256\n"
			   "cpus = [ \"0\", \"1-2\" ]\nseclabel = []\n";
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0, "%s", e.msg);
	cr_assert_eq(guest_xl_apply(&g, &env, "t.cfg", text, &e), 0, "%s", e.msg);
	cr_expect_str_eq(xl_value(&g, "on_crash"), "\"pre\\\"ser\\\\ve\"");
	cr_expect_str_eq(xl_value(&g, "maxmem"), "256");
	cr_expect_str_eq(xl_value(&g, "cpus"), "[ \"0\", \"1-2\" ]");
	cr_expect_str_eq(xl_value(&g, "seclabel"), "[]");
	guest_args_free(&g);
}

Test(guestxl, command_line_overrides_the_file)
{
	char *args[] = { "memory=48M", "xl.on_crash=restart", "disk=1G", "swap=32M" };
	char *twice[] = { "xl.on_crash=restart", "xl.on_crash=destroy" };
	struct spec_guest g, h;
	struct xerr e = { 0 };

	cr_assert_eq(from_file(&g, "on-crash.cfg", &e), 0, "%s", e.msg);
	cr_assert_eq(guest_args_apply(&g, args, 4, &e), 0, "%s", e.msg);
	cr_expect_eq(g.memory, 48ull << 20);
	cr_expect_eq(g.disk, 1ull << 30);
	cr_expect_eq(g.swap, 32ull << 20);
	cr_expect_eq(g.n_xl, 3, "replaced, not added");
	cr_expect_str_eq(xl_value(&g, "on_crash"), "\"restart\"");
	guest_args_free(&g);
	cr_assert_eq(from_file(&h, "on-crash.cfg", &e), 0, "%s", e.msg);
	cr_expect_eq(guest_args_apply(&h, twice, 2, &e), -1, "twice on the command line");
	cr_expect(strstr(e.msg, "xl key 'on_crash' is given twice"), "%s", e.msg);
	guest_args_free(&h);
}

/* The planned config is the one a KEY=VALUE guest gets: xlab's disks, vif
 * and kernel, the file's on_crash once. */
Test(guestxl, plans_like_key_value)
{
	static const char *const lab_yaml = "lab: hands\nxen: \"4.17\"\n"
					    "network: {subnet: 10.84.0.0/24}\n"
					    "hosts: [{name: h1, memory: 1536M, dom0_mem: 768M}]\n";
	const struct plan_env penv = { .store_id = "5e1ec7ed-0000-4000-8000-000000000001", .state_dir = "/tmp/labs/hands",
				       .accel = "qemu", .subnet = "10.84.0.0/24" };
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct plan *p = NULL;
	struct spec_guest g;
	struct xerr e = { 0 };
	const struct plan_guest *pg;
	const char *crash;

	cr_assert_eq(spec_load_buffer("hands.yaml", lab_yaml, strlen(lab_yaml), &s, &d, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(from_file(&g, "phy-vif.cfg", &e), 0, "%s", e.msg);
	cr_assert_eq(guest_args_plan(s, &penv, &g, 1, &p, &e), 0, "%s", e.msg);
	pg = &p->guests[p->n_guests - 1];
	cr_expect_str_eq(pg->mac, "42:83:a1:29:66:8e");
	cr_expect(strstr(pg->xl_cfg, "disk = [ \"format=raw,vdev=xvda,access=w,"
				     "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/web\", "
				     "\"format=raw,vdev=xvdb,access=w,"
				     "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/web-swap\" ]\n"), "%s", pg->xl_cfg);
	cr_expect(strstr(pg->xl_cfg, "xlab.ip=10.84.0.77/24"), "%s", pg->xl_cfg);
	crash = strstr(pg->xl_cfg, "on_crash");
	cr_expect(crash && !strstr(crash + 1, "on_crash"), "%s", pg->xl_cfg);
	plan_free(p);
	guest_args_free(&g);
	spec_free(s);
	spec_diags_free(&d);
}

static void refused(const char *file, const char *msg)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_expect_eq(from_file(&g, file, &e), -1, "%s was accepted", file);
	cr_expect_eq(e.kind, XERR_USAGE, "code for %s", file);
	cr_expect(strstr(e.msg, msg), "%s:\n  got:  %s\n  want: %s", file, e.msg, msg);
	guest_args_free(&g);
}

Test(guestxl, refusals_name_file_line_and_key)
{
	refused("pci.cfg", "pci.cfg:3: key 'pci' is not supported by xlab guests; remove it "
			   "or create the guest with KEY=VALUE");
	refused("file-disk.cfg", "file-disk.cfg:3: key 'disk': 'file:/srv/xen/web.img,xvda,w': "
				 "'file:/srv/xen/web.img' is a file or image, not a logical "
				 "volume");
	refused("other-vg.cfg", "other-vg.cfg:3: key 'disk': '/dev/vg0/web' is not on the hosts' "
				"VG 'xlab' (the lab's hosts have no VG 'vg0')");
	refused("wrong-name.cfg", "wrong-name.cfg:2: key 'name': 'db' differs from the guest's "
				  "name 'web'");
	refused("syntax.cfg", "syntax.cfg:3: expected '=' after 'vcpus'");
}

static void text_refused(const char *text, const char *msg)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_expect_eq(guest_xl_apply(&g, &env, "t.cfg", text, &e), -1, "accepted: %s", text);
	cr_expect(strstr(e.msg, msg), "%s\n  got:  %s\n  want: %s", text, e.msg, msg);
	guest_args_free(&g);
}

/* A kept config from a dom0 names the kit's kernel unpacked: the same kernel. */
Test(guestxl, the_kits_unpacked_kernel_is_the_kits_kernel)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_assert_eq(guest_xl_apply(&g, &env, "t.cfg",
				    "kernel = '/var/lib/xlab/guest/vmlinux'\n"
				    "ramdisk = '/var/lib/xlab/guest/initrd.img'\n", &e), 0, "%s", e.msg);
	guest_args_free(&g);
	text_refused("kernel = '/var/lib/xlab/guest/initrd.img'\n",
		     "is not the lab's guest kernel /var/lib/xlab/guest/vmlinuz");
	text_refused("ramdisk = '/var/lib/xlab/guest/vmlinux'\n",
		     "is not the lab's guest ramdisk /var/lib/xlab/guest/initrd.img");
}

Test(guestxl, what_the_model_cannot_honour)
{
	text_refused("kernel = '/boot/vmlinuz-6.1'\n",
		     "t.cfg:1: key 'kernel': '/boot/vmlinuz-6.1' is not the lab's guest kernel "
		     "/var/lib/xlab/guest/vmlinuz");
	text_refused("\nextra = 'console=hvc0 init=/bin/sh'\n",
		     "t.cfg:2: key 'extra': 'init=/bin/sh' cannot be honoured");
	text_refused("type = 'hvm-pv'\n",
		     "t.cfg:1: key 'type': xlab guests are pv, pvh or hvm, not 'hvm-pv'");
	text_refused("builder = 'hvm'\n", "key 'builder' is not supported by xlab guests");
	text_refused("disk = ['phy:/dev/xshared/web,xvda,w']\n",
		     "is on the lab's shared VG 'xshared'");
	text_refused("disk = ['phy:/dev/xlab/data,xvda,w']\n",
		     "use /dev/xlab/web (an LV that already exists is kept");
	text_refused("disk = ['phy:/dev/xlab/web,xvda,r']\n", "access 'r'");
	text_refused("disk = ['phy:/dev/xlab/web,xvda,w', 'phy:/dev/xlab/web-swap,xvdc,w']\n",
		     "not 'xvdc'");
	text_refused("disk = ['phy:/dev/xlab/web-swap,xvdb,w']\n", "no root disk");
	text_refused("disk = ['format=qcow2,vdev=xvda,target=/dev/xlab/web']\n",
		     "format 'qcow2'");
	text_refused("disk = ['phy:/dev/xlab/web,xvda,w,script=block-iscsi']\n",
		     "disk option 'script=block-iscsi'");
	text_refused("vif = ['mac=00:16:3e:00:00:01']\n",
		     "xlab gives guest 'web' the MAC 42:83:a1:29:66:8e");
	text_refused("vif = ['bridge=xenbr1']\n", "not 'xenbr1'");
	text_refused("vif = ['ip=10.84.0.7 10.84.0.8']\n", "is not one IPv4 address");
	text_refused("vif = ['bridge=xenbr0',\n 'bridge=xenbr0']\n",
		     "t.cfg:2: key 'vif': xlab guests have one network interface");
	text_refused("vif = ['model=e1000']\n", "vif option 'model=e1000'");
	text_refused("vcpus = 65\n", "t.cfg:1: key 'vcpus': must be between 1 and 64, not 65");
	text_refused("memory = '128'\n", "key 'memory': must be a number");
	text_refused("usbdev = ['hostbus=1']\n", "key 'usbdev' is not supported by xlab guests");
	text_refused("Memory = 1\n", "key 'Memory': not an xl.cfg key");
}

static void syntax_refused(const char *text, const char *msg)
{
	struct xlcfg c;
	struct xerr e = { 0 };

	cr_expect_eq(xlcfg_parse("s.cfg", text, &c, &e), -1, "accepted: %s", text);
	cr_expect(strstr(e.msg, msg), "%s\n  got:  %s\n  want: %s", text, e.msg, msg);
}

Test(xlcfg, grammar)
{
	struct xlcfg c;
	struct xerr e = { 0 };

	cr_assert_eq(xlcfg_parse("s.cfg", "a = 1; b = 0x1F # c\n\nd = \"x\\\"y\\\\z\"\n"
					  "e = [ 'p,q', # one\n  \"r\", ]\nf = []\n",
				 &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c.n, 5);
	cr_expect_str_eq(c.v[1].value, "0x1F");
	cr_expect_eq(c.v[1].type, XLCFG_NUMBER);
	cr_expect_str_eq(c.v[2].value, "x\"y\\z");
	cr_expect_eq(c.v[2].line, 3);
	cr_expect_eq(c.v[3].n_items, 2);
	cr_expect_str_eq(c.v[3].items[0], "p,q");
	cr_expect_eq(c.v[3].item_lines[1], 5);
	cr_expect_eq(c.v[4].n_items, 0);
	xlcfg_free(&c);
	syntax_refused("a = 'x\n", "s.cfg:1: string not closed");
	syntax_refused("a = 1\nb = [ 'x' 'y' ]\n", "s.cfg:2: expected ',' or ']'");
	syntax_refused("a = [ [ 'x' ] ]\n", "a list inside a list");
	syntax_refused("a = 1\n\na = 2\n", "s.cfg:3: key 'a' is set twice (first on line 1)");
	syntax_refused("a += 'x'\n", "'a +=' is not supported");
	syntax_refused("a = 12ab\n", "'12ab' is not a number");
	syntax_refused("a = \"\\q\"\n", "unknown escape");
	syntax_refused("a = 1 2\n", "unexpected '2'");
	syntax_refused("a = [ 'x',\n", "s.cfg:2: expected");
}

Test(xldev, disk_syntaxes)
{
	struct xl_disk d;
	struct xerr e = { 0 };

	cr_assert_eq(xl_disk_parse("phy:/dev/vg/lv,xvda,w", &d, &e), 0, "%s", e.msg);
	cr_expect_str_eq(d.target, "/dev/vg/lv");
	cr_expect_str_eq(d.vdev, "xvda");
	xl_disk_free(&d);
	cr_assert_eq(xl_disk_parse("format=raw, vdev=xvdb, access=rw, target=/dev/vg/a,b", &d, &e),
		     0, "%s", e.msg);
	cr_expect_str_eq(d.target, "/dev/vg/a,b", "target= takes the rest");
	cr_expect_str_eq(d.vdev, "xvdb");
	xl_disk_free(&d);
	cr_assert_eq(xl_disk_parse("/dev/vg/lv,raw,xvda,rw", &d, &e), 0, "%s", e.msg);
	xl_disk_free(&d);
	cr_expect_eq(xl_disk_parse("/srv/a.img,xvda,w", &d, &e), -1);
	cr_expect_eq(xl_disk_parse("phy:/dev/vg/lv,xvda,w,cdrom", &d, &e), -1);
	cr_expect_eq(xl_disk_parse("phy:/dev/vg/lv", &d, &e), -1, "no vdev");
	/* What xlab's own configs say parses back: a guest copied from one. */
	cr_assert_eq(xl_disk_parse("format=raw,vdev=xvda,access=w,script=" DOM0_HOTPLUG_BLOCK
				   ",target=/dev/xlab/web", &d, &e), 0, "%s", e.msg);
	cr_expect_str_eq(d.target, "/dev/xlab/web");
	xl_disk_free(&d);
	cr_expect_eq(xl_disk_parse("vdev=xvda,script=/etc/xen/scripts/block,target=/dev/v/l", &d,
				   &e), -1, "another script is not xlab's");
}

Test(xldev, vif_of_xlab_config)
{
	struct xl_vif v;
	struct xerr e = { 0 };

	cr_assert_eq(xl_vif_parse("mac=00:16:3e:00:00:01,bridge=xenbr0,script=" DOM0_HOTPLUG_VIF,
				  &v, &e), 0, "%s", e.msg);
	cr_expect_str_eq(v.bridge, "xenbr0");
	xl_vif_free(&v);
	cr_expect_eq(xl_vif_parse("bridge=xenbr0,script=vif-route", &v, &e), -1);
	cr_expect(strstr(e.msg, "script=vif-route"), "%s", e.msg);
}

/* One rule for every way a key reaches a guest's xl config: --from-xl,
 * `guest create xl.KEY=VALUE` and the spec's `xl:` refuse the same keys. */
Test(guestxl, one_rule_for_every_entry_point)
{
	static const char *const keys[] = {
		"pci", "pci_permissive", "bootloader", "bootloader_args", "cmdline", "builder",
		"device_model_override", "device_model_args", "device_model_user",
		"device_model_version", "stubdomain_kernel", "usbdev", "vnclisten", "iomem",
		"type", "vfb",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		_cleanup_free_ char *cfg = xasprintf("%s = \"x\"\n", keys[i]);
		_cleanup_free_ char *arg = xasprintf("xl.%s=x", keys[i]);
		_cleanup_free_ char *yaml = xasprintf("lab: t\nxen: \"4.17\"\nhosts: [{name: h1}]\n"
						      "guests: [{name: g1, host: h1, xl: {%s: x}}]\n",
						      keys[i]);
		char *args[] = { arg, NULL };
		struct spec_guest g;
		struct spec *s = NULL;
		struct spec_diags d = { 0 };
		struct xerr e = { 0 };

		text_refused(cfg, "");
		cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
		cr_expect_eq(guest_args_apply(&g, args, 1, &e), -1, "xl.%s= accepted", keys[i]);
		guest_args_free(&g);
		cr_expect_eq(spec_load_buffer("t.yaml", yaml, strlen(yaml), &s, &d, &e), -1,
			     "spec xl: %s accepted", keys[i]);
		spec_free(s);
		spec_diags_free(&d);
	}
}

Test(guestxl, nul_in_a_string_is_refused_not_truncated)
{
	text_refused("on_crash = \"restart\\x00destroy\"\n", "t.cfg:1");
	text_refused("extra = \"console=hvc0\\x00 init=/bin/sh\"\n", "NUL");
}
