/* The plan: deterministic allocation and the rendered XML / configs,
 * checked against a golden file and by parsing the XML back. */
#include <criterion/criterion.h>
#include <fnmatch.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

static const struct plan_env env_tcg = {
	.store_id = "5e1ec7ed-0000-4000-8000-000000000001", .state_dir = "/var/lib/xlab/labs/demo",
	.accel = "qemu",
	.subnet = "10.80.0.0/24",
};

static char *src_path(const char *rel)
{
	const char *top = getenv("XLAB_SOURCE_DIR");

	return xasprintf("%s/%s", top ? top : ".", rel);
}

static struct spec *load_text(const char *text)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	if (spec_load_buffer("t.yaml", text, strlen(text), &s, &d, &e) < 0) {
		spec_diags_print(&d, stderr);
		cr_assert_fail("spec did not load: %s", e.msg);
	}
	spec_diags_free(&d);
	return s;
}

static struct spec *load_reference(void)
{
	_cleanup_free_ char *path = src_path("examples/reference.yaml");
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(spec_load(path, &s, &d, &e), 0, "%s", e.msg);
	spec_diags_free(&d);
	return s;
}

static char *plan_text(const struct plan *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	plan_print(p, f);
	fclose(f);
	return text;
}

/* XPath string value of expr in xml. */
static char *xpath(const char *xml, const char *expr)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr r;
	char *out;

	cr_assert_not_null(doc, "not well-formed XML:\n%s", xml);
	ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterNs(ctx, BAD_CAST "xlab", BAD_CAST "https://xlab.dev/xmlns/libvirt/1");
	r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	out = r ? (char *)xmlXPathCastToString(r) : NULL;
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out;
}

static void assert_xpath(const char *xml, const char *expr, const char *want)
{
	char *got = xpath(xml, expr);

	cr_assert_str_eq(got, want, "%s", expr);
	xmlFree(got);
}

Test(plan, reference_matches_golden_file)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *golden_path = src_path("tests/data/plan/reference.plan");
	_cleanup_free_ char *golden = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len;
	/* h1 of a lean-kernel image, h2 of one that needs its initrd. */
	const bool direct[] = { true, false };
	struct plan_env env = env_tcg;

	env.direct_boot = direct;
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	text = plan_text(p);
	if (getenv("XLAB_UPDATE_GOLDEN"))
		cr_assert_eq(file_write_atomic(golden_path, text, strlen(text), 0644, &e), 0);
	cr_assert_eq(file_read_all(golden_path, 0, &golden, &len, &e), 0,
		     "%s (XLAB_UPDATE_GOLDEN=1 writes it)", e.msg);
	cr_assert_str_eq(text, golden, "plan differs from %s", golden_path);
	plan_free(p);
	spec_free(s);
}

Test(plan, same_spec_same_plan)
{
	struct spec *s = load_reference();
	struct plan *a = NULL, *b = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *ta = NULL, *tb = NULL;

	cr_assert_eq(plan_build(s, &env_tcg, &a, &e), 0);
	cr_assert_eq(plan_build(s, &env_tcg, &b, &e), 0);
	ta = plan_text(a);
	tb = plan_text(b);
	cr_assert_str_eq(ta, tb);
	plan_free(a);
	plan_free(b);
	spec_free(s);
}

Test(plan, addresses_and_macs)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(plan_build(s, &env_tcg, &p, &e), 0);
	cr_assert_str_eq(p->gateway, "10.80.0.1");
	cr_assert_str_eq(p->netmask, "255.255.255.0");
	cr_assert_str_eq(p->hosts[0].ip, "10.80.0.10");
	cr_assert_str_eq(p->hosts[1].ip, "10.80.0.11");
	cr_assert_str_eq(p->guests[0].ip, "10.80.0.50");
	cr_assert_str_eq(p->guests[1].ip, "10.80.0.60", "explicit ip kept");
	cr_assert_eq(p->guests[1].host, &p->hosts[1]);
	cr_assert_str_eq(p->guests[1].lv, "/dev/xlab/db1");
	cr_assert_str_eq(p->hosts[0].domain, "xlab-5e1ec7ed.demo.h1");
	cr_assert_str_eq(p->network, "xlab-5e1ec7ed.demo");
	cr_assert_eq(strlen(p->bridge), 15, "xlbr- + 10 hex fits IFNAMSIZ");
	for (size_t i = 0; i < p->n_hosts; i++) {
		unsigned first = (unsigned)strtoul(p->hosts[i].mac, NULL, 16);

		cr_assert_eq(first & 3, 2, "%s: unicast, locally administered", p->hosts[i].mac);
	}
	cr_assert_str_neq(p->hosts[0].mac, p->hosts[1].mac);
	plan_free(p);
	spec_free(s);
}

