/* `xlab image build NAME --from BASE --hypervisor PATH`, through the real
 * binary on a scratch store: what a derived image holds, and the refusals
 * that must leave the store as it was. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "clirun.h"
#include "imagekit.h"
#include "sha256.h"
#include "spawn.h"
#include "util.h"

TestSuite(derive, .init = imagekit_setup, .fini = imagekit_teardown, .timeout = 60);

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A build tree's xen/: xen.gz (gzip of an ELF with a multiboot header, or
 * without one), and compile.h saying version (NULL: no compile.h). */
static char *xen_tree(const char *version, bool multiboot)
{
	_cleanup_free_ char *dir = xasprintf("%s/xen", work);
	_cleanup_free_ char *inc = xasprintf("%s/include/xen", dir);
	_cleanup_free_ char *raw = xasprintf("%s/xen", dir);
	_cleanup_free_ unsigned char *elf = xcalloc(1, 65536);
	struct spawn_result r;
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(inc, 0755, &e), 0, "%s", e.msg);
	memcpy(elf, "\177ELF\1\1\1", 7);
	if (multiboot) {
		put32(elf + 4096, 0x1BADB002u);
		put32(elf + 4100, 0x00010003u);
		put32(elf + 4104, (uint32_t)-(0x1BADB002u + 0x00010003u));
	}
	write_file(raw, elf, 65536);
	{
		char *argv[] = { "gzip", "-nf", raw, NULL };

		cr_assert_eq(spawn_check(argv, NULL, &r, &e), 0, "%s", e.msg);
		spawn_result_free(&r);
	}
	if (version) {
		unsigned maj = 0, min = 0;
		char extra[16] = "";
		_cleanup_free_ char *h = NULL, *hp = xasprintf("%s/compile.h", inc);
		_cleanup_free_ char *cfg = xasprintf("%s/.config", dir);

		cr_assert_geq(sscanf(version, "%u.%u%15s", &maj, &min, extra), 2);
		h = xasprintf("#define XEN_VERSION\t\t%u\n#define XEN_SUBVERSION\t\t%u\n"
			      "#define XEN_EXTRAVERSION\t\"%s\"\n"
			      "#define XEN_CHANGESET\t\t\"git:c0ffee\"\n",
			      maj, min, extra);
		write_file(hp, h, strlen(h));
		write_file(cfg, "CONFIG_SHADOW_PAGING=y\n", 23);
	}
	return xasprintf("%s/xen.gz", dir);
}

static void base_make(void)
{
	_cleanup_free_ char *dir = xasprintf("%s/images/xen-4.17", home);

	make_image(dir, "xen-4.17");
}

static struct json_object *manifest_of(const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/images/%s/manifest.json", home, name);
	struct json_object *m = json_object_from_file(p);

	cr_assert_not_null(m, "no %s", p);
	return m;
}

static const char *jpath(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
		return "";
	return json_object_get_string(v);
}

static int derive(char **out, char **err, const char *name, const char *hv, const char *extra)
{
	_cleanup_free_ char *env = xasprintf("XLAB_HOME=%s", home);

	return cli_run((char *[]){ env, NULL }, out, err, "image", "build", name, "--from",
		       "xen-4.17", "--hypervisor", hv, extra, NULL);
}

/* The derived image: the base's disks shared, the new xen.gz, and a
 * manifest saying where both came from; a second run is a no-op. */
