/* virt.c against libvirt's test:///default driver: proves the wiring (lookups,
 * errors, metadata ownership), not that QEMU boots. Every connection to
 * test:///default starts from the same fresh state: domain "test", network
 * "default". */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "virt.h"

#define S1 "11111111-1111-4111-8111-111111111111"
#define S2 "22222222-2222-4222-8222-222222222222"

#define NET_XML_OF(store)                                                                  \
	"<network><name>xlab-t1</name>"                                                    \
	"<metadata><xlab:lab xmlns:xlab='" XLAB_XML_NS "' name='t1' store='" store "'/>"    \
	"</metadata><bridge name='xlbr-t1'/>"                                              \
	"<ip address='10.99.0.1' netmask='255.255.255.0'/></network>"
#define NET_XML NET_XML_OF(S1)

#define DOM_XML(name, lab) DOM_XML_OF(name, lab, S1)
#define DOM_XML_OF(name, lab, store)                                                       \
	"<domain type='test'><name>" name "</name>"                                        \
	"<metadata><xlab:lab xmlns:xlab='" XLAB_XML_NS "' name='" lab "' store='" store    \
	"'/></metadata>"                                                                   \
	"<memory unit='KiB'>65536</memory><vcpu>2</vcpu>"                                  \
	"<os><type arch='x86_64'>hvm</type></os>"                                          \
	"<devices><graphics type='vnc' port='5907' autoport='no' listen='127.0.0.1'/>"     \
	"</devices></domain>"

static struct virt *v;
static struct virt_owner own_t1, own_lab1, own_lab2, own_a, own_none;

static const struct virt_owner *own(const char *store, const char *lab)
{
	static struct virt_owner o;

	virt_owner_set(&o, store, lab);
	return &o;
}

static void open_test(void)
{
	struct xerr e = { 0 };

	cr_assert_eq(virt_open("test:///default", &v, &e), 0, "%s", e.msg);
	virt_owner_set(&own_t1, S1, "t1");
	virt_owner_set(&own_lab1, S1, "lab1");
	virt_owner_set(&own_lab2, S1, "lab2");
	virt_owner_set(&own_a, S1, "a");
	virt_owner_set(&own_none, S1, "");
}

static void close_test(void)
{
	virt_close(v);
	v = NULL;
}

TestSuite(virt, .init = open_test, .fini = close_test);

Test(virt, open_bad_uri_fails_with_message)
{
	struct virt *bad = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(virt_open("nosuchdriver:///x", &bad, &e), -1);
	cr_assert_eq(e.kind, XERR_FAIL);
	cr_assert(strstr(e.msg, "nosuchdriver:///x"), "%s", e.msg);
	cr_assert_null(bad);
}

Test(virt, open_refuses_uris_that_run_programs)
{
	static const char *const bad[] = { "qemu+ext:///system?command=/bin/true",
					   "qemu:///system?socket=/tmp/x",
					   "qemu+ssh://h/system?netcat=/tmp/nc" };
	struct virt *opened = NULL;
	struct xerr e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(virt_open(bad[i], &opened, &e), -1, "%s opened", bad[i]);
		cr_assert(strstr(e.msg, "refused"), "%s", e.msg);
		cr_assert_null(opened);
	}
}

Test(virt, default_uri_order)
{
	setenv("XLAB_CONNECT", "test:///env", 1);
	cr_assert_str_eq(virt_default_uri("test:///flag", "test:///spec"), "test:///flag");
	/* The environment is the user's; the spec may come from anyone. */
	cr_assert_str_eq(virt_default_uri(NULL, "test:///spec"), "test:///env");
	cr_assert_str_eq(virt_default_uri(NULL, NULL), "test:///env");
	unsetenv("XLAB_CONNECT");
	cr_assert_str_eq(virt_default_uri(NULL, "test:///spec"), "test:///spec");
	cr_assert_str_eq(virt_default_uri(NULL, NULL), "qemu:///system");
}

