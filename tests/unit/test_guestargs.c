/* `xlab guest create` arguments: KEY=VALUE under the spec's rules, with
 * messages that name the argument; addresses planned around the lab's. */
#include <criterion/criterion.h>
#include <string.h>

#include "guestargs.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

static const char *const lab_yaml =
	"lab: hands\n"
	"xen: \"4.17\"\n"
	"network: {subnet: 10.84.0.0/24}\n"
	"hosts:\n"
	"  - {name: h1, memory: 1536M, dom0_mem: 768M, data_disk: 2G}\n"
	"guests:\n"
	"  - {name: g1, host: h1}\n"
	"  - {name: g2, host: h1, ip: 10.84.0.51}\n";

static const struct plan_env env = {
	.store_id = "5e1ec7ed-0000-4000-8000-000000000001", .state_dir = "/tmp/labs/hands", .accel = "qemu",
	.subnet = "10.84.0.0/24",
};

static int apply(struct spec_guest *g, const char *a, const char *b, struct xerr *e)
{
	char *args[] = { (char *)a, (char *)b };

	cr_assert_eq(guest_args_init(g, "web", "h1", e), 0, "%s", e->msg);
	return guest_args_apply(g, args, b ? 2 : 1, e);
}

static void refused(const char *arg, const char *msg)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_expect_eq(apply(&g, arg, NULL, &e), -1, "'%s' was accepted", arg);
	cr_expect_eq(e.kind, XERR_USAGE, "code for '%s'", arg);
	cr_expect_str_eq(e.msg, msg);
	guest_args_free(&g);
}

Test(guestargs, defaults_are_the_specs)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_expect_eq(g.memory, 128ull << 20);
	cr_expect_eq(g.disk, 256ull << 20);
	cr_expect_eq(g.vcpus, 1);
	cr_expect_str_eq(g.rootfs, "busybox");
	cr_expect_null(g.ip);
	guest_args_free(&g);
}

Test(guestargs, debian_rootfs_names)
{
	static const char *const names[] = { "debian", "debian-bookworm", "debian-trixie" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct spec_guest g;
		struct xerr e = { 0 };
		_cleanup_free_ char *arg = xasprintf("rootfs=%s", names[i]);
		char *args[] = { arg };

		cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
		cr_assert_eq(guest_args_apply(&g, args, 1, &e), 0, "%s: %s", arg, e.msg);
		cr_expect_str_eq(g.rootfs, names[i]);
		guest_args_free(&g);
	}
}

Test(guestargs, good_values)
{
	struct spec_guest g;
	struct xerr e = { 0 };
	char *args[] = { "memory=256M", "disk=1G",  "vcpus=2", "ip=10.84.0.77",
			 "rootfs=/root/my.tar.gz", "xl.on_crash=preserve", "xl.maxmem=512",
			 "xl.cpus=\"0\\1\"", "type=hvm", "hotplug=xen" };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_assert_eq(guest_args_apply(&g, args, ARRAY_SIZE(args), &e), 0, "%s", e.msg);
	cr_expect_eq(g.memory, 256ull << 20);
	cr_expect_eq(g.disk, 1ull << 30);
	cr_expect_eq(g.vcpus, 2);
	cr_expect_str_eq(g.ip, "10.84.0.77");
	cr_expect_str_eq(g.rootfs, "/root/my.tar.gz");
	cr_expect_eq(g.type, SPEC_GUEST_HVM);
	cr_expect(g.xen_hotplug);
	cr_assert_eq(g.n_xl, 3);
	cr_expect_str_eq(g.xl[0].key, "on_crash");
	cr_expect_str_eq(g.xl[0].value, "\"preserve\"");
	cr_expect_str_eq(g.xl[1].value, "512");
	cr_expect_str_eq(g.xl[2].value, "\"\\\"0\\\\1\\\"\"");
	guest_args_free(&g);
}