Test(derive, a_hypervisor_of_the_same_version_makes_an_image)
{
	_cleanup_free_ char *hv = NULL, *o = NULL, *er = NULL, *o2 = NULL, *e2 = NULL;
	_cleanup_free_ char *lo = NULL, *le = NULL, *base_root = NULL, *new_root = NULL;
	_cleanup_free_ char *new_xen = NULL;
	struct json_object *m, *base;
	struct stat a, b;
	struct xerr e = { 0 };
	char sha[65];

	base_make();
	hv = xen_tree("4.17.6", true);
	cr_assert_eq(derive(&o, &er, "mine", hv, NULL), 0, "%s", er);
	m = manifest_of("mine");
	base = manifest_of("xen-4.17");
	cr_expect_str_eq(jpath(m, "name", NULL), "mine");
	cr_expect_str_eq(jpath(m, "xen_version", NULL), "4.17.6");
	cr_expect_str_eq(jpath(m, "base", "name"), "xen-4.17");
	cr_expect_str_eq(jpath(m, "hypervisor", "version"), "4.17.6");
	cr_expect_str_eq(jpath(m, "hypervisor", "changeset"), "git:c0ffee");
	cr_expect_eq(strlen(jpath(m, "hypervisor", "config_sha256")), 64);
	cr_assert_eq(sha256_file_hex(hv, sha, &e), 0, "%s", e.msg);
	cr_expect_str_eq(jpath(m, "files", "boot/xen.gz"), sha);
	{
		struct json_object *rep = NULL, *x = NULL, *v = NULL;

		cr_assert(json_object_object_get_ex(m, "replaced", &rep) &&
			  json_object_object_get_ex(rep, "boot/xen.gz", &x));
		cr_expect(json_object_object_get_ex(x, "now", &v) &&
			  !strcmp(json_object_get_string(v), sha));
		cr_expect(json_object_object_get_ex(x, "was", &v) &&
			  !strcmp(json_object_get_string(v), jpath(base, "files", "boot/xen.gz")));
	}
	cr_expect_str_eq(jpath(m, "files", "root.qcow2"), jpath(base, "files", "root.qcow2"));
	new_xen = xasprintf("%s/images/mine/boot/xen.gz", home);
	cr_assert_eq(sha256_file_hex(new_xen, sha, &e), 0, "%s", e.msg);
	cr_expect_str_eq(jpath(m, "files", "boot/xen.gz"), sha, "the file is not what was given");
	base_root = xasprintf("%s/images/xen-4.17/root.qcow2", home);
	new_root = xasprintf("%s/images/mine/root.qcow2", home);
	cr_assert_eq(stat(base_root, &a), 0);
	cr_assert_eq(stat(new_root, &b), 0);
	cr_expect_eq(a.st_ino, b.st_ino, "the root disk was copied, not shared");
	json_object_put(m);
	json_object_put(base);
	cr_expect_eq(derive(&o2, &e2, "mine", hv, NULL), 0, "%s", e2);
	cr_expect(strstr(e2, "up to date"), "%s", e2);
	cr_expect_eq(cli_run((char *[]){ NULL }, &lo, &le, "image", "inspect", "mine", NULL), 0,
		     "%s", le);
	cr_expect(strstr(lo, "derived from:   xen-4.17"), "%s", lo);
	cr_expect(strstr(lo, "verified:       ok"), "%s", lo);
}

