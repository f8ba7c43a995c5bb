/* The pure decisions of a whole Xen from source: which derive, how the
 * tools are configured, what they replace, what the loader and debugfs
 * say, and which names a version may take. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "image_whole.h"
#include "util.h"
#include "wholeplan.h"

static enum derive_kind kind_of(const struct derive_ask *a, int *rc, struct xerr *e)
{
	enum derive_kind k = DERIVE_HYPERVISOR;

	*rc = derive_kind_choose(a, &k, e);
	return k;
}

/* 4.22 has no Debian image: the tools come along; 4.20 has one. */
Test(wholeplan, a_version_debian_lacks_builds_the_tools)
{
	struct derive_ask a = { .base_tools = "4.20.4", .source = "4.22" };
	struct xerr e = { 0 };
	int rc;

	cr_expect_eq(kind_of(&a, &rc, &e), DERIVE_WHOLE);
	cr_expect_eq(rc, 0, "%s", e.msg);
	a.source = "4.20";
	cr_expect_eq(kind_of(&a, &rc, &e), DERIVE_HYPERVISOR);
	cr_expect_eq(rc, 0);
}

/* A version Debian has on another base is refused naming that image; the
 * hypervisor alone with --force, as before. */
Test(wholeplan, a_version_debian_has_points_at_its_image)
{
	struct derive_ask a = { .base_tools = "4.17.5", .source = "4.20" };
	struct xerr e = { 0 };
	int rc;

	kind_of(&a, &rc, &e);
	cr_expect_eq(rc, -1);
	cr_expect_eq(e.kind, XERR_USAGE);
	cr_expect(strstr(e.msg, "is Xen 4.20, but the base's dom0 tools are Xen 4.17.5"), "%s",
		  e.msg);
	cr_expect(strstr(e.msg, "derive from xen-4.20"), "%s", e.msg);
	xerr_clear(&e);
	a.force = true;
	cr_expect_eq(kind_of(&a, &rc, &e), DERIVE_HYPERVISOR);
	cr_expect_eq(rc, 0);
	a.force = false;
	a.tools = true;
	cr_expect_eq(kind_of(&a, &rc, &e), DERIVE_WHOLE);
	cr_expect_eq(rc, 0);
}

/* --hypervisor-only keeps today's refusal of a version the tools do not fit. */
Test(wholeplan, hypervisor_only_refuses_a_mismatch)
{
	struct derive_ask a = { .base_tools = "4.20.4", .source = "4.22", .hypervisor_only = true };
	struct xerr e = { 0 };
	int rc;

	kind_of(&a, &rc, &e);
	cr_expect_eq(rc, -1);
	cr_expect(strstr(e.msg, "must share major.minor"), "%s", e.msg);
	xerr_clear(&e);
	a.force = true;
	cr_expect_eq(kind_of(&a, &rc, &e), DERIVE_HYPERVISOR);
	cr_expect_eq(rc, 0);
	a.tools = true;
	kind_of(&a, &rc, &e);
	cr_expect_eq(rc, -1, "--tools with --hypervisor-only");
}

/* Tools already built from source are not Debian's to purge. */
Test(wholeplan, a_whole_base_is_not_rebuilt_on)
{
	struct derive_ask a = { .base_tools = "4.22.0", .source = "4.23",
				.base_has_own_tools = true };
	struct xerr e = { 0 };
	int rc;

	kind_of(&a, &rc, &e);
	cr_expect_eq(rc, -1);
	a.source = "4.22";
	cr_expect_eq(kind_of(&a, &rc, &e), DERIVE_HYPERVISOR, "a patched 4.22 hypervisor on it");
	cr_expect_eq(rc, 0);
}

Test(wholeplan, names_of_versions)
{
	cr_expect_str_eq(recipe_for_version("4.20.4"), "xen-4.20");
	cr_expect_str_eq(recipe_for_version("4.17"), "xen-4.17");
	cr_expect_null(recipe_for_version("4.22.0"));
	cr_expect_null(recipe_for_version("x"));
	cr_expect(image_name_version_fits("xen-4.22", "4.22.0"));
	cr_expect_not(image_name_version_fits("xen-4.22", "4.20.4"));
	cr_expect(image_name_version_fits("xen-4.20-shadow", "4.20.4"));
	cr_expect(image_name_version_fits("mine", "4.22.0"));
	cr_expect(image_name_version_fits("xen-4.2x", "4.22.0"), "not a version name");
}

static bool has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

/* Nothing downloaded, Debian's device model and firmware, C xenstored,
 * libexec where Debian's layout and xlab-init look. */
Test(wholeplan, configure_arguments)
{
	_cleanup_strv_ char **a = tools_configure_argv("4.22");

	cr_expect_str_eq(a[0], "./configure");
	cr_expect(has(a, "--with-system-qemu=/usr/libexec/xen-qemu-system-i386"));
	cr_expect(has(a, "--with-system-seabios=/usr/share/seabios/bios-256k.bin"));
	cr_expect(has(a, "--disable-ipxe"));
	cr_expect(has(a, "--disable-rombios"));
	cr_expect(has(a, "--disable-stubdom"));
	cr_expect(has(a, "--disable-docs"));
	cr_expect(has(a, "--disable-ocamltools"));
	cr_expect(has(a, "--disable-pvshim"));
	cr_expect(has(a, "--with-xenstored=xenstored"));
	cr_expect(has(a, "--libdir=/usr/lib/x86_64-linux-gnu"));
	cr_expect(has(a, "--libexecdir=/usr/lib"));
	cr_expect(has(a, "--with-libexec-leaf-dir=xen-4.22"));
	cr_expect(has(a, "--prefix=/usr"));
}