Test(guestargs, bad_values_name_the_argument)
{
	refused("memory", "argument 'memory': expected KEY=VALUE (keys: type, memory, disk, "
			  "vcpus, ip, rootfs, swap, vnc, hotplug, xl.KEY)");
	refused("=1", "argument '=1': expected KEY=VALUE (keys: type, memory, disk, vcpus, ip, "
		      "rootfs, swap, vnc, hotplug, xl.KEY)");
	refused("memory=", "argument 'memory=': 'memory' needs a value");
	refused("disk=18446744073709551609", "argument 'disk=18446744073709551609': 'disk' is "
		"more than an LVM volume can hold");
	refused("memory=17T", "argument 'memory=17T': 'memory' is more than Xen can hold");
	refused("memory=12X", "argument 'memory=12X': 'memory': invalid size suffix in '12X' "
			      "(use K, M, G or T)");
	refused("disk=0", "argument 'disk=0': 'disk': size '0' must be greater than zero");
	refused("vcpus=two", "argument 'vcpus=two': 'vcpus' must be an integer, not 'two'");
	refused("vcpus=65", "argument 'vcpus=65': 'vcpus' must be between 1 and 64, not 65");
	refused("vcpus=0", "argument 'vcpus=0': 'vcpus' must be between 1 and 64, not 0");
	refused("ip=10.84.0", "argument 'ip=10.84.0': '10.84.0' is not an IPv4 address like "
			      "10.80.0.60 (ip)");
	refused("rootfs=ubuntu", "argument 'rootfs=ubuntu': 'rootfs' must be 'busybox', 'debian' "
				 "(the image's Debian), 'debian-bookworm', 'debian-trixie' or a "
				 "path to a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.zst), not "
				 "'ubuntu'");
	refused("colour=red", "argument 'colour=red': unknown key 'colour' (keys: type, memory, "
			      "disk, vcpus, ip, rootfs, swap, vnc, hotplug, xl.KEY)");
	refused("type=kvm", "argument 'type=kvm': 'type' must be pv, pvh or hvm, not 'kvm'");
	refused("hotplug=udev", "argument 'hotplug=udev': 'hotplug' must be xlab or xen, not 'udev'");
	refused("xl.type=hvm", "argument 'xl.type=hvm': xl key 'type' is set by xlab and cannot "
			       "be given; use the guest's 'type' key (pv, pvh or hvm)");
	refused("vnc=yes", "argument 'vnc=yes': 'vnc' must be true or false, not 'yes'");
	refused("host=h2", "argument 'host=h2': 'host' is given as `xlab guest create LAB NAME "
			   "--host HOST`");
	refused("xl.Bad=1", "argument 'xl.Bad=1': 'Bad' is not an xl.cfg key (a-z, 0-9 and '_')");
	refused("xl.memory=64", "argument 'xl.memory=64': xl key 'memory' is set by xlab and "
				"cannot be given; use the guest's 'memory' key");
	refused("xl.vif=x", "argument 'xl.vif=x': xl key 'vif' is set by xlab and cannot be "
			    "given; xlab wires the guest to the lab network; use 'ip' for its "
			    "address");
	refused("xl.on_crash=a\x01", "argument 'xl.on_crash=a\x01': xl key 'on_crash' holds a "
				     "control character (0x01)");
}

Test(guestargs, twice_is_refused)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_expect_eq(apply(&g, "memory=1G", "memory=2G", &e), -1);
	cr_expect_str_eq(e.msg, "argument 'memory=2G': 'memory' is given twice");
	guest_args_free(&g);
	cr_expect_eq(apply(&g, "xl.on_crash=a", "xl.on_crash=b", &e), -1);
	cr_expect_str_eq(e.msg, "argument 'xl.on_crash=b': xl key 'on_crash' is given twice");
	guest_args_free(&g);
}

Test(guestargs, bad_name)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_expect_eq(guest_args_init(&g, "Web_1", "h1", &e), -1);
	cr_expect_eq(e.kind, XERR_USAGE);
	cr_expect_str_eq(e.msg, "'Web_1' is not a valid guest name: use a lower-case DNS label "
				"(a-z, 0-9 and '-', at most 63, not starting or ending with '-')");
}