/* The store's entries but lock files (a lock is taken, not content). */
static char *store_content(void)
{
	_cleanup_free_ char *all = store_listing();
	struct buf b = { 0 };
	char *save = NULL;

	buf_puts(&b, "");
	for (char *t = strtok_r(all, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(t);

		if (n < 5 || strcmp(t + n - 5, ".lock") != 0)
			buf_printf(&b, "%s ", t);
	}
	return buf_steal(&b);
}

/* Each refusal says what is wrong, and the store is as it was. */
static void refused(const char *hv, const char *name, const char *extra, int status,
		    const char *why)
{
	_cleanup_free_ char *before = store_content(), *after = NULL, *o = NULL, *er = NULL;

	cr_expect_eq(derive(&o, &er, name, hv, extra), status, "%s", er);
	cr_expect(strstr(er, why), "no '%s' in: %s", why, er);
	after = store_content();
	cr_expect_str_eq(after, before, "the store changed");
}

/* A base built again (its manifest changed, as a recipe change does) leaves
 * the images derived from it behind: the same derive again, without
 * --force, makes them anew from it; an image of that name derived from
 * another base is still not replaced without --force. */
Test(derive, a_rebuilt_base_is_derived_from_again)
{
	_cleanup_free_ char *hv = NULL, *o = NULL, *er = NULL, *o2 = NULL, *e2 = NULL;
	_cleanup_free_ char *bpath = xasprintf("%s/images/xen-4.17/manifest.json", home);
	_cleanup_free_ char *text = NULL;
	struct json_object *base, *m;
	struct xerr e = { 0 };
	char sha[65];
	size_t len;

	base_make();
	hv = xen_tree("4.17.6", true);
	cr_assert_eq(derive(&o, &er, "mine", hv, NULL), 0, "%s", er);
	base = manifest_of("xen-4.17");
	json_object_object_add(base, "recipe", json_object_new_string("built again"));
	cr_assert_eq(json_object_to_file(bpath, base), 0);
	json_object_put(base);
	cr_assert_eq(file_read_all(bpath, 0, &text, &len, &e), 0, "%s", e.msg);
	sha256_hex(text, len, sha);
	cr_expect_eq(derive(&o2, &e2, "mine", hv, NULL), 0, "%s", e2);
	cr_expect(strstr(e2, "xen-4.17 was built again since: deriving it again"), "%s", e2);
	m = manifest_of("mine");
	cr_expect_str_eq(jpath(m, "base", "manifest_sha256"), sha);
	json_object_put(m);
	/* Another base's image of that name is another image. */
	m = manifest_of("mine");
	json_object_object_add(json_object_object_get(m, "base"), "name",
			       json_object_new_string("xen-4.20"));
	{
		_cleanup_free_ char *mp = xasprintf("%s/images/mine/manifest.json", home);

		cr_assert_eq(json_object_to_file(mp, m), 0);
	}
	json_object_put(m);
	refused(hv, "mine", NULL, 1, "image mine exists and is not xen-4.17 with this hypervisor");
}

Test(derive, a_file_that_is_not_a_hypervisor_changes_nothing)
{
	_cleanup_free_ char *text = xasprintf("%s/notes.txt", work);
	_cleanup_free_ char *hv = NULL;

	base_make();
	write_file(text, "just notes\n", 11);
	refused(text, "mine", NULL, 2, "neither gzip nor a plain ELF file");
	{
		char *argv[] = { "gzip", "-nf", text, NULL };
		_cleanup_free_ char *gz = xasprintf("%s.gz", text);
		struct spawn_result r;
		struct xerr e = { 0 };

		cr_assert_eq(spawn_check(argv, NULL, &r, &e), 0, "%s", e.msg);
		spawn_result_free(&r);
		refused(gz, "mine", NULL, 2, "not an ELF file");
	}
	hv = xen_tree("4.17.6", false);
	refused(hv, "mine", NULL, 2, "without a multiboot header");
}

Test(derive, another_xen_version_is_refused_unless_forced)
{
	_cleanup_free_ char *hv = NULL, *o = NULL, *er = NULL;
	struct json_object *m;

	base_make();
	hv = xen_tree("4.20.4", true);
	refused(hv, "mine", NULL, 2, "is Xen 4.20.4, but xen-4.17's dom0 tools are Xen 4.17.5");
	cr_expect_eq(derive(&o, &er, "mine", hv, "--force"), 0, "%s", er);
	cr_expect(strstr(er, "warning: Xen 4.20.4 with the dom0 tools of xen-4.17"), "%s", er);
	m = manifest_of("mine");
	cr_expect_str_eq(jpath(m, "hypervisor", "version"), "4.20.4");
	json_object_put(m);
}

Test(derive, an_unknown_version_or_a_bad_name_is_refused)
{
	_cleanup_free_ char *hv = NULL;

	base_make();
	hv = xen_tree(NULL, true);
	refused(hv, "mine", NULL, 2, "cannot tell which Xen");
	hv = (free(hv), xen_tree("4.17.6", true));
	refused(hv, "xen-4.20", NULL, 2, "the name of an image built from Debian");
	refused(hv, "xen-4.17", NULL, 2, "cannot be derived from itself");
	refused(hv, "../up", NULL, 2, "is not an image name");
}

/* A xen.git tree whose xen/Makefile stands in for Xen's build with real
 * make: the same targets (distclean, defconfig, olddefconfig, all), a
 * version in the same lines, a xen.gz and compile.h as results.
 * olddefconfig drops NOT_A_SYMBOL, as Kconfig drops what does not exist. */
static char *fake_source(const char *minor)
{
	_cleanup_free_ char *src = xasprintf("%s/xen.git", work);
	_cleanup_free_ char *xen = xasprintf("%s/xen", src);
	_cleanup_free_ char *mk = xasprintf("%s/Makefile", xen);
	_cleanup_free_ char *payload = xasprintf("%s/payload.gz", src);
	_cleanup_free_ char *text = NULL, *built = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(xen, 0755, &e), 0, "%s", e.msg);
	built = xen_tree("4.17.6", true);
	{
		_cleanup_free_ char *data = NULL;
		size_t len;

		cr_assert_eq(file_read_all(built, 0, &data, &len, &e), 0, "%s", e.msg);
		write_file(payload, data, len);
	}
	text = xasprintf(
		"export XEN_VERSION       = 4\n"
		"export XEN_SUBVERSION    = %s\n"
		"all:\n"
		"\tmkdir -p include/xen\n"
		"\tprintf '#define XEN_VERSION 4\\n#define XEN_SUBVERSION %s\\n"
		"#define XEN_EXTRAVERSION \".6\"\\n' > include/xen/compile.h\n"
		"\tcp ../payload.gz xen.gz\n"
		"defconfig:\n"
		"\tprintf 'CONFIG_X86_64=y\\n# CONFIG_SHADOW_PAGING is not set\\n' > .config\n"
		"olddefconfig:\n"
		"\tgrep -v NOT_A_SYMBOL .config > .config.new; mv .config.new .config\n"
		"distclean:\n"
		"\trm -f .config xen.gz\n",
		minor, minor);
	write_file(mk, text, strlen(text));
	return steal_ptr(src);
}

