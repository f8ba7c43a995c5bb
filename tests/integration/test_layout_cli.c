/* An installed xlab finds its agent and image scripts relative to where it
 * runs (PREFIX/bin -> PREFIX/libexec/xlab, PREFIX/share/xlab), never in the
 * build or source tree: the real binary is copied into a scratch prefix and
 * asked with `xlab version --paths`. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clirun.h"
#include "spawn.h"
#include "util.h"

static char root[] = "/tmp/xlab-layout-XXXXXX";

/* The test environment's $XLAB_AGENT would hide what is being tested. */
#define NO_OVERRIDES "XLAB_AGENT=", "XLAB_IMAGES_SRC="

static void copy_file(const char *from, const char *to, int mode)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	struct xerr e = { 0 };

	cr_assert_eq(file_read_all(from, 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(to, data, len, mode, &e), 0, "%s", e.msg);
}

static char *prefix_path(const char *sub)
{
	return xasprintf("%s/usr/%s", root, sub);
}

static void setup(void)
{
	struct xerr e = { 0 };
	_cleanup_free_ char *bin = NULL, *exe = NULL;

	cr_assert(mkdtemp(root));
	bin = prefix_path("bin");
	exe = prefix_path("bin/xlab");
	cr_assert_eq(mkdir_p(bin, 0755, &e), 0, "%s", e.msg);
	copy_file(getenv("XLAB_BIN"), exe, 0755);
	setenv("XLAB_BIN", exe, 1);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(root, &e);
}

static void install_part(const char *sub, const char *file)
{
	struct xerr e = { 0 };
	_cleanup_free_ char *dir = prefix_path(sub);
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);

	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(p, "x", 1, 0755, &e), 0, "%s", e.msg);
}

static char *paths(void)
{
	_cleanup_free_ char *home = xasprintf("XLAB_HOME=%s/state", root);
	char *env[] = { NO_OVERRIDES, home, NULL };
	char *out, *err;

	cr_assert_eq(cli_run(env, &out, &err, "version", "--paths", NULL), 0, "%s", err);
	free(err);
	return out;
}

/* "KEY    PATH..." line of `version --paths`. */
static char *line_of(const char *out, const char *key)
{
	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (strncmp(p, key, strlen(key)) == 0 && p[strlen(key)] == ' ')
			return xstrndup(p, n);
		p = nl ? nl + 1 : NULL;
	}
	cr_assert_fail("no '%s' line in:\n%s", key, out);
	return NULL;
}

Test(layout, installed_prefix_is_found_from_the_binary, .init = setup, .fini = teardown)
{
	_cleanup_free_ char *out = NULL, *prog = NULL, *agent = NULL, *images = NULL;
	_cleanup_free_ char *want_agent = prefix_path("libexec/xlab/xlab-agent");
	_cleanup_free_ char *want_images = prefix_path("share/xlab/images");

	install_part("libexec/xlab", "xlab-agent");
	install_part("share/xlab/images", "dom0-init.sh");
	out = paths();
	prog = line_of(out, "program");
	agent = line_of(out, "agent");
	images = line_of(out, "images");
	cr_expect(strstr(prog, "installed under"), "%s", prog);
	cr_expect(strstr(agent, want_agent) && !strstr(agent, "missing"), "%s", agent);
	cr_expect(strstr(images, want_images) && !strstr(images, "missing"), "%s", images);
	cr_expect(!strstr(out, getenv("XLAB_BUILD_DIR")), "build tree named:\n%s", out);
	cr_expect(!strstr(out, getenv("XLAB_SOURCE_DIR")), "source tree named:\n%s", out);
}

Test(layout, a_missing_agent_is_named_not_replaced_by_the_build_tree, .init = setup,
     .fini = teardown)
{
	_cleanup_free_ char *out = paths();
	_cleanup_free_ char *agent = line_of(out, "agent");

	cr_expect(strstr(agent, "(missing)"), "%s", agent);
	cr_expect(!strstr(agent, getenv("XLAB_BUILD_DIR")), "%s", agent);
}

Test(layout, the_build_tree_binary_uses_the_build_tree)
{
	_cleanup_free_ char *home = xasprintf("XLAB_HOME=/tmp/xlab-layout-home-%d", getpid());
	char *env[] = { NO_OVERRIDES, home, NULL };
	_cleanup_free_ char *out = NULL, *err = NULL, *agent = NULL, *want = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(cli_run(env, &out, &err, "version", "--paths", NULL), 0, "%s", err);
	agent = line_of(out, "agent");
	want = xasprintf("%s/agents/xlab-agent", getenv("XLAB_BUILD_DIR"));
	cr_expect(strstr(agent, want), "%s", agent);
	rm_rf(home + strlen("XLAB_HOME="), &e);
}