Test(plan, mac_depends_on_lab_and_node_only)
{
	char a[18], b[18], c[18];

	plan_mac("demo", "h1", a);
	plan_mac("demo", "h1", b);
	plan_mac("other", "h1", c);
	cr_assert_str_eq(a, b);
	cr_assert_str_neq(a, c);
}

Test(plan, allocation_skips_explicit_addresses)
{
	struct spec *s = load_text("lab: t\nxen: \"4.17\"\nnetwork: {subnet: 10.1.2.0/24}\n"
				   "hosts:\n  - {name: a, ip: 10.1.2.10}\n  - {name: b}\n"
				   "guests:\n  - {name: g1, host: a, ip: 10.1.2.50}\n"
				   "  - {name: g2, host: b}\n");
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };

	env.subnet = "10.1.2.0/24";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_assert_str_eq(p->hosts[0].ip, "10.1.2.10");
	cr_assert_str_eq(p->hosts[1].ip, "10.1.2.11");
	cr_assert_str_eq(p->guests[0].ip, "10.1.2.50");
	cr_assert_str_eq(p->guests[1].ip, "10.1.2.51");
	plan_free(p);
	spec_free(s);
}

Test(plan, a_small_subnet_runs_out_with_a_clear_error)
{
	struct spec *s = load_text("lab: t\nxen: \"4.17\"\nhosts:\n  - {name: a}\n"
				   "guests:\n  - {name: g1, host: a}\n");
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };

	env.subnet = "10.1.2.0/27"; /* .0-.31: room for hosts, none for guests at .50+ */
	cr_assert_eq(plan_build(s, &env, &p, &e), -1);
	cr_assert_not_null(strstr(e.msg, "no address left for 'g1'"), "%s", e.msg);
	spec_free(s);
}

Test(plan, domain_xml_under_tcg_and_kvm)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };
	const char *xml;

	cr_assert_eq(plan_build(s, &env, &p, &e), 0);
	xml = p->hosts[1].domain_xml;
	assert_xpath(xml, "string(/domain/@type)", "qemu");
	assert_xpath(xml, "string(/domain/cpu/model)", "qemu64");
	/* TCG's SVM and nested paging, so Xen runs PVH and HVM guests with HAP. */
	assert_xpath(xml, "string(/domain/cpu/feature[@name='svm']/@policy)", "require");
	assert_xpath(xml, "string(/domain/cpu/feature[@name='npt']/@policy)", "require");
	/* TCG emulates RDRAND: the random pools need no virtio-rng then. */
	assert_xpath(xml, "string(/domain/cpu/feature[@name='rdrand']/@policy)", "require");
	assert_xpath(xml, "string(count(/domain/cpu/feature))", "3");
	assert_xpath(xml, "string(count(/domain/devices/rng))", "0");
	assert_xpath(xml, "string(/domain/devices/controller[@type='usb']/@model)", "none");
	assert_xpath(xml, "string(count(/domain/features/acpi) + count(/domain/features/apic))",
		     "2");
	assert_xpath(xml, "string(/domain/memory)", "3145728");
	assert_xpath(xml, "string(/domain/metadata/xlab:lab/@name)", "demo");
	assert_xpath(xml, "string(/domain/metadata/xlab:lab/@node)", "h2");
	assert_xpath(xml, "string(/domain/devices/disk[serial='xlab-extra1']/source/@file)",
		     "/var/lib/xlab/labs/demo/hosts/h2/extra-1.qcow2");
	assert_xpath(xml, "string(count(/domain/devices/disk[serial='xlab-config']/readonly))",
		     "1");
	assert_xpath(xml, "string(/domain/devices/interface/mac/@address)", p->hosts[1].mac);
	assert_xpath(xml, "string(/domain/devices/graphics/listen/@address)", "127.0.0.1");
	assert_xpath(xml, "string(/domain/devices/serial/log/@file)",
		     "/var/lib/xlab/labs/demo/hosts/h2/serial.log");
	assert_xpath(p->network_xml, "string(count(/network/forward))", "0");
	plan_free(p);

	env.accel = "kvm";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0);
	assert_xpath(p->hosts[0].domain_xml, "string(/domain/@type)", "kvm");
	assert_xpath(p->hosts[0].domain_xml, "string(/domain/cpu/@mode)", "host-passthrough");
	/* A CPU under KVM may lack RDRAND: the dom0's random pool from the
	 * server's, so sshd does not wait for it. */
	assert_xpath(p->hosts[0].domain_xml,
		     "string(/domain/devices/rng[@model='virtio']/backend[@model='random'])",
		     "/dev/urandom");
	plan_free(p);
	spec_free(s);
}

Test(plan, paths_are_escaped_in_xml)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };

	env.state_dir = "/tmp/a&b<c>'\"";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0);
	assert_xpath(p->hosts[0].domain_xml, "string(/domain/devices/serial/log/@file)",
		     "/tmp/a&b<c>'\"/hosts/h1/serial.log");
	plan_free(p);
	spec_free(s);
}