Test(virt, accel_force_and_detect)
{
	struct xerr e = { 0 };
	char *a = NULL;

	cr_assert_eq(virt_detect_accel(v, "kvm", &a, &e), 0);
	cr_assert_str_eq(a, "kvm");
	free(a);
	cr_assert_eq(virt_detect_accel(v, "tcg", &a, &e), 0);
	cr_assert_str_eq(a, "qemu");
	free(a);
	cr_assert_eq(virt_detect_accel(v, "qemu", &a, &e), 0);
	cr_assert_str_eq(a, "qemu");
	free(a);
	a = NULL;
	cr_assert_eq(virt_detect_accel(v, "xen", &a, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(strstr(e.msg, "'xen'"), "%s", e.msg);
	cr_assert_null(a);
	/* The test driver offers no kvm domain capabilities: TCG. */
	cr_assert_eq(virt_detect_accel(v, NULL, &a, &e), 0, "%s", e.msg);
	cr_assert_str_eq(a, "qemu");
	free(a);
}

Test(virt, cpuinfo_flags)
{
	cr_assert(virt_cpuinfo_has_hwvirt("processor\t: 0\nflags\t\t: fpu vme vmx sse\n"));
	cr_assert(virt_cpuinfo_has_hwvirt("flags\t\t: fpu svm\nbugs\t\t: x\n"));
	cr_assert_not(virt_cpuinfo_has_hwvirt("flags\t\t: fpu vmxx svm_lock\n"));
	cr_assert_not(virt_cpuinfo_has_hwvirt("vmx flags\t: vmx\nflags\t\t: fpu\n"));
	cr_assert_not(virt_cpuinfo_has_hwvirt(""));
}

/* kvm_amd says 1/0 on older kernels, Y/N on newer ones. */
Test(virt, kvm_nested_parameter)
{
	cr_assert(virt_kvm_nested_text_on("Y\n"));
	cr_assert(virt_kvm_nested_text_on("1\n"));
	cr_assert_not(virt_kvm_nested_text_on("N\n"));
	cr_assert_not(virt_kvm_nested_text_on("0\n"));
	cr_assert_not(virt_kvm_nested_text_on(""));
	cr_assert_not(virt_kvm_nested_text_on(NULL));
}

Test(virt, network_ensure_twice_then_remove_twice)
{
	struct xerr e = { 0 };
	bool created = false;

	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML, &own_t1, &created, &e), 0, "%s", e.msg);
	cr_assert(created);
	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML, &own_t1, &created, &e), 0, "%s", e.msg);
	cr_assert_not(created);
	cr_assert_eq(virt_network_remove(v, "xlab-t1", &own_t1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_network_remove(v, "xlab-t1", &own_t1, &e), 0, "%s", e.msg);
	/* Gone for real: ensuring it again creates it again. */
	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML, &own_t1, &created, &e), 0, "%s", e.msg);
	cr_assert(created);
}

Test(virt, network_ensure_refuses_xml_of_another_name)
{
	struct xerr e = { 0 };
	bool created = true;

	cr_assert_eq(virt_network_ensure(v, "xlab-other", NET_XML, &own_t1, &created, &e), -1);
	cr_assert_not(created);
	cr_assert(strstr(e.msg, "xlab-other"), "%s", e.msg);
	/* Nothing was left behind under the XML's name. */
	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML, &own_t1, &created, &e), 0, "%s", e.msg);
	cr_assert(created);
}

Test(virt, network_ensure_bad_xml_fails)
{
	struct xerr e = { 0 };
	bool created;

	cr_assert_eq(virt_network_ensure(v, "xlab-t2", "<network>", &own_t1, &created, &e), -1);
	cr_assert_eq(e.kind, XERR_FAIL);
	cr_assert(strstr(e.msg, "cannot define network 'xlab-t2'"), "%s", e.msg);
}

