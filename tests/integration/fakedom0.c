#include "fakedom0.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

void put_file(const char *base, const char *rel, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s%s", base, rel);
	_cleanup_free_ char *dir = xstrdup(path);
	struct xerr e = { 0 };

	*strrchr(dir, '/') = '\0';
	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(path, text, strlen(text), 0644, &e), 0, "%s", e.msg);
}

char *run_out(char *const argv[])
{
	struct spawn_result r;
	struct xerr e = { 0 };
	struct spawn_opts o = { .capture_stdout = true };

	cr_assert_eq(spawn_check(argv, &o, &r, &e), 0, "%s", e.msg);
	free(r.err);
	return r.out ? r.out : xstrdup("");
}

/* The one of this test (a test is a process of its own). */
static struct fake_dom0 live = { .a = { .pid = -1, .in = -1 } };

struct fake_dom0 *fake_dom0_start(void)
{
	static const char *const tools[] = { "xl", "pvs", "vgs", "lvs", "pvcreate", "vgcreate",
					     "vgextend", "vgreduce", "pvmove", "pvremove",
					     "lvcreate", "lvremove", "vgchange", "ping",
					     "xenstore-ls" };
	const char *src = getenv("XLAB_SOURCE_DIR");
	char tmpl[] = "/tmp/xlab-agent-dom0.XXXXXX";
	_cleanup_free_ char *script = NULL, *bin = NULL, *tree = NULL, *tar = NULL;
	_cleanup_free_ char *dev_link = NULL, *dev_dir = NULL;
	struct fake_dom0 *f = &live;
	struct xerr e = { 0 };

	cr_assert(src, "XLAB_SOURCE_DIR is not set");
	cr_assert_null(f->dir, "one fake dom0 per test");
	cr_assert_not_null(mkdtemp(tmpl), "%s", strerror(errno));
	f->dir = xstrdup(tmpl);
	f->prefix = xasprintf("%s/root", f->dir);
	f->state = xasprintf("%s/state", f->dir);
	script = xasprintf("%s/tests/integration/test_agent_fake_tools.sh", src);
	bin = xasprintf("%s/bin", f->dir);
	cr_assert_eq(mkdir_p(bin, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(mkdir_p(f->state, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		_cleanup_free_ char *link = xasprintf("%s/%s", bin, tools[i]);

		cr_assert_eq(symlink(script, link), 0);
	}
	put_file(f->prefix, "/sys/block/vda/size", "20971520\n");
	/* The fake lvcreate makes an LV's device under the state, as LVM makes
	 * /dev/VG/LV: the agent names a new LV's device so, without asking lvs. */
	dev_link = xasprintf("%s/dev", f->prefix);
	dev_dir = xasprintf("%s/dev", f->state);
	cr_assert_eq(symlink(dev_dir, dev_link), 0, "%s", strerror(errno));
	put_file(f->prefix, "/sys/block/vdb/serial", "xlab-data\n");
	put_file(f->prefix, "/sys/block/vdc/serial", "xlab-extra1\n");
	tree = xasprintf("%s/tree", f->dir);
	put_file(tree, "/etc/hostname", "guest\n");
	put_file(tree, "/init", "#!/bin/sh\necho XLAB-GUEST-UP\n");
	put_file(f->prefix, "/var/lib/xlab/guest/busybox.tar", "");
	tar = xasprintf("%s/var/lib/xlab/guest/busybox.tar", f->prefix);
	free(run_out((char *[]){ "tar", "-cf", tar, "-C", tree, ".", NULL }));
	f->env[0] = xasprintf("PATH=%s:%s", bin, getenv("PATH"));
	f->env[1] = xasprintf("XLAB_AGENT_PREFIX=%s", f->prefix);
	f->env[2] = xasprintf("XLAB_FAKE_STATE=%s", f->state);
	f->env[3] = xasprintf("XLAB_FAKE_OWNER=%d", (int)getpid());
	agent_start(&f->a, f->env);
	return f;
}

static void forget(struct fake_dom0 *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->env); i++)
		free(f->env[i]);
	free(f->dir);
	free(f->prefix);
	free(f->state);
	*f = (struct fake_dom0){ .a = { .pid = -1, .in = -1 } };
}

void fake_dom0_stop(struct fake_dom0 *f)
{
	struct xerr e = { 0 };

	cr_assert_eq(agent_finish(&f->a), 0);
	/* Console copiers end with their guest; give them a moment to go. */
	usleep(500 * 1000);
	cr_assert_eq(rm_rf(f->dir, &e), 0, "%s", e.msg);
	forget(f);
}

void fake_dom0_cleanup(void)
{
	struct xerr e = { 0 };

	if (!live.dir)
		return;
	agent_kill(&live.a);
	/* A tool the agent ran may still be writing into dir: try again. */
	for (int i = 0; i < 20 && path_exists(live.dir); i++) {
		if (rm_rf(live.dir, &e) < 0 || path_exists(live.dir))
			usleep(100 * 1000);
	}
	forget(&live);
}

struct json_object *fcall(struct fake_dom0 *f, const char *op, const char *args)
{
	_cleanup_free_ char *line = xasprintf("{\"v\":1,\"id\":%d,\"op\":\"%s\",\"args\":%s}",
					      ++f->next_id, op, args);
	struct json_object *resp = call_raw(&f->a, line, 60);

	cr_assert_eq(json_object_get_int(get(resp, "id")), f->next_id);
	return resp;
}

size_t count_calls(struct fake_dom0 *f, const char *needle)
{
	_cleanup_free_ char *path = xasprintf("%s/calls", f->state);
	_cleanup_free_ char *text = NULL;
	struct xerr e = { 0 };
	size_t len, n = 0;

	if (file_read_all(path, 0, &text, &len, &e) < 0)
		return 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}