/* A lab on another server: the domain's disks and console log are volumes
 * of that server's pool, named after the domain; the config disk and boot
 * ISO are still made here, in the host's directory, and uploaded. */
Test(plan, a_lab_on_a_server_has_its_disks_in_the_pool)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };
	_cleanup_free_ char *root = NULL, *vol = NULL;

	const char *dirs[] = { "/var/lib/libvirt/xlab", "/var/lib/libvirt/xlab" };

	s->server = xstrdup("box2");
	env.volume_dirs = dirs;
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_expect(!p->spread);
	cr_expect_str_eq(p->hosts[1].server, "box2");
	root = xasprintf("/var/lib/libvirt/xlab/%s.root.qcow2", p->hosts[0].domain);
	assert_xpath(p->hosts[0].domain_xml,
		     "string(/domain/devices/disk[target/@dev='vda']/source/@file)", root);
	cr_expect_str_eq(p->hosts[0].serial_log, "/var/lib/libvirt/xlab/xlab-5e1ec7ed.demo.h1.serial.log");
	cr_expect_str_eq(p->hosts[0].config_build, "/var/lib/xlab/labs/demo/hosts/h1/config.img");
	cr_expect_str_eq(p->hosts[0].iso_build, "/var/lib/xlab/labs/demo/hosts/h1/boot.iso");
	vol = plan_volume_name(p->hosts[1].boot_iso);
	cr_expect_str_eq(vol, "xlab-5e1ec7ed.demo.h2.boot.iso");
	/* Every volume of the lab begins with its network's name and a dot:
	 * what `down` removes, and nothing of a lab whose name only begins so. */
	for (size_t i = 0; i < p->n_hosts; i++) {
		_cleanup_free_ char *prefix = xasprintf("/var/lib/libvirt/xlab/%s.", p->network);

		cr_expect(!strncmp(p->hosts[i].data_disk, prefix, strlen(prefix)), "%s",
			  p->hosts[i].data_disk);
	}
	plan_free(p);
	spec_free(s);
}

/* A host whose image has xlab's lean kernel boots with QEMU loading Xen and
 * that kernel directly: no cdrom, no grub; Xen's options, then the dom0's
 * after " -- ", on one command line; the dom0 mounts its root itself. */
Test(plan, direct_boot_loads_xen_and_the_kernel)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };
	const bool direct[] = { true, false };
	const char *xml, *cmd;

	env.direct_boot = direct;
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	xml = p->hosts[0].domain_xml;
	cr_assert(p->hosts[0].direct_boot);
	cr_assert(p->hosts[0].unpack_kernel);
	assert_xpath(xml, "string(/domain/os/kernel)", "/var/lib/xlab/labs/demo/hosts/h1/xen");
	assert_xpath(xml, "string(/domain/os/initrd)", "/var/lib/xlab/labs/demo/hosts/h1/vmlinux");
	assert_xpath(xml, "string(count(/domain/os/boot))", "0");
	assert_xpath(xml, "string(count(/domain/devices/disk[@device='cdrom']))", "0");
	cmd = p->hosts[0].xen_cmdline;
	assert_xpath(xml, "string(/domain/os/cmdline)", cmd);
	cr_assert_not_null(strstr(cmd, "dom0_mem=1024M,max:1024M console=com1 com1=115200,8n1 "
				       "bootscrub=0 dom0_max_vcpus=1 -- root=/dev/vda ro "),
			   "%s", cmd);
	cr_assert_not_null(strstr(cmd, " init=/sbin/xlab-init swiotlb=8192 rootfstype=ext4 rootwait"), "%s", cmd);
	cr_expect_null(p->hosts[0].grub_cfg);
	cr_expect_null(p->hosts[0].iso_build);
	cr_expect_str_eq(p->hosts[0].xen_build, "/var/lib/xlab/labs/demo/hosts/h1/xen");
	/* Its neighbour's image needs its initrd: grub from an ISO, as before. */
	cr_assert(!p->hosts[1].direct_boot);
	assert_xpath(p->hosts[1].domain_xml, "string(/domain/os/boot/@dev)", "cdrom");
	assert_xpath(p->hosts[1].domain_xml, "string(count(/domain/os/kernel))", "0");
	cr_assert_not_null(strstr(p->hosts[1].grub_cfg, "  module /boot/initrd.img\n"));
	cr_expect_null(p->hosts[1].xen_build);
	plan_free(p);

	/* QEMU would split a module path at its comma, or take what follows a
	 * space as the module's arguments: grub instead. */
	env.state_dir = "/tmp/a,b";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_assert(!p->hosts[0].direct_boot);
	assert_xpath(p->hosts[0].domain_xml, "string(/domain/devices/disk[@device='cdrom']/source/@file)",
		     "/tmp/a,b/hosts/h1/boot.iso");
	plan_free(p);
	env.state_dir = "/tmp/a b";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_assert(!p->hosts[0].direct_boot);
	plan_free(p);

	/* On a server the two files are volumes of its pool, like the disks. */
	{
		const char *dirs[] = { "/var/lib/libvirt/xlab", NULL };
		_cleanup_free_ char *xen = NULL, *kernel = NULL;

		env.state_dir = "/var/lib/xlab/labs/demo";
		env.volume_dirs = dirs;
		free(s->hosts[0].server);
		s->hosts[0].server = xstrdup("box2");
		cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
		xen = plan_volume_name(p->hosts[0].boot_xen);
		kernel = plan_volume_name(p->hosts[0].boot_kernel);
		cr_expect_str_eq(xen, "xlab-5e1ec7ed.demo.h1.xen");
		/* A server is sent the bzImage, a quarter of the unpacked size. */
		cr_expect_str_eq(kernel, "xlab-5e1ec7ed.demo.h1.vmlinuz");
		cr_expect_str_eq(p->hosts[0].kernel_build, "/var/lib/xlab/labs/demo/hosts/h1/vmlinuz");
		cr_expect_not(p->hosts[0].unpack_kernel);
		plan_free(p);
	}
	spec_free(s);
}