static struct spec *load(void)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	if (spec_load_buffer("t.yaml", lab_yaml, strlen(lab_yaml), &s, &d, &e) < 0) {
		spec_diags_print(&d, stderr);
		cr_assert_fail("%s", e.msg);
	}
	spec_diags_free(&d);
	return s;
}

/* Planned with another hand-made guest (ip .52): the new one goes around
 * the spec's .50 (allocated) and .51 (explicit) and the hand-made .52. */
Test(guestargs, address_goes_around_the_labs)
{
	struct spec *s = load();
	struct spec_guest other, g;
	struct plan *p = NULL;
	struct xerr e = { 0 };
	char *ip[] = { "ip=10.84.0.52" };

	cr_assert_eq(guest_args_init(&other, "other", "h1", &e), 0);
	cr_assert_eq(guest_args_apply(&other, ip, 1, &e), 0);
	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	struct spec_guest hand[2] = { other, g };

	cr_assert_eq(guest_args_plan(s, &env, hand, 2, &p, &e), 0, "%s", e.msg);
	cr_expect_str_eq(p->guests[0].ip, "10.84.0.50");
	cr_expect_str_eq(p->guests[1].ip, "10.84.0.51");
	cr_expect_str_eq(p->guests[2].ip, "10.84.0.52");
	cr_expect_str_eq(p->guests[3].ip, "10.84.0.53");
	cr_expect_eq(guest_ip_check(p, &p->guests[3], &e), 0, "%s", e.msg);
	cr_expect(strstr(p->guests[3].xl_cfg, "name = \"web\"\n"));
	cr_expect(strstr(p->guests[3].xl_cfg, "xlab.ip=10.84.0.53/24"));
	plan_free(p);
	spec_free(s);
	guest_args_free(&other);
	guest_args_free(&g);
}

static const char *ip_refusal(const char *ip)
{
	static char msg[4200];
	struct spec *s = load();
	struct spec_guest g;
	struct plan *p = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *arg = xasprintf("ip=%s", ip);
	char *args[] = { arg };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_assert_eq(guest_args_apply(&g, args, 1, &e), 0, "%s", e.msg);
	msg[0] = '\0';
	if (guest_args_plan(s, &env, &g, 1, &p, &e) < 0) {
		cr_expect_eq(e.kind, XERR_USAGE);
		snprintf(msg, sizeof(msg), "%s", e.msg);
	} else {
		cr_expect_str_eq(p->guests[0].ip, "10.84.0.50");
		plan_free(p);
	}
	spec_free(s);
	guest_args_free(&g);
	return msg;
}

Test(guestargs, explicit_address_checked)
{
	cr_expect_str_eq(ip_refusal("10.84.0.99"), "");
	cr_expect_str_eq(ip_refusal("10.84.0.50"),
			 "ip 10.84.0.50 of guest 'web' is already guest 'g1''s");
	cr_expect_str_eq(ip_refusal("10.84.0.10"), "ip 10.84.0.10 of guest 'web' is host 'h1''s");
	cr_expect_str_eq(ip_refusal("10.84.0.1"),
			 "ip 10.84.0.1 of guest 'web' is not a usable address of the lab subnet "
			 "10.84.0.0/24 (the network, gateway .1 and broadcast are taken)");
	cr_expect_str_eq(ip_refusal("10.85.0.9"),
			 "ip 10.85.0.9 of guest 'web' is not a usable address of the lab subnet "
			 "10.84.0.0/24 (the network, gateway .1 and broadcast are taken)");
}

