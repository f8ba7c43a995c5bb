/* The agent as libxl's hotplug script (run through the link named block)
 * and its xenstore client (linked in here too), against a stand-in xenstored on a unix socket
 * under $XLAB_AGENT_PREFIX: a table of paths, read, written and listed by
 * the wire protocol of Xen's xs_wire.h, decoded here independently of the
 * agent's encoder. The vif's interface ioctls need a real bridge: the e2e
 * suite boots guests through them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dom0paths.h"
#include "hotplug.h"
#include "spawn.h"
#include "util.h"
#include "xenstore.h"

#define MAX_KEYS 64

static struct {
	char dir[64];
	char *prefix;
	int listen_fd;
	pthread_t thread;
	pthread_mutex_t mu;
	char *key[MAX_KEYS], *val[MAX_KEYS];
	size_t n;
	int requests;
} xs = { .listen_fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

static const char *table_get(const char *k)
{
	for (size_t i = 0; i < xs.n; i++)
		if (!strcmp(xs.key[i], k))
			return xs.val[i];
	return NULL;
}

static void table_put(const char *k, const char *v)
{
	for (size_t i = 0; i < xs.n; i++)
		if (!strcmp(xs.key[i], k)) {
			free(xs.val[i]);
			xs.val[i] = xstrdup(v);
			return;
		}
	cr_assert_lt(xs.n, MAX_KEYS);
	xs.key[xs.n] = xstrdup(k);
	xs.val[xs.n++] = xstrdup(v);
}

static bool read_n(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return false;
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return true;
}

static void reply(int fd, uint32_t type, uint32_t id, const char *body, size_t len)
{
	uint32_t h[4] = { type, id, 0, (uint32_t)len };

	cr_assert_eq(write(fd, h, sizeof(h)), (ssize_t)sizeof(h));
	if (len)
		cr_assert_eq(write(fd, body, len), (ssize_t)len);
}

/* Children of path: the next component of every key under it, once each. */
static size_t directory(const char *path, char *out, size_t cap)
{
	size_t plen = strlen(path), len = 0;

	for (size_t i = 0; i < xs.n; i++) {
		const char *k = xs.key[i], *rest;
		bool seen = false;
		size_t l;

		if (strncmp(k, path, plen) || k[plen] != '/')
			continue;
		rest = k + plen + 1;
		l = strcspn(rest, "/");
		for (size_t at = 0; at < len; at += strlen(out + at) + 1)
			seen |= strlen(out + at) == l && !memcmp(out + at, rest, l);
		if (seen)
			continue;
		cr_assert_lt(len + l + 1, cap);
		memcpy(out + len, rest, l);
		out[len + l] = '\0';
		len += l + 1;
	}
	return len;
}

static void serve(int fd)
{
	uint32_t h[4];
	char body[4097], out[4096];

	while (read_n(fd, h, sizeof(h))) {
		cr_assert_leq(h[3], 4096);
		cr_assert(read_n(fd, body, h[3]));
		body[h[3]] = '\0';
		pthread_mutex_lock(&xs.mu);
		xs.requests++;
		if (h[0] == 2) { /* XS_READ */
			const char *v = table_get(body);

			if (v)
				reply(fd, 2, h[1], v, strlen(v));
			else
				reply(fd, 16, h[1], "ENOENT", 7);
		} else if (h[0] == 11) { /* XS_WRITE: path NUL value */
			table_put(body, body + strlen(body) + 1 <= body + h[3]
						? body + strlen(body) + 1 : "");
			reply(fd, 11, h[1], "OK", 3);
		} else if (h[0] == 1) { /* XS_DIRECTORY */
			size_t len = directory(body, out, sizeof(out));

			reply(fd, 1, h[1], out, len);
		} else if (h[0] == 17) { /* XS_IS_DOMAIN_INTRODUCED: only domain 3 lives */
			reply(fd, 17, h[1], strcmp(body, "3") ? "F" : "T", 2);
		} else {
			reply(fd, 16, h[1], "EINVAL", 7);
		}
		pthread_mutex_unlock(&xs.mu);
	}
	close(fd);
}

static void *server(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(xs.listen_fd, NULL, NULL)) >= 0)
		serve(fd);
	return NULL;
}