Test(plan, xl_config_and_grub)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct xerr e = { 0 };
	const char *db1;

	cr_assert_eq(plan_build(s, &env_tcg, &p, &e), 0);
	db1 = p->guests[1].xl_cfg;
	cr_assert_not_null(strstr(db1, "memory = 256\n"), "%s", db1);
	cr_assert_not_null(strstr(db1, "disk = [ \"format=raw,vdev=xvda,access=w,"
							 "script=/var/lib/xlab/hotplug/block,"
							 "target=/dev/xlab/db1\" ]\n"), "%s", db1);
	cr_assert_not_null(strstr(db1, "on_crash = \"preserve\"\n"), "%s", db1);
	cr_assert_null(strstr(db1, "on_crash = \"destroy\""), "pass-through wins: %s", db1);
	cr_assert_not_null(strstr(db1, "xlab.ip=10.80.0.60/24"), "%s", db1);
	cr_assert_not_null(strstr(p->guests[0].xl_cfg, "on_crash = \"destroy\"\n"));
	cr_assert_not_null(strstr(p->hosts[0].grub_cfg, "dom0_mem=1024M,max:1024M"));
	cr_assert_not_null(strstr(p->hosts[0].grub_cfg, "console=com1 com1=115200,8n1"));
	/* A nested host's RAM comes zeroed from QEMU: no background scrub. */
	cr_assert_not_null(strstr(p->hosts[0].grub_cfg, " bootscrub=0 "));
	cr_assert_not_null(strstr(p->hosts_file, "10.80.0.11 h2\n"));
	cr_assert_not_null(strstr(p->hosts_file, "10.80.0.60 db1\n"));
	plan_free(p);
	spec_free(s);
}

/* vnc: true puts a framebuffer on the dom0's loopback at 5900 + the last
 * byte of the guest's address; without it there is none. */
Test(plan, vnc_guest_gets_a_loopback_vfb)
{
	struct spec *s = load_text("lab: v\nxen: \"4.17\"\nnetwork: {subnet: 10.80.0.0/24}\n"
				   "hosts:\n  - name: h1\n"
				   "guests:\n  - {name: g1, host: h1, vnc: true, ip: 10.80.0.77}\n"
				   "  - {name: g2, host: h1}\n");
	struct plan *p = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(plan_build(s, &env_tcg, &p, &e), 0, "%s", e.msg);
	cr_assert_not_null(strstr(p->guests[0].xl_cfg,
				  "vfb = [ \"vnc=1,vnclisten=127.0.0.1,vncunused=0,vncdisplay=77\" ]\n"),
			   "%s", p->guests[0].xl_cfg);
	cr_assert_eq(plan_vnc_port("10.80.0.77", 24), 5977);
	cr_assert_eq(plan_vnc_port("10.80.1.77", 16), 5900 + 256 + 77);
	cr_assert_eq(plan_vnc_port("10.80.250.1", 16), -1);
	cr_assert_null(strstr(p->guests[1].xl_cfg, "vfb"), "%s", p->guests[1].xl_cfg);
	plan_free(p);
	spec_free(s);
}

/* Each guest type's config: the same kernel, LV and network; PVH has no
 * device model, HVM speaks on its serial port, has a PV-only NIC and its
 * framebuffer is the device model's VGA. */
/* Xen's own hotplug scripts when the spec asks (a Xen developer testing
 * them), xlab's lean ones otherwise; defaults.guest sets it for all. */
