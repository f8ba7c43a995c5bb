/* The image build's parsers of a Debian tree, on texts like the real ones. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "treeparse.h"
#include "util.h"

Test(treeparse, mountinfo_escapes_are_undone)
{
	_cleanup_free_ char *a = mountinfo_unescape("/var/tmp/a\\040b/proc");
	_cleanup_free_ char *b = mountinfo_unescape("/x\\134y\\011z");
	_cleanup_free_ char *c = mountinfo_unescape("/trailing\\04");

	cr_assert_str_eq(a, "/var/tmp/a b/proc");
	cr_assert_str_eq(b, "/x\\y\tz");
	cr_assert_str_eq(c, "/trailing\\04", "a cut escape stays as it is");
}

Test(treeparse, mirror_from_deb822_skips_security)
{
	const char *text = "Types: deb\n"
			   "URIs: http://security.debian.org/debian-security\n"
			   "Suites: bookworm-security\n"
			   "Components: main\n"
			   "\n"
			   "Types: deb-src deb\n"
			   "URIs: http://mirror.example/debian  \n"
			   "Suites: bookworm bookworm-updates\n";
	_cleanup_free_ char *m = apt_mirror_parse(text);

	cr_assert_str_eq(m, "http://mirror.example/debian");
}

Test(treeparse, mirror_from_one_line_sources)
{
	_cleanup_free_ char *a = apt_mirror_parse(
		"# comment\ndeb http://security.debian.org/ bookworm-security main\n"
		"deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n");
	_cleanup_free_ char *none = apt_mirror_parse("Types: deb-src\nURIs: http://x/\n");
	_cleanup_free_ char *empty = apt_mirror_parse("");

	cr_assert_str_eq(a, "http://m.example/debian");
	cr_assert_null(none, "a deb-src entry is no mirror for packages");
	cr_assert_null(empty);
}

static const char moddep[] =
	"kernel/fs/ext4/ext4.ko.xz: kernel/fs/mbcache.ko.xz kernel/fs/jbd2/jbd2.ko.xz "
	"kernel/lib/crc16.ko.xz\n"
	"kernel/fs/mbcache.ko.xz:\n"
	"kernel/fs/jbd2/jbd2.ko.xz:\n"
	"kernel/lib/crc16.ko.xz:\n"
	"kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz\n"
	"kernel/drivers/virtio/virtio_ring.ko.xz:\n"
	"kernel/x/loop_a.ko: kernel/x/loop_b.ko\n"
	"kernel/x/loop_b.ko: kernel/x/loop_a.ko\n";

Test(treeparse, modules_come_with_their_dependencies_first)
{
	struct modset m = { 0 };
	struct xerr e = { 0 };
	_cleanup_free_ char *stem = NULL;

	cr_assert_eq(modset_add(&m, moddep, "kernel/drivers/virtio/virtio.ko\n", "virtio-blk", &e),
		     0, "%s", e.msg);
	cr_assert_eq(modset_add(&m, moddep, NULL, "ext4", &e), 0, "%s", e.msg);
	/* Asked twice: listed once. */
	cr_assert_eq(modset_add(&m, moddep, NULL, "jbd2", &e), 0, "%s", e.msg);
	cr_assert_eq(m.n, 6);
	cr_assert_str_eq(m.rel[0], "kernel/drivers/virtio/virtio_ring.ko.xz");
	cr_assert_str_eq(m.rel[1], "kernel/drivers/block/virtio_blk.ko.xz");
	cr_assert_str_eq(m.rel[5], "kernel/fs/ext4/ext4.ko.xz", "ext4 after what it needs");
	for (size_t i = 2; i < 5; i++)
		cr_assert(strstr("kernel/lib/crc16.ko.xz kernel/fs/jbd2/jbd2.ko.xz "
				 "kernel/fs/mbcache.ko.xz",
				 m.rel[i]),
			  "%s", m.rel[i]);
	stem = module_stem(m.rel[5]);
	cr_assert_str_eq(stem, "ext4");
	modset_free(&m);
}

