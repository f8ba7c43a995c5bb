/* What `image build --hypervisor` reads of a hypervisor and its build tree,
 * and the lean kernel's configuration fragment. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "hvinfo.h"
#include "image.h"
#include "kernelbuild.h"
#include "util.h"
#include "xenbuild.h"

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* An ELF with a multiboot 1 header at off (checksum right unless broken). */
static unsigned char *fake_xen(size_t len, size_t off, uint32_t magic, bool broken)
{
	unsigned char *p = calloc(1, len);

	memcpy(p, "\177ELF\1\1\1", 7);
	if (magic == 0x1BADB002u) {
		put32(p + off, magic);
		put32(p + off + 4, 0x00010003u);
		put32(p + off + 8, (uint32_t)-(magic + 0x00010003u) + (broken ? 1 : 0));
	} else {
		put32(p + off, magic);
		put32(p + off + 4, 0);   /* i386 */
		put32(p + off + 8, 24);  /* header length */
		put32(p + off + 12, (uint32_t)-(magic + 24) + (broken ? 1 : 0));
	}
	return p;
}

Test(hvinfo, multiboot_headers_are_found_where_grub_looks)
{
	struct xerr e = { 0 };
	unsigned char *mb1 = fake_xen(65536, 4096, 0x1BADB002u, false);
	unsigned char *mb2 = fake_xen(65536, 16384, 0xE85250D6u, false);

	cr_expect_eq(hv_image_check(mb1, 65536, &e), 0, "%s", e.msg);
	/* GRUB boots it with `multiboot` here: a multiboot2-only image would not boot. */
	cr_expect_eq(hv_image_check(mb2, 65536, &e), -1);
	cr_expect(strstr(e.msg, "only a multiboot2 header"), "%s", e.msg);
	free(mb1);
	free(mb2);
}

Test(hvinfo, a_file_that_is_not_a_hypervisor_is_refused)
{
	struct xerr e = { 0 };
	unsigned char *bad = fake_xen(65536, 4096, 0x1BADB002u, true);
	unsigned char *far = fake_xen(65536, 40960, 0xE85250D6u, false);
	unsigned char *late1 = fake_xen(65536, 12288, 0x1BADB002u, false);
	static const unsigned char text[] = "#!/bin/sh\necho not xen\n...............................................................";

	cr_expect_eq(hv_image_check(bad, 65536, &e), -1, "a wrong checksum passed");
	cr_expect(strstr(e.msg, "without a multiboot header"), "%s", e.msg);
	cr_expect_eq(hv_image_check(far, 65536, &e), -1, "a header past 32 KiB passed");
	cr_expect(strstr(e.msg, "without a multiboot header"), "%s", e.msg);
	cr_expect_eq(hv_image_check(late1, 65536, &e), -1, "a multiboot 1 header past 8 KiB passed");
	memset(&e, 0, sizeof(e));
	cr_expect_eq(hv_image_check(text, sizeof(text), &e), -1);
	cr_expect(strstr(e.msg, "not an ELF file"), "%s", e.msg);
	cr_expect_eq(e.kind, XERR_USAGE);
	free(bad);
	free(far);
	free(late1);
}

Test(hvinfo, compile_h_gives_version_changeset_compiler)
{
	static const char h[] =
		"#define XEN_COMPILE_DATE\t\"Sun Dec  6 19:01:26 UTC 2026\"\n"
		"#define XEN_COMPILER\t\t\"gcc (Debian 12.2.0-14+deb12u1) 12.2.0\"\n\n"
		"#define XEN_VERSION\t\t4\n"
		"#define XEN_SUBVERSION\t\t20\n"
		"#define XEN_VERSION_STRING\t\"4.20\"\n"
		"#define XEN_EXTRAVERSION\t\".4\"\n\n"
		"#define XEN_CHANGESET\t\t\"git:9611e26eff\"\n";
	struct hv_info hv = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(hv_compile_h_parse(h, &hv, &e), 0, "%s", e.msg);
	cr_expect_str_eq(hv.version, "4.20.4");
	cr_expect_str_eq(hv.changeset, "git:9611e26eff");
	cr_expect_str_eq(hv.compiler, "gcc (Debian 12.2.0-14+deb12u1) 12.2.0");
}

Test(hvinfo, compile_h_without_numbers_is_refused)
{
	struct hv_info hv = { 0 };
	struct xerr e = { 0 };

	cr_expect_eq(hv_compile_h_parse("#define XEN_VERSION four\n#define XEN_SUBVERSION 20\n",
					&hv, &e), -1);
	cr_expect_eq(hv_compile_h_parse("#define XEN_VERSIONX 4\n", &hv, &e), -1);
}