Test(plan, hotplug_scripts_xlab_or_xen)
{
	static const char text[] = "lab: t\nxen: \"4.17\"\ndefaults:\n  guest: {hotplug: xen}\n"
				   "hosts:\n  - name: h1\nguests:\n  - {name: a, host: h1}\n"
				   "  - {name: b, host: h1, hotplug: xlab, swap: 64M}\n";
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct plan *p = NULL;
	struct xerr e = { 0 };
	const char *a, *b;

	cr_assert_eq(spec_load_buffer("t.yaml", text, strlen(text), &s, &d, &e), 0, "%s",
		     d.n ? d.v[0].msg : e.msg);
	cr_assert_eq(plan_build(s, &env_tcg, &p, &e), 0, "%s", e.msg);
	a = p->guests[0].xl_cfg;
	b = p->guests[1].xl_cfg;
	cr_expect(strstr(a, "disk = [ \"format=raw,vdev=xvda,access=w,target=/dev/xlab/a\" ]\n"),
		  "%s", a);
	cr_expect(strstr(a, ",bridge=xenbr0\" ]\n"), "%s", a);
	cr_expect_null(strstr(a, "script="), "%s", a);
	cr_expect(strstr(b, "\"format=raw,vdev=xvdb,access=w,script=/var/lib/xlab/hotplug/block,"
			    "target=/dev/xlab/b-swap\" ]\n"), "%s", b);
	cr_expect(strstr(b, ",bridge=xenbr0,script=/var/lib/xlab/hotplug/vif\" ]\n"), "%s", b);
	plan_free(p);
	spec_free(s);
	spec_diags_free(&d);
}

Test(plan, guest_types_pv_pvh_hvm)
{
	struct spec *s = load_text("lab: t\nxen: \"4.20\"\nnetwork: {subnet: 10.80.0.0/24}\n"
				   "hosts:\n  - name: h1\n"
				   "guests:\n  - {name: p, host: h1}\n"
				   "  - {name: q, host: h1, type: pvh}\n"
				   "  - {name: v, host: h1, type: hvm, ip: 10.80.0.70}\n"
				   "  - {name: w, host: h1, type: hvm, vnc: true, ip: 10.80.0.71}\n"
				   "  - {name: x, host: h1, type: pvh, xl: {hap: 1}}\n");
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };
	const char *pv, *pvh, *hvm, *hvm_vnc;

	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	pv = p->guests[0].xl_cfg, pvh = p->guests[1].xl_cfg;
	hvm = p->guests[2].xl_cfg, hvm_vnc = p->guests[3].xl_cfg;
	cr_assert_not_null(strstr(pv, "type = \"pv\"\n"), "%s", pv);
	cr_assert_not_null(strstr(pvh, "type = \"pvh\"\n"), "%s", pvh);
	cr_assert_not_null(strstr(hvm, "type = \"hvm\"\n"), "%s", hvm);
	for (const char *c, **it = (const char *[]){ pv, pvh, hvm, NULL }; (c = *it); it++) {
		cr_assert_not_null(strstr(c, "kernel = \"/var/lib/xlab/guest/vmlinuz\"\n"), "%s", c);
		cr_assert_not_null(strstr(c, "script=/var/lib/xlab/hotplug/block,target=/dev/xlab/"),
				   "%s", c);
	}
	cr_assert_not_null(strstr(pvh, "console=hvc0 "), "%s", pvh);
	cr_assert_not_null(strstr(hvm, "console=hvc0 "), "%s", hvm);
	cr_assert_null(strstr(pvh, "serial"), "%s", pvh);
	cr_assert_null(strstr(pvh, "type=vif"), "%s", pvh);
	cr_assert_not_null(strstr(hvm, "serial = \"pty\"\n"), "%s", hvm);
	cr_assert_not_null(strstr(hvm, ",bridge=xenbr0,type=vif,script=/var/lib/xlab/hotplug/vif\" ]\n"),
			   "%s", hvm);
	cr_assert_not_null(strstr(hvm, "vnc = 0\n"), "%s", hvm);
	cr_assert_not_null(strstr(hvm_vnc, "vnc = 1\nvnclisten = \"127.0.0.1\"\nvncunused = 0\n"
					   "vncdisplay = 71\n"),
			   "%s", hvm_vnc);
	cr_assert_null(strstr(hvm_vnc, "vfb"), "an HVM guest's display is its VGA: %s", hvm_vnc);
	/* Under TCG pvh and hvm guests run on shadow where Xen has it, unless
	 * the spec says how (xl.hap); under KVM HAP is the fast way. */
	cr_assert_not(p->guests[0].prefer_shadow);
	cr_assert(p->guests[1].prefer_shadow);
	cr_assert(p->guests[2].prefer_shadow);
	cr_assert_not(p->guests[4].prefer_shadow);
	cr_assert_not_null(strstr(p->guests[4].xl_cfg, "hap = 1\n"));
	plan_free(p);
	env.accel = "kvm";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < p->n_guests; i++)
		cr_assert_not(p->guests[i].prefer_shadow, "%s", p->guests[i].spec->name);
	plan_free(p);
	spec_free(s);
}