Test(treeparse, builtin_missing_and_looping_modules)
{
	struct modset m = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(modset_add(&m, moddep, "kernel/drivers/virtio/virtio_pci.ko\n", "virtio_pci", &e),
		     0, "%s", e.msg);
	cr_assert_eq(m.n, 0, "a built-in module loads nothing");
	cr_assert_eq(modset_add(&m, moddep, "", "nosuchmod", &e), -1);
	cr_assert(strstr(e.msg, "nosuchmod not found in modules.dep"), "%s", e.msg);
	cr_assert_eq(modset_add(&m, moddep, "", "loop_a", &e), -1);
	cr_assert(strstr(e.msg, "loop"), "%s", e.msg);
	modset_free(&m);
}

Test(treeparse, lvm_conf_keys_are_set_where_debian_has_them)
{
	const char *keys[] = { "udev_sync", "udev_rules" };
	const char *text = "activation {\n"
			   "\t# udev_sync = 1\n"
			   "\tudev_rules=1\n"
			   "\tudev_sync_extra = 1\n"
			   "}\n";
	_cleanup_free_ char *out = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(lvm_conf_edit(text, keys, 2, "0", &out, &e), 0, "%s", e.msg);
	cr_assert_str_eq(out, "activation {\n"
			      "\tudev_sync = 0\n"
			      "\tudev_rules = 0\n"
			      "\tudev_sync_extra = 1\n"
			      "}\n");
}

Test(treeparse, lvm_conf_without_a_key_is_refused)
{
	const char *keys[] = { "obtain_device_list_from_udev" };
	_cleanup_free_ char *out = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(lvm_conf_edit("devices {\n}\n", keys, 1, "0", &out, &e), -1);
	cr_assert(strstr(e.msg, "no obtain_device_list_from_udev setting"), "%s", e.msg);
	cr_assert_null(out);
}

Test(treeparse, dpkg_status_gives_installed_packages_and_xen)
{
	const char *text = "Package: zlib1g\n"
			   "Status: install ok installed\n"
			   "Version: 1:1.2.13.dfsg-1\n"
			   "\n"
			   "Package: xen-hypervisor-4.17-amd64\n"
			   "Status: install ok installed\n"
			   "Version: 4.17.5+72-g01140da4e8-1\n"
			   "\n"
			   "Package: gone\n"
			   "Status: deinstall ok config-files\n"
			   "Version: 1\n"
			   "\n"
			   "Package: never\n"
			   "Status: purge ok not-installed\n"
			   "Version: 2\n"
			   "\n"
			   "Package: bash\n"
			   "Status: install ok installed\n"
			   "Version: 5.2.15-2+b7\n";
	struct dpkg_facts f = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(dpkg_status_parse(text, "status", &f, &e), 0, "%s", e.msg);
	cr_assert_str_eq(f.xen_version, "4.17.5");
	cr_assert_eq(f.n_packages, 3, "only installed ones");
	cr_assert_str_eq(f.packages[0], "bash=5.2.15-2+b7");
	cr_assert_str_eq(f.packages[1], "xen-hypervisor-4.17-amd64=4.17.5+72-g01140da4e8-1");
	cr_assert_str_eq(f.packages[2], "zlib1g=1:1.2.13.dfsg-1");
	dpkg_facts_free(&f);
}

Test(treeparse, dpkg_status_without_xen_or_packages_is_refused)
{
	struct dpkg_facts f = { 0 };
	struct xerr e = { 0 };
	_cleanup_free_ char *up = xen_upstream("1:4.20.1~rc1-2");

	cr_assert_eq(dpkg_status_parse("", "status", &f, &e), -1);
	cr_assert(strstr(e.msg, "no installed package in status"), "%s", e.msg);
	dpkg_facts_free(&f);
	f = (struct dpkg_facts){ 0 };
	cr_assert_eq(dpkg_status_parse("Package: a\nStatus: install ok installed\nVersion: 1\n",
				       "status", &f, &e),
		     -1);
	cr_assert(strstr(e.msg, "no xen-hypervisor package"), "%s", e.msg);
	dpkg_facts_free(&f);
	cr_assert_str_eq(up, "4.20.1");
}