Test(hvinfo, tools_and_hypervisor_fit_by_major_minor)
{
	char mm[16];

	cr_expect(hv_version_fits("4.20.4+63-g7abfd2bce2", "4.20.4"));
	cr_expect(hv_version_fits("4.20.4", "4.20-unstable"));
	cr_expect_not(hv_version_fits("4.20.4", "4.2.0"));
	cr_expect_not(hv_version_fits("4.17.5", "4.20.4"));
	cr_expect_not(hv_version_fits("4.20.4", ""));
	cr_expect(hv_major_minor("4.22.0-rc1", mm, sizeof(mm)));
	cr_expect_str_eq(mm, "4.22");
	cr_expect_not(hv_major_minor("4", mm, sizeof(mm)));
	cr_expect_not(hv_major_minor("v4.20", mm, sizeof(mm)));
}

/* Versions compare as numbers: 4.9 is older than 4.17, not newer. */
Test(hvinfo, older_compares_major_minor_as_numbers)
{
	cr_expect(hv_older("4.17.5", "4.20.4"));
	cr_expect(hv_older("4.9", "4.17"));
	cr_expect(!hv_older("4.17", "4.9"));
	cr_expect(!hv_older("4.20.1", "4.20.4-pre"));
	cr_expect(!hv_older("4.20", "4.17.5"));
	cr_expect(hv_older("3.99", "4.0"));
	cr_expect(!hv_older("unknown", "4.20"));
	cr_expect(!hv_older("4.17", NULL));
}

Test(xenbuild, kconfig_settings_become_lines)
{
	char line[128];
	struct xerr e = { 0 };

	cr_assert_eq(kconfig_line("SHADOW_PAGING=y", line, sizeof(line), &e), 0, "%s", e.msg);
	cr_expect_str_eq(line, "CONFIG_SHADOW_PAGING=y");
	cr_assert_eq(kconfig_line("CONFIG_HVM=n", line, sizeof(line), &e), 0, "%s", e.msg);
	cr_expect_str_eq(line, "# CONFIG_HVM is not set");
	cr_assert_eq(kconfig_line("NR_CPUS=64", line, sizeof(line), &e), 0);
	cr_expect_str_eq(line, "CONFIG_NR_CPUS=64");
	cr_expect_eq(kconfig_line("SHADOW PAGING=y", line, sizeof(line), &e), -1);
	cr_expect_eq(e.kind, XERR_USAGE);
	cr_expect_eq(kconfig_line("=y", line, sizeof(line), &e), -1);
	cr_expect_eq(kconfig_line("SHADOW_PAGING", line, sizeof(line), &e), -1);
	cr_expect_eq(kconfig_line("SHADOW_PAGING=", line, sizeof(line), &e), -1);
	cr_expect_eq(kconfig_line("X=\"a\nCONFIG_Y=y\"", line, sizeof(line), &e), -1,
		     "a value that smuggles a second line");
}

/* A setting replaces what .config had for it, whichever way it was written,
 * and touches nothing else. */
Test(xenbuild, kconfig_apply_replaces_and_unmet_finds_what_did_not_hold)
{
	static const char cfg[] = "CONFIG_X86_64=y\n"
				  "# CONFIG_SHADOW_PAGING is not set\n"
				  "CONFIG_SHADOW_PAGING_EXTRA=y\n"
				  "CONFIG_HVM=y\n";
	const char *const set[] = { "SHADOW_PAGING=y", "HVM=n", NULL };
	const char *const missing[] = { "PV_SHIM=y", NULL };
	const char *const off_absent[] = { "PV_SHIM=n", NULL };
	_cleanup_free_ char *out = kconfig_apply(cfg, set);

	cr_expect_str_eq(out, "CONFIG_X86_64=y\n"
			      "CONFIG_SHADOW_PAGING_EXTRA=y\n"
			      "CONFIG_SHADOW_PAGING=y\n"
			      "# CONFIG_HVM is not set\n");
	cr_expect_null(kconfig_unmet(out, set));
	cr_expect_str_eq(kconfig_unmet(cfg, set), "SHADOW_PAGING=y");
	cr_expect_str_eq(kconfig_unmet(cfg, missing), "PV_SHIM=y");
	cr_expect_null(kconfig_unmet(cfg, off_absent), "an n the tree does not offer holds");
}

Test(xenbuild, the_version_of_a_source_tree)
{
	char v[16];
	struct xerr e = { 0 };

	cr_assert_eq(xen_makefile_version("# comment\nexport XEN_VERSION       = 4\n"
					  "export XEN_SUBVERSION    = 22\n"
					  "export XEN_EXTRAVERSION ?= .0$(XEN_VENDORVERSION)\n",
					  v, sizeof(v), &e),
		     0, "%s", e.msg);
	cr_expect_str_eq(v, "4.22");
	cr_expect_eq(xen_makefile_version("all:\n", v, sizeof(v), &e), -1);
}

/* The lean kernel's fragment: settings kept in order, comments and blank
 * lines skipped, anything else refused with its line number. */