/* A mixed-version lab: each host's section names the image it boots. */
Test(plan, each_host_names_its_image)
{
	struct spec *s = load_text("lab: t\nxen: \"4.20\"\nnetwork: {subnet: 10.80.0.0/24}\n"
				   "hosts:\n  - {name: old, xen: \"4.17\"}\n  - name: new\n"
				   "  - {name: mine, image: xen-4.20-shadow}\n");
	struct plan *p = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *out = NULL;

	cr_assert_eq(plan_build(s, &env_tcg, &p, &e), 0, "%s", e.msg);
	cr_expect_str_eq(p->hosts[0].image, "xen-4.17");
	cr_expect_str_eq(p->hosts[1].image, "xen-4.20");
	cr_expect_str_eq(p->hosts[2].image, "xen-4.20-shadow");
	out = plan_text(p);
	cr_expect(strstr(out, "\n## host old: image xen-4.17, domain "), "%s", out);
	cr_expect(strstr(out, "\n## host new: image xen-4.20, domain "), "%s", out);
	cr_expect(strstr(out, "\n## host mine: image xen-4.20-shadow, domain "), "%s", out);
	plan_free(p);
	spec_free(s);
}

/* A lab across servers: one gateway (on the lab's server), the same
 * bridge elsewhere without an address, room for VXLAN's headers on both,
 * each host's disks where it runs. */
Test(plan, a_lab_across_servers)
{
	struct spec *s = load_text("lab: t\nxen: \"4.20\"\nnetwork: {subnet: 10.80.0.0/24}\n"
				   "hosts:\n  - name: h1\n  - {name: h2, server: box2}\n");
	struct spec *one = load_text("lab: u\nxen: \"4.20\"\nserver: box2\n"
				     "hosts:\n  - name: h1\n  - {name: h2, server: box2}\n");
	const char *dirs[] = { NULL, "/srv/pool" };
	struct plan_env env = env_tcg;
	struct plan *p = NULL, *q = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *out = NULL;
	char name[16];
	unsigned vni;

	env.volume_dirs = dirs;
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_expect(p->spread);
	cr_expect_null(p->hosts[0].server);
	cr_expect_str_eq(p->hosts[1].server, "box2");
	cr_expect(!strncmp(p->hosts[0].data_disk, "/var/lib/xlab/labs/demo/hosts/h1/", 33), "%s",
		  p->hosts[0].data_disk);
	cr_expect(!strncmp(p->hosts[1].data_disk, "/srv/pool/", 10), "%s", p->hosts[1].data_disk);
	assert_xpath(p->network_xml, "string(/network/ip/@address)", "10.80.0.1");
	assert_xpath(p->network_xml, "string(/network/mtu/@size)", "1450");
	assert_xpath(p->network_xml_peer, "count(/network/ip)", "0");
	assert_xpath(p->network_xml_peer, "string(/network/mtu/@size)", "1450");
	assert_xpath(p->network_xml_peer, "string(/network/bridge/@name)", p->bridge);
	assert_xpath(p->hosts[1].domain_xml, "string(/domain/devices/interface/mtu/@size)", "1450");
	cr_expect(!strncmp(p->vxlan, "xlvx-", 5) && strlen(p->vxlan) == 15, "%s", p->vxlan);
	cr_expect(p->vni > 0 && p->vni < (1u << 24));
	names_vxlan(env.store_id, "t2", name, &vni);
	cr_expect(vni != p->vni && strcmp(name, p->vxlan) != 0);
	out = plan_text(p);
	cr_expect(strstr(out, "\n## host h2: image xen-4.20, domain "), "%s", out);
	cr_expect(strstr(out, ", server box2\n"), "%s", out);
	/* A host here says no server: its line ends with its address. */
	cr_expect(strstr(out, "\n## host h1: image xen-4.20, domain ") &&
		  strstr(out, ", ip 10.80.0.10\n"), "%s", out);
	cr_expect(strstr(out, "\n## VXLAN xlvx-"), "%s", out);
	/* Every host on the lab's server is not spread, whoever names it. */
	cr_assert_eq(plan_build(one, &env, &q, &e), 0, "%s", e.msg);
	cr_expect(!q->spread);
	cr_expect_null(q->network_xml_peer);
	assert_xpath(q->network_xml, "count(/network/mtu)", "0");
	assert_xpath(q->hosts[0].domain_xml, "count(/domain/devices/interface/mtu)", "0");
	plan_free(q);
	plan_free(p);
	spec_free(one);
	spec_free(s);
}

/* Across servers the shared disk is one file on the lab's own server,
 * which every host's QEMU reaches as qemu-nbd's export there; on one other
 * server it is a volume of its pool, attached as a file. */