Test(guestargs, swap_is_a_second_disk)
{
	struct spec *s = load();
	struct spec_guest g;
	struct plan *p = NULL;
	struct xerr e = { 0 };
	char *args[] = { "swap=64M" };
	const struct plan_guest *pg;

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_assert_eq(guest_args_apply(&g, args, 1, &e), 0, "%s", e.msg);
	cr_expect_eq(g.swap, 64ull << 20);
	cr_assert_eq(guest_args_plan(s, &env, &g, 1, &p, &e), 0, "%s", e.msg);
	pg = &p->guests[p->n_guests - 1];
	cr_expect(strstr(pg->xl_cfg, "disk = [ \"format=raw,vdev=xvda,access=w,"
				     "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/web\", "
				     "\"format=raw,vdev=xvdb,access=w,"
				     "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/web-swap\" ]\n"), "%s", pg->xl_cfg);
	cr_expect_str_eq(pg->lvm_steps[1], "lvcreate -n web-swap -L 67108864b xlab");
	cr_expect_str_eq(pg->lvm_steps[2], "mkswap /dev/xlab/web-swap");
	cr_expect(strstr(p->guests[0].xl_cfg, "disk = [ \"format=raw,vdev=xvda,access=w,"
						      "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/g1\" ]\n"));
	plan_free(p);
	spec_free(s);
	guest_args_free(&g);
	refused("swap=lots", "argument 'swap=lots': 'swap': invalid size 'lots' (write it like "
			     "512M or 8G)");
}

Test(guestargs, spec_swap_key)
{
	static const char *const y = "lab: s\nxen: \"4.17\"\nhosts: [{name: h1}]\n"
				     "guests: [{name: g1, host: h1, swap: 64M}, {name: g2, host: h1}]\n";
	static const char *const bad_y = "lab: s\nxen: \"4.17\"\nhosts: [{name: h1}]\n"
					 "guests: [{name: g1, host: h1, swap: 64Q}]\n";
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(spec_load_buffer("s.yaml", y, strlen(y), &s, &d, &e), 0, "%s", e.msg);
	cr_expect_eq(s->guests[0].swap, 64ull << 20);
	cr_expect_eq(s->guests[1].swap, 0);
	spec_free(s);
	spec_diags_free(&d);
	cr_expect_eq(spec_load_buffer("s.yaml", bad_y, strlen(bad_y), &s, &d, &e), -1);
	cr_assert_eq(d.n, 1);
	cr_expect_str_eq(d.v[0].msg, "'swap': invalid size suffix in '64Q' (use K, M, G or T)");
	spec_diags_free(&d);
}

/* Issue 17 point 5: `guest create LAB web-swap` would share guest web's swap LV. */
Test(guestargs, a_name_that_is_a_derived_volume_is_refused)
{
	struct spec_guest g;
	struct xerr e = { 0 };

	cr_assert_eq(guest_args_init(&g, "web-swap", "h1", &e), -1);
	cr_expect_eq(e.kind, XERR_USAGE);
	cr_expect(strstr(e.msg, "'web-swap' ends in '-swap'"), "%s", e.msg);
}

/* The spec validator's capacity rule holds for a guest made by hand: h1
 * has 768M for guests and g1, g2 take 256M of it. */
static const char *plan_refusal(char *arg)
{
	static char msg[4200];
	struct spec *s = load();
	struct spec_guest g;
	struct plan *p = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(guest_args_init(&g, "web", "h1", &e), 0);
	cr_assert_eq(guest_args_apply(&g, &arg, 1, &e), 0, "%s", e.msg);
	msg[0] = '\0';
	if (guest_args_plan(s, &env, &g, 1, &p, &e) < 0) {
		cr_expect_eq(e.kind, XERR_USAGE);
		snprintf(msg, sizeof(msg), "%s", e.msg);
	}
	plan_free(p);
	spec_free(s);
	guest_args_free(&g);
	return msg;
}

Test(guestargs, capacity_as_in_a_spec)
{
	cr_expect_str_eq(plan_refusal("memory=512M"), "");
	cr_expect_str_eq(plan_refusal("memory=4G"),
			 "guests on host 'h1' need 4352M of memory (up to 'web'), but it has "
			 "768M for guests (memory 1536M - dom0_mem 768M)");
	cr_expect(strstr(plan_refusal("disk=4G"), "guest disks on host 'h1' need "),
		  "%s", plan_refusal("disk=4G"));
}