static int derive_src(char **out, char **err, const char *src, const char *kconfig)
{
	_cleanup_free_ char *env = xasprintf("XLAB_HOME=%s", home);

	return cli_run((char *[]){ env, NULL }, out, err, "image", "build", "mine", "--from",
		       "xen-4.17", "--xen-source", src, "--kconfig", kconfig, NULL);
}

/* Built once, with the setting asked for; found built the second time. */
Test(derive, a_hypervisor_built_from_source_is_cached)
{
	_cleanup_free_ char *src = NULL, *o = NULL, *er = NULL, *o2 = NULL, *e2 = NULL;
	struct json_object *m;

	base_make();
	src = fake_source("17");
	cr_assert_eq(derive_src(&o, &er, src, "SHADOW_PAGING=y"), 0, "%s", er);
	cr_expect(strstr(er, "compiling the hypervisor"), "%s", er);
	m = manifest_of("mine");
	cr_expect_str_eq(jpath(m, "hypervisor", "version"), "4.17.6");
	cr_expect_eq(strlen(jpath(m, "hypervisor", "config_sha256")), 64);
	json_object_put(m);
	cr_assert_eq(derive_src(&o2, &e2, src, "SHADOW_PAGING=y"), 0, "%s", e2);
	cr_expect(strstr(e2, "built before"), "%s", e2);
	cr_expect(!strstr(e2, "compiling"), "%s", e2);
	cr_expect(strstr(e2, "up to date"), "%s", e2);
}

/* A setting Kconfig drops, or a version the base's tools cannot drive, is
 * an error before any image is made; the version before any compiling. */
Test(derive, a_build_that_cannot_fit_is_refused)
{
	_cleanup_free_ char *src = NULL, *o = NULL, *er = NULL, *o2 = NULL, *e2 = NULL;
	_cleanup_free_ char *mine = xasprintf("%s/images/mine", home);

	base_make();
	src = fake_source("17");
	cr_expect_eq(derive_src(&o, &er, src, "NOT_A_SYMBOL=y"), 2, "%s", er);
	cr_expect(strstr(er, "--kconfig NOT_A_SYMBOL=y did not hold"), "%s", er);
	cr_expect_not(path_exists(mine));
	free(src);
	src = fake_source("20");
	cr_expect_eq(derive_src(&o2, &e2, src, "SHADOW_PAGING=y"), 2, "%s", e2);
	cr_expect(strstr(e2, "is Xen 4.20, but the base's dom0 tools are Xen 4.17.5"), "%s", e2);
	cr_expect(!strstr(e2, "compiling"), "%s", e2);
	cr_expect_not(path_exists(mine));
}

/* A --xen-source refused for what it is: the store as it was (no cache, no
 * build root, no image), before anything is unpacked or built. */
static void source_refused2(const char *src, const char *extra, const char *extra2,
			   const char *why)
{
	_cleanup_free_ char *before = store_content(), *after = NULL, *o = NULL, *er = NULL;
	_cleanup_free_ char *env = xasprintf("XLAB_HOME=%s", home);

	cr_expect_eq(cli_run((char *[]){ env, NULL }, &o, &er, "image", "build", "mine", "--from",
			     "xen-4.17", "--xen-source", src, extra, extra2, NULL),
		     2, "%s", er);
	cr_expect(strstr(er, why), "no '%s' in: %s", why, er);
	after = store_content();
	cr_expect_str_eq(after, before, "the store changed");
}

static void source_refused(const char *src, const char *extra, const char *why)
{
	source_refused2(src, extra, NULL, why);
}