Test(plan, the_shared_disk_across_servers)
{
	struct spec *s = load_text("lab: t\nxen: \"4.20\"\nnetwork: {subnet: 10.80.0.0/24}\n"
				   "storage: {vg: xlab, shared: {vg: shared, size: 1G}}\n"
				   "hosts:\n  - name: h1\n  - {name: h2, server: box2}\n");
	struct spec *there = load_text("lab: u\nxen: \"4.20\"\nserver: box2\n"
				       "storage: {vg: xlab, shared: {vg: shared, size: 1G}}\n"
				       "hosts:\n  - name: h1\n  - name: h2\n");
	const char *dirs[] = { NULL, "/srv/pool" }, *dirs2[] = { "/srv/pool", "/srv/pool" };
	struct plan_env env = env_tcg;
	struct plan *p = NULL, *q = NULL;
	struct xerr e = { 0 };
	char port[8];

	env.volume_dirs = dirs;
	env.shared_nbd_addr = "10.99.0.1";
	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	cr_expect_str_eq(p->shared_disk, "/var/lib/xlab/labs/demo/shared.img");
	cr_expect(p->shared_nbd_port >= PLAN_NBD_PORT_BASE &&
		  p->shared_nbd_port < PLAN_NBD_PORT_BASE + PLAN_NBD_PORTS);
	snprintf(port, sizeof(port), "%d", p->shared_nbd_port);
	for (size_t i = 0; i < 2; i++) {
		const char *x = p->hosts[i].domain_xml;

		assert_xpath(x, "string(//disk[serial='xlab-shared']/@type)", "network");
		assert_xpath(x, "string(//disk[serial='xlab-shared']/source/@protocol)", "nbd");
		assert_xpath(x, "string(//disk[serial='xlab-shared']/source/@name)", "shared");
		assert_xpath(x, "string(//disk[serial='xlab-shared']/source/host/@name)", "10.99.0.1");
		assert_xpath(x, "string(//disk[serial='xlab-shared']/source/host/@port)", port);
		assert_xpath(x, "count(//disk[serial='xlab-shared']/shareable)", "1");
	}
	env.volume_dirs = dirs2;
	env.shared_nbd_addr = NULL;
	cr_assert_eq(plan_build(there, &env, &q, &e), 0, "%s", e.msg);
	cr_expect_null(q->shared_nbd_addr);
	cr_expect_str_eq(q->shared_disk, "/srv/pool/xlab-5e1ec7ed.u.shared.img");
	assert_xpath(q->hosts[1].domain_xml, "string(//disk[serial='xlab-shared']/source/@file)",
		     "/srv/pool/xlab-5e1ec7ed.u.shared.img");
	plan_free(q);
	plan_free(p);
	spec_free(there);
	spec_free(s);
}

/* Issue 17 point 4: lab `demo` host `x-h1` and lab `demo-x` host `h1` got
 * one domain name; '.' cannot appear in a name, so now they cannot. */
Test(plan, derived_names_are_unambiguous)
{
	const char *sid = "5e1ec7ed-0000-4000-8000-000000000001";
	const char *other = "0badc0de-0000-4000-8000-000000000002";
	_cleanup_free_ char *a = names_domain(sid, "demo", "x-h1");
	_cleanup_free_ char *b = names_domain(sid, "demo-x", "h1");
	_cleanup_free_ char *c = names_domain(other, "demo", "x-h1");
	_cleanup_free_ char *na = names_network(sid, "demo");
	_cleanup_free_ char *nb = names_network(other, "demo");
	_cleanup_free_ char *swap = names_guest_swap("web");
	char ba[16], bb[16];

	cr_assert_str_neq(a, b);
	cr_assert_str_eq(a, "xlab-5e1ec7ed.demo.x-h1");
	cr_assert_str_eq(b, "xlab-5e1ec7ed.demo-x.h1");
	/* Two stores, one lab name: side by side on one libvirt. */
	cr_assert_str_neq(a, c);
	cr_assert_str_neq(na, nb);
	names_bridge(sid, "demo", ba);
	names_bridge(other, "demo", bb);
	cr_assert_str_neq(ba, bb);
	cr_assert_eq(strlen(ba), 15);
	/* Guest `web-swap` would be guest `web`'s swap volume. */
	cr_assert_str_eq(swap, "web-swap");
	cr_assert(names_guest_reserved(swap));
	cr_assert(names_guest_reserved("-swap"));
	cr_assert_not(names_guest_reserved("web"));
	cr_assert_not(names_guest_reserved("swap"));
	cr_assert_not(names_guest_reserved("web-swapper"));
}