Test(kernelbuild, a_fragment_gives_its_settings)
{
	_cleanup_strv_ char **v = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(kconfig_fragment("# xlab\nCONFIG_XEN=y\n\nCONFIG_LOCALVERSION=\"-xlab\"\n"
				      "CONFIG_CPU_MITIGATIONS=n\n# CONFIG_MODULES is not set\n",
				      "f.config", &v, &e),
		     0, "%s", e.msg);
	cr_assert_eq(strv_len(v), 4);
	cr_expect_str_eq(v[0], "CONFIG_XEN=y");
	cr_expect_str_eq(v[1], "CONFIG_LOCALVERSION=\"-xlab\"");
	cr_expect_str_eq(v[2], "CONFIG_CPU_MITIGATIONS=n");
	cr_expect_str_eq(v[3], "CONFIG_MODULES=n", "Kconfig's own n is a setting");
}

Test(kernelbuild, a_bad_fragment_line_is_named)
{
	_cleanup_strv_ char **v = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(kconfig_fragment("CONFIG_XEN=y\nXEN_PV=y\n", "f.config", &v, &e), -1);
	cr_expect_eq(e.kind, XERR_USAGE);
	cr_expect(strstr(e.msg, "f.config:2:") && strstr(e.msg, "XEN_PV=y"), "%s", e.msg);
	cr_assert_eq(kconfig_fragment("CONFIG_XEN\n", "f.config", &v, &e), -1);
	cr_expect(strstr(e.msg, "f.config:1:"), "%s", e.msg);
	cr_assert_eq(kconfig_fragment("# nothing\n\n", "f.config", &v, &e), -1);
	cr_expect(strstr(e.msg, "sets nothing"), "%s", e.msg);
	cr_expect_null(v);
}

/* The fragment xlab ships parses, and asks for what a nested dom0 and its
 * guests cannot do without: built in, with no modules to load. */
Test(kernelbuild, the_shipped_fragment_has_the_dom0s_and_guests_needs)
{
	static const char *const needed[] = {
		"CONFIG_XEN_DOM0=y", "CONFIG_XEN_PV=y", "CONFIG_XEN_PVH=y", "CONFIG_XEN_PVHVM=y",
		"CONFIG_XEN_BLKDEV_BACKEND=y", "CONFIG_XEN_NETDEV_BACKEND=y",
		"CONFIG_XEN_BLKDEV_FRONTEND=y", "CONFIG_XEN_NETDEV_FRONTEND=y",
		"CONFIG_XEN_FBDEV_FRONTEND=y", "CONFIG_VIRTIO_BLK=y", "CONFIG_VIRTIO_NET=y",
		"CONFIG_EXT4_FS=y", "CONFIG_BLK_DEV_DM=y", "CONFIG_BRIDGE=y", "CONFIG_TUN=y",
		"CONFIG_DEVTMPFS=y", "CONFIG_INOTIFY_USER=y", "CONFIG_HOTPLUG_PCI_ACPI=y",
		"CONFIG_VGA_CONSOLE=y", "CONFIG_SECCOMP_FILTER=y",
		/* Booted directly, the dom0 has no initrd to load these from. */
		"CONFIG_VIRTIO_PCI=y",
		/* How an image's manifest tells this kernel (image_boots_direct). */
		"CONFIG_LOCALVERSION=\"" KERNEL_RELEASE_SUFFIX "\"",
	};
	const char *src = getenv("XLAB_SOURCE_DIR");
	_cleanup_free_ char *path = xasprintf("%s/images/lean-kernel.config", src ? src : ".");
	_cleanup_free_ char *text = NULL;
	_cleanup_strv_ char **v = NULL;
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_read_all(path, 0, &text, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(kconfig_fragment(text, path, &v, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(needed); i++) {
		bool found = false;

		for (char **s = v; *s && !found; s++)
			found = !strcmp(*s, needed[i]);
		cr_expect(found, "%s does not set %s", path, needed[i]);
	}
	for (char **s = v; *s; s++)
		cr_expect(strncmp(*s, "CONFIG_MODULES=", 15) != 0 || !strcmp(*s, "CONFIG_MODULES=n"),
			  "the lean kernel has no modules: %s", *s);
}

/* An image whose kernel release is the lean kernel's boots directly, one
 * with Debian's (modules in its initrd) from grub; by name, an image not
 * in the store goes by its recipe. */
Test(kernelbuild, images_of_the_lean_kernel_boot_directly)
{
	struct image lean = { .kernel_version = "6.12.118" KERNEL_RELEASE_SUFFIX };
	struct image debian = { .kernel_version = "6.1.0-37-amd64" };
	struct image none = { 0 };

	cr_expect(image_boots_direct(&lean));
	cr_expect_not(image_boots_direct(&debian));
	cr_expect_not(image_boots_direct(&none));
	setenv("XLAB_IMAGES", "/nonexistent-xlab-store", 1);
	cr_expect(image_name_boots_direct("xen-4.20"));
	cr_expect_not(image_name_boots_direct("xen-4.17-debian"));
	cr_expect_not(image_name_boots_direct("my-own"));
}