Test(derive, a_source_that_is_no_xen_tree_changes_nothing)
{
	_cleanup_free_ char *dir = xasprintf("%s/notxen", work);
	_cleanup_free_ char *notes = xasprintf("%s/notxen/README", work);
	_cleanup_free_ char *tarball = xasprintf("%s/notxen.tar.gz", work);
	_cleanup_free_ char *junk = xasprintf("%s/junk.tar.xz", work);
	_cleanup_free_ char *src = NULL, *mk = NULL;
	struct spawn_result r;
	struct xerr e = { 0 };

	base_make();
	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	write_file(notes, "not xen\n", strlen("not xen\n"));
	source_refused(dir, NULL, "neither a xen.git tree");
	{
		char *argv[] = { "tar", "-czf", tarball, "-C", work, "notxen", NULL };

		cr_assert_eq(spawn_check(argv, NULL, &r, &e), 0, "%s", e.msg);
		spawn_result_free(&r);
	}
	source_refused(tarball, NULL, "holds no xen.git tree");
	{
		static const char not_xz[] = "\xfd" "7zXZ but not really";

		write_file(junk, not_xz, strlen(not_xz));
	}
	source_refused(junk, NULL, "--xen-source");
	/* A tree whose version cannot be read. */
	src = fake_source("22");
	mk = xasprintf("%s/xen/Makefile", src);
	write_file(mk, "all:\n\ttrue\n", strlen("all:\n\ttrue\n"));
	source_refused(src, NULL, "its version is unreadable");
}

/* A version the base's tools cannot drive, hypervisor only: refused as
 * before (a whole Xen is what the version asks for without the flag). */
Test(derive, a_hypervisor_only_build_of_another_version_is_refused)
{
	_cleanup_free_ char *src = fake_source("22");

	base_make();
	source_refused(src, "--hypervisor-only", "must share major.minor");
	source_refused2(src, "--tools", "--hypervisor-only", "--tools and --hypervisor-only");
}

/* Two images whose copies would share a lab name are refused before any
 * copy is claimed: one lab cannot be two cells. */
Test(derive, matrix_images_that_would_share_a_copy_are_refused)
{
	_cleanup_free_ char *a = xasprintf("%s/images/xen-4.20", home);
	_cleanup_free_ char *b = xasprintf("%s/images/4.20", home);
	_cleanup_free_ char *spec = xasprintf("%s/m.yaml", work);
	_cleanup_free_ char *env = xasprintf("XLAB_HOME=%s", home);
	_cleanup_free_ char *o = NULL, *er = NULL;
	static const char text[] = "lab: m\nxen: \"4.20\"\nhosts:\n  - name: h1\n";

	make_image(a, "xen-4.20");
	make_image(b, "4.20");
	write_file(spec, text, strlen(text));
	cr_expect_eq(cli_run((char *[]){ env, NULL }, &o, &er, "matrix", spec, "--image",
			     "xen-4.20,4.20", NULL), 2, "%s", er);
	cr_expect(strstr(er, "xen-4.20 and 4.20 would both be the copy 'm-x4-20'"), "%s", er);
}

/* A derived image is an image like any other: exported, imported into
 * another store (its base need not be there), verified, still saying what
 * it was derived from. */
Test(derive, a_derived_image_travels_as_an_archive)
{
	_cleanup_free_ char *hv = NULL, *o = NULL, *er = NULL, *o2 = NULL, *e2 = NULL;
	_cleanup_free_ char *o3 = NULL, *e3 = NULL, *o4 = NULL, *e4 = NULL;
	_cleanup_free_ char *archive = xasprintf("%s/mine.tar.gz", work);
	_cleanup_free_ char *other = xasprintf("%s/other-home", work);
	_cleanup_free_ char *env = xasprintf("XLAB_HOME=%s", home);
	_cleanup_free_ char *env2 = xasprintf("XLAB_HOME=%s", other);
	struct xerr e = { 0 };

	base_make();
	hv = xen_tree("4.17.6", true);
	cr_assert_eq(derive(&o, &er, "mine", hv, NULL), 0, "%s", er);
	cr_assert_eq(cli_run((char *[]){ env, NULL }, &o2, &e2, "image", "export", "mine", archive,
			     NULL), 0, "%s", e2);
	cr_assert_eq(mkdir_p(other, 0700, &e), 0, "%s", e.msg);
	cr_assert_eq(cli_run((char *[]){ env2, NULL }, &o3, &e3, "image", "import", archive, NULL),
		     0, "%s", e3);
	cr_assert_eq(cli_run((char *[]){ env2, NULL }, &o4, &e4, "image", "inspect", "mine", NULL),
		     0, "%s", e4);
	cr_expect(strstr(o4, "derived from:   xen-4.17"), "%s", o4);
	cr_expect(strstr(o4, "xen_version:    4.17.6"), "%s", o4);
	cr_expect(strstr(o4, "verified:       ok"), "%s", o4);
}