Test(plan, metadata_names_the_store_and_a_plan_needs_one)
{
	struct spec *s = load_reference();
	struct plan *p = NULL;
	struct plan_env env = env_tcg;
	struct xerr e = { 0 };

	cr_assert_eq(plan_build(s, &env, &p, &e), 0, "%s", e.msg);
	assert_xpath(p->hosts[0].domain_xml,
		     "string(/domain/metadata/*[local-name()='lab']/@store)", env.store_id);
	assert_xpath(p->network_xml, "string(/network/metadata/*[local-name()='lab']/@store)",
		     env.store_id);
	assert_xpath(p->network_xml, "string(/network/metadata/*[local-name()='lab']/@name)",
		     "demo");
	plan_free(p);
	p = NULL;
	env.store_id = NULL;
	cr_assert_eq(plan_build(s, &env, &p, &e), -1);
	cr_assert(strstr(e.msg, "store's id"), "%s", e.msg);
	env.store_id = "not-a-uuid";
	cr_assert_eq(plan_build(s, &env, &p, &e), -1);
	spec_free(s);
}

/* The store's paths come from one place, and a root disk found by the glob
 * names its lab (image rm refuses an image a lab still uses by that). */
Test(plan, store_paths_and_the_lab_of_a_root_disk)
{
	_cleanup_free_ char *dir = names_lab_dir("/var/lib/xlab", "demo");
	_cleanup_free_ char *host = names_host_dir(dir, "h1");
	_cleanup_free_ char *guest = names_guest_dir(dir, "web");
	_cleanup_free_ char *pattern = names_root_disks_glob("/var/lib/xlab");
	_cleanup_free_ char *disk = xasprintf("%s/root.qcow2", host);
	_cleanup_free_ char *lab = names_root_disk_lab("/var/lib/xlab", disk);
	_cleanup_free_ char *none = names_root_disk_lab("/var/lib/xlab", "/elsewhere/labs/x/h");
	_cleanup_free_ char *empty = names_root_disk_lab("/var/lib/xlab", "/var/lib/xlab/labs/");

	cr_assert_str_eq(dir, "/var/lib/xlab/labs/demo");
	cr_assert_str_eq(host, "/var/lib/xlab/labs/demo/hosts/h1");
	cr_assert_str_eq(guest, "/var/lib/xlab/labs/demo/guests/web");
	cr_assert_eq(fnmatch(pattern, disk, FNM_PATHNAME), 0, "%s does not match %s", disk, pattern);
	cr_assert_str_eq(lab, "demo");
	cr_assert_null(none);
	cr_assert_null(empty);
}

/* Under TCG dom0 gets one vCPU unless the spec says otherwise; under KVM
 * Xen's default (no option); a spec's dom0_vcpus wins under both. */
Test(plan, dom0_vcpus_one_under_tcg_unless_given)
{
	struct spec *s = load_text("lab: dv\nxen: \"4.20\"\n"
				   "hosts:\n  - name: h1\n  - {name: h2, vcpus: 4, dom0_vcpus: 3}\n");
	struct plan_env env_kvm = env_tcg;
	struct plan *tcg = NULL, *kvm = NULL;
	struct xerr e = { 0 };

	env_kvm.accel = "kvm";
	cr_assert_eq(plan_build(s, &env_tcg, &tcg, &e), 0, "%s", e.msg);
	cr_assert_eq(plan_build(s, &env_kvm, &kvm, &e), 0, "%s", e.msg);
	cr_assert_not_null(strstr(tcg->hosts[0].grub_cfg, "bootscrub=0 dom0_max_vcpus=1\n"), "%s",
			   tcg->hosts[0].grub_cfg);
	cr_assert_null(strstr(kvm->hosts[0].grub_cfg, "dom0_max_vcpus"), "%s",
		       kvm->hosts[0].grub_cfg);
	cr_assert_not_null(strstr(tcg->hosts[1].grub_cfg, " dom0_max_vcpus=3\n"));
	cr_assert_not_null(strstr(kvm->hosts[1].grub_cfg, " dom0_max_vcpus=3\n"));
	plan_free(tcg);
	plan_free(kvm);
	spec_free(s);
}

/* `xen_args` comes after xlab's options, so Xen takes its value of an
 * option given twice (bootscrub); defaults.host gives it to every host. */
Test(plan, xen_args_follow_xlabs_own)
{
	struct spec *s = load_text("lab: xa\nxen: \"4.20\"\n"
				   "defaults: {host: {xen_args: \"loglvl=all\"}}\n"
				   "hosts:\n  - name: h1\n"
				   "  - {name: h2, xen_args: \"bootscrub=1 sched=credit2\"}\n");
	struct plan *p = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(plan_build(s, &env_tcg, &p, &e), 0, "%s", e.msg);
	cr_assert_not_null(strstr(p->hosts[0].grub_cfg, "bootscrub=0 dom0_max_vcpus=1 loglvl=all\n"), "%s",
			   p->hosts[0].grub_cfg);
	cr_assert_not_null(strstr(p->hosts[1].grub_cfg, "dom0_max_vcpus=1 bootscrub=1 sched=credit2\n"),
			   "%s", p->hosts[1].grub_cfg);
	plan_free(p);
	spec_free(s);
}