Test(virt, domain_lifecycle_with_lab_ownership)
{
	struct virt_dom_info info;
	struct xerr e = { 0 };
	char uuid[40] = "";
	char **names = NULL;
	char *display = NULL;

	cr_assert_eq(virt_domain_define(v, DOM_XML("xlab-lab1-h1", "lab1"), uuid, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(strlen(uuid), 36, "%s", uuid);

	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists);
	cr_assert_not(info.running);
	cr_assert_str_eq(info.uuid, uuid);
	cr_assert_eq(info.memory_kib, 65536);
	cr_assert_eq(info.vcpus, 2);
	cr_assert_eq(info.vnc_port, -1);
	cr_assert_eq(virt_domain_vnc(v, "xlab-lab1-h1", &display, &e), -1);
	cr_assert(strstr(e.msg, "not running"), "%s", e.msg);

	cr_assert_eq(virt_domain_start(v, "xlab-lab1-h1", &e), 0, "%s", e.msg);
	/* Starting a running domain is not an error. */
	cr_assert_eq(virt_domain_start(v, "xlab-lab1-h1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists);
	cr_assert(info.running);
	cr_assert_neq(info.uuid[0], '\0');
	cr_assert_eq(info.vnc_port, 5907);
	cr_assert_eq(virt_domain_vnc(v, "xlab-lab1-h1", &display, &e), 0, "%s", e.msg);
	cr_assert_str_eq(display, "127.0.0.1:5907");
	free(display);

	cr_assert_eq(virt_lab_domains(v, &own_lab1, &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 1);
	cr_assert_str_eq(names[0], "xlab-lab1-h1");
	strv_free(names);
	cr_assert_eq(virt_lab_domains(v, &own_lab2, &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 0);
	strv_free(names);

	cr_assert_eq(virt_domain_remove(v, "xlab-lab1-h1", &own_lab2, &e), -1);
	cr_assert(strstr(e.msg, "belongs to lab 'lab1'"), "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists && info.running);

	cr_assert_eq(virt_domain_remove(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert_not(info.exists);
	cr_assert_not(info.running);
	cr_assert_eq(info.vnc_port, -1);
	/* Removing what is gone is fine. */
	cr_assert_eq(virt_domain_remove(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_lab_domains(v, &own_lab1, &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 0);
	strv_free(names);
}

Test(virt, lab_domains_lists_only_that_lab_sorted)
{
	struct xerr e = { 0 };
	char uuid[40];
	char **names = NULL;

	cr_assert_eq(virt_domain_define(v, DOM_XML("xlab-a-h2", "a"), uuid, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_define(v, DOM_XML("xlab-b-h1", "b"), uuid, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_define(v, DOM_XML("xlab-a-h1", "a"), uuid, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_lab_domains(v, &own_a, &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 2);
	cr_assert_str_eq(names[0], "xlab-a-h1");
	cr_assert_str_eq(names[1], "xlab-a-h2");
	strv_free(names);
	/* The built-in "test" domain has no xlab metadata: no lab's. */
	cr_assert_eq(virt_lab_domains(v, &own_none, &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 0);
	strv_free(names);
}

Test(virt, domain_without_metadata_is_refused)
{
	struct virt_dom_info info;
	struct xerr e = { 0 };

	cr_assert_eq(virt_domain_remove(v, "test", &own_lab1, &e), -1);
	cr_assert_eq(e.kind, XERR_FAIL);
	cr_assert(strstr(e.msg, "not made by xlab"), "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "test", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists);
	cr_assert(info.running);
}

Test(virt, missing_domain)
{
	struct virt_dom_info info;
	struct xerr e = { 0 };

	cr_assert_eq(virt_domain_info(v, "nope", &info, &e), 0, "%s", e.msg);
	cr_assert_not(info.exists);
	cr_assert_eq(virt_domain_remove(v, "nope", &own_lab1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_start(v, "nope", &e), -1);
	cr_assert(strstr(e.msg, "no domain 'nope'"), "%s", e.msg);
}

Test(virt, define_bad_xml_reports_libvirt_message)
{
	struct xerr e = { 0 };
	char uuid[40];

	cr_assert_eq(virt_domain_define(v, "<domain type='test'/>", uuid, &e), -1);
	cr_assert_eq(e.kind, XERR_FAIL);
	cr_assert(strncmp(e.msg, "cannot define domain: ", 22) == 0, "%s", e.msg);
	cr_assert_gt(strlen(e.msg), 22);
}

/* Issue 17 point 4 and issue 24: two stores on one libvirt, each with a lab
 * of the same name, never see or touch the other's objects. */
Test(virt, another_stores_domain_is_never_touched)
{
	struct virt_dom_info info;
	struct xerr e = { 0 };
	char uuid[40];
	char **names = NULL;

	cr_assert_eq(virt_domain_define(v, DOM_XML_OF("xlab-11111111.demo.h1", "demo", S1), uuid,
					&e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_define(v, DOM_XML_OF("xlab-22222222.demo.h1", "demo", S2), uuid,
					&e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_start(v, "xlab-22222222.demo.h1", &e), 0, "%s", e.msg);

	cr_assert_eq(virt_lab_domains(v, own(S1, "demo"), &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 1);
	cr_assert_str_eq(names[0], "xlab-11111111.demo.h1");
	strv_free(names);

	cr_assert_eq(virt_domain_info(v, "xlab-22222222.demo.h1", &info, &e), 0, "%s", e.msg);
	cr_assert_str_eq(info.owner.store, S2);
	cr_assert_str_eq(info.owner.lab, "demo");
	cr_assert_eq(virt_domain_remove(v, "xlab-22222222.demo.h1", own(S1, "demo"), &e), -1);
	cr_assert(strstr(e.msg, "another xlab store (store id " S2), "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-22222222.demo.h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists && info.running);

	cr_assert_eq(virt_lab_stores(v, "demo", &names, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(names), 2);
	cr_assert_str_eq(names[0], S1);
	cr_assert_str_eq(names[1], S2);
	strv_free(names);
}

Test(virt, domain_of_an_xlab_without_store_ids_is_refused)
{
	struct xerr e = { 0 };
	char uuid[40];
	struct virt_dom_info info;

	cr_assert_eq(virt_domain_define(v,
					"<domain type='test'><name>xlab-demo-h1</name><metadata>"
					"<xlab:lab xmlns:xlab='" XLAB_XML_NS "' name='demo'/>"
					"</metadata><memory unit='KiB'>65536</memory>"
					"<os><type arch='x86_64'>hvm</type></os></domain>",
					uuid, &e),
		     0, "%s", e.msg);
	cr_assert_eq(virt_domain_remove(v, "xlab-demo-h1", own(S1, "demo"), &e), -1);
	cr_assert(strstr(e.msg, "without store ids"), "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-demo-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists);
	cr_assert_str_eq(info.owner.lab, "demo");
	cr_assert_str_eq(info.owner.store, "");
}

Test(virt, another_stores_network_is_never_touched)
{
	struct xerr e = { 0 };
	bool created = false;

	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML_OF(S2), own(S2, "t1"), &created,
					 &e), 0, "%s", e.msg);
	cr_assert(created);
	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML, &own_t1, &created, &e), -1);
	cr_assert(strstr(e.msg, "another xlab store"), "%s", e.msg);
	cr_assert_eq(virt_network_remove(v, "xlab-t1", &own_t1, &e), -1);
	cr_assert(strstr(e.msg, "another xlab store"), "%s", e.msg);
	/* Still there: its owner removes it. */
	cr_assert_eq(virt_network_remove(v, "xlab-t1", own(S2, "t1"), &e), 0, "%s", e.msg);
	/* libvirt's own "default" network is no xlab lab's. */
	cr_assert_eq(virt_network_remove(v, "default", &own_t1, &e), -1);
	cr_assert(strstr(e.msg, "not made by xlab"), "%s", e.msg);
}

/* A fresh machine lacks /var/lib/libvirt/dnsmasq (no package makes it, and
 * libvirt only when it runs a DHCP network): xlab makes it, and says what
 * to do when it cannot. */
Test(virt, libvirt_network_state_dir_is_made_when_missing)
{
	char root[] = "/tmp/xlab-virt-root-XXXXXX";
	_cleanup_free_ char *dir = NULL, *blocker = NULL;
	struct xerr e = { 0 };

	cr_assert(mkdtemp(root));
	dir = xasprintf("%s/var/lib/libvirt/dnsmasq", root);
	cr_assert_eq(virt_ensure_state_dir(root, &e), 0, "%s", e.msg);
	cr_expect(path_exists(dir));
	/* Already there: nothing to do. */
	cr_assert_eq(virt_ensure_state_dir(root, &e), 0, "%s", e.msg);
	/* A file where libvirt's directory would go: refused, naming it. */
	blocker = xasprintf("%s/var", root);
	cr_assert_eq(rm_rf(blocker, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(blocker, "x", 1, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_ensure_state_dir(root, &e), -1);
	cr_expect(strstr(e.msg, dir) && strstr(e.msg, "mkdir -p"), "%s", e.msg);
	rm_rf(root, &e);
}

/* xlab stop: the domain goes off and stays defined (its disks with it);
 * another store's is refused and left running; a missing one is no error.
 * test:///default shuts a domain down at once, so no destroy is needed. */
Test(virt, shutdown_keeps_the_domain_defined)
{
	struct virt_dom_info info;
	struct xerr e = { 0 };
	char uuid[40] = "";
	bool forced = true;

	cr_assert_eq(virt_domain_define(v, DOM_XML("xlab-lab1-h1", "lab1"), uuid, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(virt_domain_start(v, "xlab-lab1-h1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_shutdown(v, "xlab-lab1-h1", own(S2, "lab1"), 0, 1, &forced, &e),
		     -1);
	cr_assert(strstr(e.msg, "another xlab store"), "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.running, "a refused stop leaves it running");

	cr_assert_eq(virt_domain_shutdown(v, "xlab-lab1-h1", &own_lab1, 0, 5, &forced, &e), 0,
		     "%s", e.msg);
	cr_assert_not(forced);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.exists, "still defined");
	cr_assert_not(info.running);
	cr_assert_str_eq(info.uuid, uuid);
	/* Stopping what is stopped or gone is fine. */
	cr_assert_eq(virt_domain_shutdown(v, "xlab-lab1-h1", &own_lab1, 0, 1, &forced, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(virt_domain_shutdown(v, "xlab-nope", &own_lab1, 0, 1, &forced, &e), 0, "%s",
		     e.msg);
	/* And it starts again as it was. */
	cr_assert_eq(virt_domain_start(v, "xlab-lab1-h1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.running);
	cr_assert_eq(virt_domain_remove(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
}

/* xlab start: a lab network that libvirt stopped is started; a missing one
 * says how to remake it; another store's is refused. */
Test(virt, network_start_restarts_an_inactive_lab_network)
{
	struct xerr e = { 0 };
	bool created = false;
	virNetworkPtr net;

	cr_assert_eq(virt_network_start(v, "xlab-t1", &own_t1, &e), -1);
	cr_assert(strstr(e.msg, "is gone from libvirt"), "%s", e.msg);
	cr_assert_eq(virt_network_ensure(v, "xlab-t1", NET_XML, &own_t1, &created, &e), 0, "%s",
		     e.msg);
	net = virNetworkLookupByName(virt_conn(v), "xlab-t1");
	cr_assert(net);
	cr_assert_eq(virNetworkDestroy(net), 0);
	cr_assert_eq(virNetworkIsActive(net), 0);
	cr_assert_eq(virt_network_start(v, "xlab-t1", own(S2, "t1"), &e), -1);
	cr_assert(strstr(e.msg, "another xlab store"), "%s", e.msg);
	cr_assert_eq(virt_network_start(v, "xlab-t1", &own_t1, &e), 0, "%s", e.msg);
	cr_assert_eq(virNetworkIsActive(net), 1);
	virNetworkFree(net);
	cr_assert_eq(virt_network_remove(v, "xlab-t1", &own_t1, &e), 0, "%s", e.msg);
}

/* Snapshots: taken paused across a lab, reverted (left paused for the
 * caller to resume every host at once), deleted; another lab's domain is
 * never snapshotted. The test driver keeps no memory, so this proves the
 * wiring only; tests/e2e/snapshot.sh proves it on nested Xen. */
Test(virt, snapshot_pause_create_revert_delete)
{
	struct virt_dom_info info;
	struct xerr e = { 0 };
	char uuid[40] = "";
	bool has = true;

	cr_assert_eq(virt_domain_define(v, DOM_XML("xlab-lab1-h1", "lab1"), uuid, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(virt_domain_start(v, "xlab-lab1-h1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_snapshot_has(v, "xlab-lab1-h1", &own_lab1, "s1", &has, &e), 0, "%s",
		     e.msg);
	cr_assert_not(has);
	cr_assert_eq(virt_snapshot_create(v, "xlab-lab1-h1", &own_lab2, "s1", &e), -1);
	cr_assert(strstr(e.msg, "belongs to lab 'lab1'"), "%s", e.msg);

	cr_assert_eq(virt_domain_pause(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_pause(v, "xlab-lab1-h1", &own_lab1, &e), 0, "twice: %s", e.msg);
	cr_assert_eq(virt_snapshot_create(v, "xlab-lab1-h1", &own_lab1, "s1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_resume(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_resume(v, "xlab-lab1-h1", &own_lab1, &e), 0, "twice: %s", e.msg);
	cr_assert_eq(virt_snapshot_has(v, "xlab-lab1-h1", &own_lab1, "s1", &has, &e), 0, "%s",
		     e.msg);
	cr_assert(has);

	cr_assert_eq(virt_snapshot_revert(v, "xlab-lab1-h1", &own_lab1, "nope", &e), -1);
	cr_assert_eq(e.kind, XERR_NOTFOUND);
	cr_assert(strstr(e.msg, "no snapshot 'nope'"), "%s", e.msg);
	cr_assert_eq(virt_snapshot_revert(v, "xlab-lab1-h1", &own_lab1, "s1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_resume(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_domain_info(v, "xlab-lab1-h1", &info, &e), 0, "%s", e.msg);
	cr_assert(info.running);

	cr_assert_eq(virt_snapshot_delete(v, "xlab-lab1-h1", &own_lab1, "s1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_snapshot_delete(v, "xlab-lab1-h1", &own_lab1, "s1", &e), 0, "gone: %s",
		     e.msg);
	cr_assert_eq(virt_snapshot_delete(v, "xlab-nope", &own_lab1, "s1", &e), 0, "%s", e.msg);
	cr_assert_eq(virt_snapshot_has(v, "xlab-lab1-h1", &own_lab1, "s1", &has, &e), 0, "%s",
		     e.msg);
	cr_assert_not(has);
	cr_assert_eq(virt_domain_remove(v, "xlab-lab1-h1", &own_lab1, &e), 0, "%s", e.msg);
}

/* Which disk keeps a lab from an internal snapshot: a writable raw one (the
 * shared disk), never the read-only boot ISO or config disk. */
Test(virt, snapshot_blocker_is_the_writable_raw_disk)
{
	const char *ok = "<domain><devices>"
			 "<disk device='cdrom'><driver type='raw'/><target dev='hdc'/><readonly/></disk>"
			 "<disk device='disk'><driver type='qcow2'/><target dev='vda'/></disk>"
			 "<disk device='disk'><driver type='raw'/><target dev='vdb'/><readonly/></disk>"
			 "<disk device='disk'><driver type='qcow2'/><target dev='vdc'/></disk>"
			 "</devices></domain>";
	const char *shared = "<domain><devices>"
			     "<disk device='disk'><driver type='qcow2'/><target dev='vda'/></disk>"
			     "<disk device='disk'><driver type='raw'/><target dev='vdb'/><readonly/></disk>"
			     "<disk device='disk'><driver type='raw' cache='none'/><target dev='vdd'/>"
			     "<shareable/></disk></devices></domain>";
	char *b = virt_snapshot_blocker(ok);

	cr_assert_null(b, "%s", b);
	b = virt_snapshot_blocker(shared);
	cr_assert_str_eq(b, "vdd");
	free(b);
}