static void xs_start(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	_cleanup_free_ char *dir = NULL, *sock = NULL;
	struct xerr e = { 0 };

	strcpy(xs.dir, "/tmp/xlab-hotplug.XXXXXX");
	cr_assert_not_null(mkdtemp(xs.dir));
	xs.prefix = xasprintf("%s/root", xs.dir);
	dir = xasprintf("%s/run/xenstored", xs.prefix);
	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	sock = xasprintf("%s/socket", dir);
	cr_assert_lt(strlen(sock), sizeof(a.sun_path));
	strcpy(a.sun_path, sock);
	xs.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(xs.listen_fd, 0);
	cr_assert_eq(bind(xs.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0, "%s",
		     strerror(errno));
	cr_assert_eq(listen(xs.listen_fd, 8), 0);
	cr_assert_eq(pthread_create(&xs.thread, NULL, server, NULL), 0);
}

static void xs_stop(void)
{
	struct xerr e = { 0 };

	if (xs.listen_fd >= 0) {
		shutdown(xs.listen_fd, SHUT_RDWR);
		close(xs.listen_fd);
	}
	if (xs.prefix)
		rm_rf(xs.dir, &e);
}

TestSuite(agent_hotplug, .init = xs_start, .fini = xs_stop);

/* The agent's hotplug links, as storage.init leaves them. */
static char *links_make(void)
{
	_cleanup_free_ char *dir = xasprintf("%s%s", xs.prefix, DOM0_HOTPLUG_DIR);
	char *block = xasprintf("%s%s", xs.prefix, DOM0_HOTPLUG_BLOCK);
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(symlink(getenv("XLAB_AGENT"), block), 0, "%s", strerror(errno));
	return block;
}

/* Runs the block link as libxl does: ACTION, XENBUS_PATH in the env. */
static int run_block(const char *block, const char *action, const char *bus, char **err)
{
	_cleanup_free_ char *penv = xasprintf("XLAB_AGENT_PREFIX=%s", xs.prefix);
	_cleanup_free_ char *benv = xasprintf("XENBUS_PATH=%s", bus);
	char *argv[] = { (char *)block, (char *)action, NULL };
	char *env[] = { penv, benv, NULL };
	struct spawn_opts o = { .env_add = env, .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r;
	struct xerr e = { 0 };

	cr_assert_eq(spawn_run(argv, &o, &r, &e), 0, "%s", e.msg);
	*err = r.err ? r.err : xstrdup("");
	free(r.out);
	return r.status;
}

/* A block device node of the test's own (only its numbers matter: the
 * script stats it, never opens it), or one of this machine's where making
 * nodes is not allowed. A fresh root's /dev has no block device at all. */
static char *some_block_device(struct stat *st)
{
	static const char *const candidates[] = { "/dev/loop0", "/dev/vda", "/dev/sda",
						  "/dev/nvme0n1", "/dev/xvda" };
	char *own = xasprintf("%s/lv-node", xs.dir);

	if (mknod(own, S_IFBLK | 0600, makedev(7, 42)) == 0 && stat(own, st) == 0)
		return own;
	free(own);
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
		if (stat(candidates[i], st) == 0 && S_ISBLK(st->st_mode))
			return xstrdup(candidates[i]);
	return NULL;
}

Test(agent_hotplug, block_add_names_the_device_for_blkback)
{
	_cleanup_free_ char *block = links_make(), *err = NULL, *want = NULL;
	const char *bus = "backend/vbd/3/51712";
	struct stat st;
	_cleanup_free_ char *dev = some_block_device(&st);

	cr_assert_not_null(dev, "cannot make a block device node (not root?) and this machine "
				"has none of the usual ones");
	table_put("backend/vbd/3/51712/params", dev);
	cr_assert_eq(run_block(block, "add", bus, &err), 0, "stderr: %s", err);
	want = xasprintf("%x:%x", major(st.st_rdev), minor(st.st_rdev));
	pthread_mutex_lock(&xs.mu);
	cr_expect_str_eq(table_get("backend/vbd/3/51712/physical-device"), want);
	cr_expect_str_eq(table_get("backend/vbd/3/51712/physical-device-path"), dev);
	cr_expect_str_eq(table_get("backend/vbd/3/51712/hotplug-status"), "connected");
	pthread_mutex_unlock(&xs.mu);
}

Test(agent_hotplug, block_refuses_what_is_not_a_block_device)
{
	_cleanup_free_ char *block = links_make(), *err = NULL;
	const char *bus = "backend/vbd/4/51712";

	table_put("backend/vbd/4/51712/params", "/etc/hostname");
	cr_assert_eq(run_block(block, "add", bus, &err), 1);
	cr_expect(strstr(err, "/etc/hostname is not a block device"), "stderr: %s", err);
	pthread_mutex_lock(&xs.mu);
	cr_expect_str_eq(table_get("backend/vbd/4/51712/hotplug-status"), "error");
	cr_expect_str_eq(table_get("backend/vbd/4/51712/hotplug-error"),
			 "/etc/hostname is not a block device");
	cr_expect_null(table_get("backend/vbd/4/51712/physical-device"));
	pthread_mutex_unlock(&xs.mu);
}

Test(agent_hotplug, block_remove_and_a_missing_entry)
{
	_cleanup_free_ char *block = links_make(), *err = NULL;
	int before;

	pthread_mutex_lock(&xs.mu);
	before = xs.requests;
	pthread_mutex_unlock(&xs.mu);
	/* Removal needs nothing from xlab's script: not even xenstore. */
	cr_assert_eq(run_block(block, "remove", "backend/vbd/5/51712", &err), 0);
	pthread_mutex_lock(&xs.mu);
	cr_expect_eq(xs.requests, before);
	pthread_mutex_unlock(&xs.mu);
	free(err);
	/* No params: xenstore's ENOENT, said on stderr. */
	cr_assert_eq(run_block(block, "add", "backend/vbd/6/51712", &err), 1);
	cr_expect(strstr(err, "backend/vbd/6/51712/params") && strstr(err, "ENOENT"), "stderr: %s",
		  err);
}

/* The agent's lookup of a domain by name (what `xl domid` answered): its
 * name under /local/domain, and alive to xenstored (the stand-in says only
 * domain 3 is). A name whose domain is not alive is a dead domain's
 * left-overs or a build cut short: unsure, the caller asks `xl domid`. */
Test(agent_hotplug, domid_by_name_and_when_xenstore_cannot_say)
{
	struct xs_conn *x = NULL;
	struct xerr e = { 0 };
	int64_t domid;
	char *value = NULL;
	bool unsure;

	table_put("/local/domain/0/name", "Domain-0");
	table_put("/local/domain/2/name", "web1");
	table_put("/local/domain/3/name", "web1");
	table_put("/local/domain/3/console/tty", "/dev/pts/3");
	table_put("/local/domain/7/name", "db1");
	cr_assert_eq(setenv("XLAB_AGENT_PREFIX", xs.prefix, 1), 0);
	cr_assert_eq(xs_open(&x, &e), 0, "%s", e.msg);
	cr_assert_eq(xs_domid_by_name(x, "web1", &domid, &unsure, &e), 0, "%s", e.msg);
	cr_expect_eq(domid, 3);
	cr_expect_not(unsure, "the live one was found");
	cr_assert_eq(xs_domid_by_name(x, "db1", &domid, &unsure, &e), 0, "%s", e.msg);
	cr_expect_eq(domid, -1);
	cr_expect(unsure, "db1's domain 7 is named but not alive");
	cr_assert_eq(xs_domid_by_name(x, "nosuch", &domid, &unsure, &e), 0, "%s", e.msg);
	cr_expect_eq(domid, -1);
	cr_expect_not(unsure);
	cr_assert_eq(xs_read(x, "/local/domain/3/console/tty", &value, &e), 0, "%s", e.msg);
	cr_expect_str_eq(value, "/dev/pts/3");
	free(value);
	cr_assert_eq(xs_read(x, "/local/domain/3/nothing", &value, &e), -1);
	cr_expect_eq(e.kind, XERR_NOTFOUND, "%s", e.msg);
	xs_close(x);
	unsetenv("XLAB_AGENT_PREFIX");
	/* No xenstore at all (not a dom0): NOTFOUND, so callers fall back. */
	cr_assert_eq(setenv("XLAB_AGENT_PREFIX", "/nonexistent", 1), 0);
	e = (struct xerr){ 0 };
	cr_assert_eq(xs_open(&x, &e), -1);
	cr_expect_eq(e.kind, XERR_NOTFOUND, "%s", e.msg);
	unsetenv("XLAB_AGENT_PREFIX");
}

/* libxl's calls of a vif script (tools/libs/light/libxl_linux.c): a PV vif
 * comes "online"/"offline" with type_if=vif and $vif; an emulated NIC's tap
 * "add"/"remove" with type_if=tap and $INTERFACE. */
Test(agent_hotplug, vif_plan_follows_libxls_arguments)
{
	struct vif_plan p;

	cr_expect_eq(hotplug_vif_plan(3, (char *[]){ "vif", "online", "type_if=vif", NULL },
				      "vif3.0", "vif3.0-emu", &p), 1);
	cr_expect_str_eq(p.ifname, "vif3.0");
	cr_expect_not(p.tap);
	cr_expect_eq(hotplug_vif_plan(3, (char *[]){ "vif", "add", "type_if=tap", NULL },
				      "vif3.0", "vif3.0-emu", &p), 1);
	cr_expect_str_eq(p.ifname, "vif3.0-emu", "the tap, not its PV twin");
	cr_expect(p.tap);
	cr_expect_eq(hotplug_vif_plan(3, (char *[]){ "vif", "offline", "type_if=vif", NULL },
				      "vif3.0", NULL, &p), 0);
	cr_expect_eq(hotplug_vif_plan(3, (char *[]){ "vif", "remove", "type_if=tap", NULL },
				      "vif3.0", "vif3.0-emu", &p), 0);
	/* A PV vif is never "add"ed: that is the tap's word. */
	cr_expect_eq(hotplug_vif_plan(3, (char *[]){ "vif", "add", "type_if=vif", NULL },
				      "vif3.0", NULL, &p), 0);
	cr_expect_eq(hotplug_vif_plan(3, (char *[]){ "vif", "add", "type_if=tap", NULL },
				      "vif3.0", NULL, &p), -1, "no $INTERFACE");
	cr_expect_eq(hotplug_vif_plan(2, (char *[]){ "vif", "online", NULL }, "", NULL, &p), -1);
}