/* Userland, hypervisor and the stable libraries go; libxenmisc stays for
 * QEMU, and nothing else is touched. */
Test(wholeplan, debian_packages_replaced)
{
	char *pk[] = {
		"bash=5.2", "libxencall1=4.20.4", "libxenmisc4.20=4.20.4", "libxenstore4=4.20.4",
		"qemu-system-xen=1:10.0", "xen-hypervisor-4.20-amd64=4.20.4",
		"xen-hypervisor-common=4.20.4", "xen-system-amd64=4.20.4", "xen-utils-4.20=4.20.4",
		"xen-utils-common=4.20.4", "xenstore-utils=4.20.4", "xen-utils=1", NULL,
	};
	_cleanup_strv_ char **out = debian_xen_packages(pk, ARRAY_SIZE(pk) - 1);

	cr_expect(has(out, "libxencall1"));
	cr_expect(has(out, "libxenstore4"));
	cr_expect(has(out, "xen-hypervisor-4.20-amd64"));
	cr_expect(has(out, "xen-hypervisor-common"));
	cr_expect(has(out, "xen-system-amd64"));
	cr_expect(has(out, "xen-utils-4.20"));
	cr_expect(has(out, "xen-utils-common"));
	cr_expect(has(out, "xenstore-utils"));
	cr_expect_not(has(out, "libxenmisc4.20"));
	cr_expect_not(has(out, "qemu-system-xen"));
	cr_expect_not(has(out, "bash"));
	cr_expect_not(has(out, "xen-utils"));
	cr_expect_eq(strv_len(out), 8);
}

Test(wholeplan, loader_output)
{
	_cleanup_free_ char *m = NULL;
	static const char ok[] = "\tlinux-vdso.so.1 (0x00007ffd)\n"
				 "\tlibxenlight.so.4.22 => /usr/lib/x86_64-linux-gnu/libxenlight.so."
				 "4.22 (0x7f)\n";
	static const char bad[] = "\tlibxenlight.so.4.22 => /usr/lib/libxenlight.so.4.22 (0x7f)\n"
				  "\tlibjson-c.so.5 => not found\n\tlibyajl.so.2 => not found\n";

	cr_expect_null(ldd_first_missing(ok));
	cr_expect_null(ldd_first_missing(""));
	m = ldd_first_missing(bad);
	cr_expect_str_eq(m, "libjson-c.so.5");
}

Test(wholeplan, debugfs_output)
{
	static const char ls[] = "/20/040755/0/0/.//\n/2/040755/0/0/..//\n"
				 "/21/020666/0/0/console/0/\n/22/120777/0/0/fd/13/\n"
				 "/26/020620/0/5/tty0/0/\n/40/060660/0/6/vda/0/\n/41/010644/0/0/fifo/0/\n";
	struct dev_node n[8];
	unsigned maj = 0, min = 0;

	cr_assert_eq(debugfs_ls_devices(ls, n, 8), 3);
	cr_expect_str_eq(n[0].name, "console");
	cr_expect(S_ISCHR(n[0].mode));
	cr_expect_eq(n[0].mode & 07777, 0666);
	cr_expect_str_eq(n[1].name, "tty0");
	cr_expect_eq(n[1].gid, 5);
	cr_expect(S_ISBLK(n[2].mode));
	cr_expect_eq(debugfs_ls_devices(ls, n, 1), 1, "at most max");
	cr_expect_eq(debugfs_devnum("Inode: 26\nDevice major/minor number: 01:03 (hex 01:03)\n",
				    &maj, &min), 0);
	cr_expect_eq(maj, 1);
	cr_expect_eq(min, 3);
	cr_expect_eq(debugfs_devnum("Inode: 26\n", &maj, &min), -1);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* The manifest's "tools": what a reader needs to tell which tools a dom0
 * ran and where they came from. */
Test(wholeplan, manifest_tools_record)
{
	char *purged[] = { "xen-utils-4.20", "libxenstore4", NULL };
	struct xentools t = { .compiler = "gcc (Debian 14.2.0-19) 14.2.0", .suite = "trixie",
			      .configure = tools_configure_argv("4.22") };
	struct whole_root w = { .purged = purged };
	struct json_object *o, *a = NULL;

	memset(t.key, 'a', SHA256_HEX_LEN);
	t.key[SHA256_HEX_LEN] = '\0';
	o = whole_tools_json(&t, &w, "4.22.0", "/nonexistent/xen-4.22.0.tar.xz");
	cr_expect_str_eq(jstr(o, "version"), "4.22.0");
	cr_expect_str_eq(jstr(o, "source"), "/nonexistent/xen-4.22.0.tar.xz");
	cr_expect_str_eq(jstr(o, "build"), t.key);
	cr_expect_str_eq(jstr(o, "compiler"), "gcc (Debian 14.2.0-19) 14.2.0");
	cr_expect_str_eq(jstr(o, "suite"), "trixie");
	cr_expect_str_eq(jstr(o, "libexec"), "/usr/lib/xen-4.22");
	cr_expect_str_eq(jstr(o, "libdir"), "/usr/lib/x86_64-linux-gnu");
	cr_assert(json_object_object_get_ex(o, "purged", &a));
	cr_expect_eq(json_object_array_length(a), 2);
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)), "xen-utils-4.20");
	cr_assert(json_object_object_get_ex(o, "configure", &a));
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)), "--prefix=/usr",
			 "the arguments, not ./configure");
	json_object_put(o);
	strv_free(t.configure);
}
