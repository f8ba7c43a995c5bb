/* The guest ops in a dom0 of fake tools (fakedom0.h): create, list,
 * destroy, the guest types, the checks, stop and start. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "agentrun.h"
#include "dom0paths.h"
#include "fakedom0.h"
#include "util.h"

TestSuite(agent_fake_dom0, .fini = fake_dom0_cleanup);

static const char guest_args[] =
	"{\"name\":\"web1\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
	"\"xl_cfg\":\"name = \\\"web1\\\"\\ntype = \\\"pvh\\\"\\nmemory = 128\\n"
	"disk = [ 'phy:/dev/xlab/web1,xvda,w' ]\\n\"}";

/* A root filesystem with sshd (rootfs: debian): the agent makes its host
 * key and hands the public half back for pinning, and gives root the
 * dom0's authorized key; a suite the image lacks is refused by name. */
Test(agent_fake_dom0, debian_guest_gets_keys, .timeout = 90)
{
	static const char lab_key[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE xlab-lab\n";
	struct fake_dom0 *f;
	struct json_object *resp, *res;
	_cleanup_free_ char *tree = NULL, *tar = NULL, *link = NULL, *lv = NULL, *auth = NULL;
	_cleanup_free_ char *key = NULL, *pub = NULL;
	const char *msg;

	f = fake_dom0_start();
	tree = xasprintf("%s/debtree", f->dir);
	put_file(tree, "/usr/sbin/sshd", "#!/bin/sh\n");
	put_file(tree, "/etc/ssh/sshd_config", "");
	put_file(tree, "/root/.profile", "");
	tar = xasprintf("%s/var/lib/xlab/guest/debian-bookworm.tar", f->prefix);
	free(run_out((char *[]){ "tar", "-cf", tar, "-C", tree, ".", NULL }));
	link = xasprintf("%s/var/lib/xlab/guest/debian.tar", f->prefix);
	cr_assert_eq(symlink("debian-bookworm.tar", link), 0);
	put_file(f->prefix, "/root/.ssh/authorized_keys", lab_key);
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	resp = fcall(f, "guest.create",
		     "{\"name\":\"deb\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		     "\"rootfs\":\"debian\",\"xl_cfg\":\"name = \\\"deb\\\"\\n\"}");
	res = expect_ok(resp, f->next_id);
	pub = xstrdup(json_object_get_string(get(res, "ssh_host_key")));
	lv = xstrdup(json_object_get_string(get(res, "lv_path")));
	json_object_put(resp);
	cr_assert(!strncmp(pub, "ssh-ed25519 ", 12), "%s", pub);
	cr_assert(strstr(pub, " root@deb\n"), "%s", pub);
	auth = run_out((char *[]){ "debugfs", "-R", "cat /root/.ssh/authorized_keys", lv, NULL });
	cr_assert_str_eq(auth, lab_key);
	key = run_out((char *[]){ "debugfs", "-R", "cat /etc/ssh/ssh_host_ed25519_key.pub", lv,
				  NULL });
	cr_assert_str_eq(key, pub);

	/* Asked again (its first answer lost): the same key comes back. */
	resp = fcall(f, "guest.create",
		     "{\"name\":\"deb\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		     "\"rootfs\":\"debian\",\"xl_cfg\":\"name = \\\"deb\\\"\\n\"}");
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "already")));
	cr_assert_str_eq(json_object_get_string(get(res, "ssh_host_key")), pub);
	json_object_put(resp);

	resp = fcall(f, "guest.create",
		     "{\"name\":\"tx\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		     "\"rootfs\":\"debian-trixie\",\"xl_cfg\":\"name = \\\"tx\\\"\\n\"}");
	msg = expect_err(resp, "enoent");
	cr_assert(strstr(msg, "carries debian-bookworm only"), "%s", msg);
	json_object_put(resp);
	fake_dom0_stop(f);
}

Test(agent_fake_dom0, guest_lifecycle, .timeout = 90)
{
	struct fake_dom0 *f;
	struct json_object *resp, *res;
	_cleanup_free_ char *cfg = NULL, *lv = NULL, *fstab = NULL, *host = NULL;
	_cleanup_free_ char *cfg_text = NULL;
	struct xerr e = { 0 };
	size_t len;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	/* storage.init leaves xlab's hotplug scripts ready for the configs that
	 * name them, a guest made here or one migrating in: links to the agent's
	 * own binary (it does the work when run as block or vif). */
	for (const char **s = (const char *[]){ DOM0_HOTPLUG_BLOCK, DOM0_HOTPLUG_VIF, NULL }; *s;
	     s++) {
		_cleanup_free_ char *script = xasprintf("%s%s", f->prefix, *s);
		char target[PATH_MAX], agent[PATH_MAX];
		ssize_t n = readlink(script, target, sizeof(target) - 1);

		cr_assert_gt(n, 0, "%s is not a link", script);
		target[n] = '\0';
		cr_assert_not_null(realpath(getenv("XLAB_AGENT"), agent));
		cr_expect_str_eq(target, agent, "%s links to %s", script, target);
		cr_expect_eq(access(script, X_OK), 0, "%s is not executable", script);
	}

	resp = fcall(f, "guest.create", guest_args);
	res = expect_ok(resp, f->next_id);
	cr_assert(!json_object_get_boolean(get(res, "already")));
	cr_assert(json_object_get_boolean(get(res, "fs_made")));
	cr_assert_eq(json_object_get_int(get(res, "domid")), 1);
	lv = xstrdup(json_object_get_string(get(res, "lv_path")));
	cfg = xstrdup(json_object_get_string(get(res, "cfg")));
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "lvcreate -y -Wy -Zy -n web1 -L 67108864b xlab"), 1);
	cr_assert_eq(count_calls(f, "xl create -p "), 1);
	cr_assert_eq(count_calls(f, "xl unpause web1"), 1);
	cr_assert_eq(file_read_all(cfg, 0, &cfg_text, &len, &e), 0, "%s", e.msg);
	cr_assert(strstr(cfg_text, "name = \"web1\"\n"), "%s", cfg_text);
	cr_assert(strstr(cfg, "/etc/xen/xlab/web1.cfg"), "%s", cfg);

	/* The LV holds an ext4 made from the tarball, with the guest's fstab. */
	fstab = run_out((char *[]){ "debugfs", "-R", "cat /etc/fstab", lv, NULL });
	cr_assert_str_eq(fstab, "/dev/xvda / ext4 defaults 0 1\n");
	/* The tarball said "guest": every guest is named after itself. */
	host = run_out((char *[]){ "debugfs", "-R", "cat /etc/hostname", lv, NULL });
	cr_assert_str_eq(host, "web1\n");

	/* The console goes through a pty to the log, from the first line on. */
	resp = fcall(f, "guest.wait_console", "{\"name\":\"web1\",\"text\":\"XLAB-GUEST-UP web1\","
					      "\"timeout_s\":30}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	resp = fcall(f, "guest.console", "{\"name\":\"web1\"}");
	cr_assert(strstr(json_object_get_string(get(expect_ok(resp, f->next_id), "text")),
			 "Linux version"));
	json_object_put(resp);

	resp = fcall(f, "guest.create", guest_args);
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "already")));
	cr_assert_eq(json_object_get_int(get(res, "domid")), 1);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl create -p "), 1, "a running guest is left alone");

	resp = fcall(f, "guest.list", "{}");
	res = get(expect_ok(resp, f->next_id), "guests");
	cr_assert_eq(json_object_array_length(res), 2);
	res = json_object_array_get_idx(res, 1);
	cr_assert_str_eq(json_object_get_string(get(res, "name")), "web1");
	cr_assert_eq(json_object_get_int(get(res, "domid")), 1);
	cr_assert_eq(json_object_get_int(get(res, "memory_kib")), 131072);
	cr_assert_str_eq(json_object_get_string(get(res, "state")), "-b----");
	json_object_put(resp);

	resp = fcall(f, "guest.destroy", "{\"name\":\"web1\",\"vg\":\"xlab\",\"remove_lv\":true}");
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "destroyed")));
	cr_assert(json_object_get_boolean(get(res, "lv_removed")));
	json_object_put(resp);
	cr_assert(!path_exists(cfg));
	cr_assert(!path_exists(lv));
	resp = fcall(f, "guest.destroy", "{\"name\":\"web1\",\"vg\":\"xlab\",\"remove_lv\":true}");
	res = expect_ok(resp, f->next_id);
	cr_assert(!json_object_get_boolean(get(res, "destroyed")));
	cr_assert(!json_object_get_boolean(get(res, "lv_removed")));
	json_object_put(resp);

	resp = fcall(f, "guest.create", "{\"name\":\"db1\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
					"\"rootfs\":\"/nonexistent/root.tar\",\"xl_cfg\":\"\"}");
	expect_err(resp, "enoent");
	json_object_put(resp);
	resp = fcall(f, "guest.create", "{\"name\":\"db1\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
					"\"rootfs\":\"root.tar\",\"xl_cfg\":\"\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(f, "guest.create", "{\"name\":\"db1\",\"vg\":\"xlab\",\"size_bytes\":1,"
					"\"rootfs\":\"busybox\",\"xl_cfg\":\"\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	fake_dom0_stop(f);
}

static void hwvirt_create(struct fake_dom0 *f, const char *name, const char *type,
			  const char *virt_caps, bool prefer_shadow, char **cfg_text)
{
	_cleanup_free_ char *caps_path = xasprintf("%s/virt_caps", f->state);
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"type\":\"%s\",\"prefer_shadow\":%s,\"xl_cfg\":\"name = \\\"%s\\\"\\n\"}",
		name, type, prefer_shadow ? "true" : "false", name);
	struct json_object *resp;
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_write_atomic(caps_path, virt_caps, strlen(virt_caps), 0644, &e), 0);
	resp = fcall(f, "guest.create", args);
	if (!cfg_text) {
		expect_err(resp, "efail");
		cr_assert(strstr(json_object_get_string(get(get(resp, "error"), "message")),
				 !strcmp(virt_caps, "pv") ? "cannot run hvm guests"
							  : "no shadow paging"),
			  "%s", json_object_to_json_string(resp));
		json_object_put(resp);
		return;
	}
	cr_assert_eq(file_read_all(json_object_get_string(get(expect_ok(resp, f->next_id), "cfg")),
				   0, cfg_text, &len, &e), 0, "%s", e.msg);
	json_object_put(resp);
}

/* pvh and hvm guests: the agent reads virt_caps first and refuses a type
 * this Xen cannot run before any LV is made; asked to prefer shadow paging
 * (TCG), a Xen with both gets `hap = 0` in the kept config and one without
 * shadow is refused. */
Test(agent_fake_dom0, pvh_and_hvm_guests_by_virt_caps, .timeout = 90)
{
	struct fake_dom0 *f;
	struct json_object *resp;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	hwvirt_create(f, "a", "pvh", "pv hvm hap shadow", true, &a);
	cr_assert(strstr(a, "name = \"a\"\nhap = 0\n"), "%s", a);
	hwvirt_create(f, "b", "hvm", "pv hvm hap", false, &b);
	cr_assert_null(strstr(b, "hap"), "xl.hap given: the spec's choice: %s", b);
	hwvirt_create(f, "c", "pvh", "pv hvm hap shadow", false, &c);
	cr_assert_null(strstr(c, "hap"), "KVM: HAP stays: %s", c);
	hwvirt_create(f, "d", "hvm", "pv", true, NULL);
	cr_assert_eq(count_calls(f, "lvcreate -y -Wy -Zy -n d "), 0, "refused before any LV");
	hwvirt_create(f, "g", "pvh", "pv hvm hap", true, NULL);
	cr_assert_eq(count_calls(f, "lvcreate -y -Wy -Zy -n g "), 0, "refused before any LV");
	resp = fcall(f, "guest.create", "{\"name\":\"e\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
					"\"rootfs\":\"busybox\",\"type\":\"kvm\",\"xl_cfg\":\"\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	fake_dom0_stop(f);
}

static void kernel_create(struct fake_dom0 *f, const char *name, const char *type,
			  char **cfg_text)
{
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"type\":\"%s\",\"xl_cfg\":\"name = \\\"%s\\\"\\n"
		"kernel = \\\"/var/lib/xlab/guest/vmlinuz\\\"\\nmemory = 64\\n\"}",
		name, type, name);
	struct json_object *resp = fcall(f, "guest.create", args);
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_read_all(json_object_get_string(get(expect_ok(resp, f->next_id), "cfg")),
				   0, cfg_text, &len, &e), 0, "%s", e.msg);
	json_object_put(resp);
}

/* The kept config of a PV or PVH guest names the kit's unpacked kernel when
 * the image has one (libxl then loads it without unpacking it in the dom0);
 * an HVM guest's, and any on an image without it, keeps the bzImage. */
Test(agent_fake_dom0, unpacked_kernel_for_pv_and_pvh, .timeout = 90)
{
	static const char packed[] = "\nkernel = \"/var/lib/xlab/guest/vmlinuz\"\nmemory = 64\n";
	static const char unpacked[] = "\nkernel = \"/var/lib/xlab/guest/vmlinux\"\nmemory = 64\n";
	_cleanup_free_ char *old = NULL, *pv = NULL, *pvh = NULL, *hvm = NULL;
	_cleanup_free_ char *caps = NULL;
	struct fake_dom0 *f;
	struct json_object *resp;
	struct xerr e = { 0 };

	f = fake_dom0_start();
	caps = xasprintf("%s/virt_caps", f->state);
	cr_assert_eq(file_write_atomic(caps, "pv hvm hap shadow", 17, 0644, &e), 0);
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	kernel_create(f, "old", "pv", &old);
	cr_assert(strstr(old, packed), "no vmlinux in this image: %s", old);
	put_file(f->prefix, "/var/lib/xlab/guest/vmlinux", "\177ELF");
	kernel_create(f, "pv", "pv", &pv);
	cr_assert(strstr(pv, unpacked), "%s", pv);
	kernel_create(f, "pvh", "pvh", &pvh);
	cr_assert(strstr(pvh, unpacked), "%s", pvh);
	kernel_create(f, "hvm", "hvm", &hvm);
	cr_assert(strstr(hvm, packed), "the device model boots the bzImage: %s", hvm);
	fake_dom0_stop(f);
}

/* Where the dom0 has Xen's xenconsole beside its xl, the copier runs it
 * with --start-notify-fd and the guest is unpaused once it says it reads:
 * the fake client notes the domain was still paused then, and the console
 * has the guest's first line. A client that gives up without a word costs
 * the guest its console, not its start. */
Test(agent_fake_dom0, console_client_says_when_it_reads, .timeout = 90)
{
	static const char web2[] =
		"{\"name\":\"web2\",\"vg\":\"xlab\",\"size_bytes\":67108864,"
		"\"rootfs\":\"busybox\",\"xl_cfg\":\"name = \\\"web2\\\"\\n"
		"memory = 64\\n\"}";
	_cleanup_free_ char *bin = NULL, *silent = NULL;
	struct fake_dom0 *f;
	struct json_object *resp;
	struct xerr e = { 0 };

	f = fake_dom0_start();
	bin = xasprintf("%s/usr/lib/xen-4.17/bin", f->prefix);
	cr_assert_eq(mkdir_p(bin, 0755, &e), 0, "%s", e.msg);
	for (const char **t = (const char *[]){ "xl", "xenconsole", NULL }; *t; t++) {
		_cleanup_free_ char *link = xasprintf("%s/%s", bin, *t);
		_cleanup_free_ char *script = xasprintf(
			"%s/tests/integration/test_agent_fake_tools.sh", getenv("XLAB_SOURCE_DIR"));

		cr_assert_eq(symlink(script, link), 0, "%s", strerror(errno));
	}
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	resp = fcall(f, "guest.create", guest_args);
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	cr_expect_eq(count_calls(f, "xenconsole attached to web1 while paused"), 1);
	cr_expect_eq(count_calls(f, "xl console"), 0, "Xen's own client, not xl's");
	resp = fcall(f, "guest.wait_console", "{\"name\":\"web1\",\"text\":\"Linux version\","
					      "\"timeout_s\":30}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	silent = xasprintf("%s/xenconsole_silent", f->state);
	cr_assert_eq(file_write_atomic(silent, "", 0, 0644, &e), 0, "%s", e.msg);
	resp = fcall(f, "guest.create", web2);
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	cr_expect_eq(count_calls(f, "xl unpause web2"), 1);
	cr_expect_eq(count_calls(f, "xenconsole attached to web2"), 0);
	fake_dom0_stop(f);
}

/* One round, `round` of `of`, as the controller asks it. */
static struct json_object *check_call(struct fake_dom0 *f, const char *name, const char *action,
				      const char *ip, int round, int of)
{
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"action\":\"%s\",\"ip\":\"%s\",\"round\":%d,"
		"\"rounds_of\":%d,\"timeout_s\":2}",
		name, action, ip, round, of);

	return fcall(f, "guest.check", args);
}

/* A round (or a host check) that passes, whose output the caller may read
 * (it puts resp). */
static const char *round_passes(struct fake_dom0 *f, struct json_object *resp)
{
	struct json_object *res = expect_ok(resp, f->next_id);
	const char *out = json_object_get_string(get(res, "output"));

	cr_assert(json_object_get_boolean(get(res, "passed")), "%s", out);
	return out;
}

/* A round that fails: a result, not an agent error. */
static const char *round_fails(struct fake_dom0 *f, struct json_object *resp)
{
	struct json_object *res = expect_ok(resp, f->next_id);
	const char *out = json_object_get_string(get(res, "output"));

	cr_assert_not(json_object_get_boolean(get(res, "passed")), "%s", out);
	return out;
}

static void guest_make(struct fake_dom0 *f, const char *name)
{
	_cleanup_free_ char *args = xasprintf(
		"{\"name\":\"%s\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"xl_cfg\":\"name = \\\"%s\\\"\\n\"}",
		name, name);
	struct json_object *resp = fcall(f, "guest.create", args);

	expect_ok(resp, f->next_id);
	json_object_put(resp);
}

/* osstest's guest-saverestore, guest-localmigrate, guest-stop/start: one
 * round per call is xl's work and then the guest answering at its address;
 * a round that fails is the result (not an agent error), with xl's words. */
Test(agent_fake_dom0, guest_checks, .timeout = 90)
{
	_cleanup_free_ char *host = xcalloc(1, 256);
	_cleanup_free_ char *migrate = NULL, *silent = NULL, *saved = NULL;
	struct fake_dom0 *f;
	struct json_object *resp, *steps, *last;
	struct xerr e = { 0 };
	const char *out;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	guest_make(f, "g");

	for (int round = 1; round <= 2; round++) {
		resp = check_call(f, "g", "save-restore", "10.0.0.50", round, 2);
		out = round_passes(f, resp);
		json_object_put(resp);
	}
	resp = check_call(f, "g", "save-restore", "10.0.0.50", 3, 5);
	out = round_passes(f, resp);
	cr_assert(!strncmp(out, "save-restore 3/5:\n  xl save: done", 33), "%s", out);
	cr_assert(strstr(out, "xl restore: done"), "%s", out);
	cr_assert(strstr(out, "ping 10.0.0.50: answered"), "%s", out);
	steps = get(get(resp, "result"), "steps");
	cr_assert_eq(json_object_array_length(steps), 3, "save, restore, ping");
	last = json_object_array_get_idx(steps, 2);
	cr_assert_eq(json_object_get_int(get(last, "round")), 3, "numbered as in the whole");
	cr_assert_str_eq(json_object_get_string(get(last, "step")), "ping");
	cr_assert(json_object_get_boolean(get(last, "ok")));
	cr_assert_geq(json_object_get_int(get(last, "ms")), 0);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl save g "), 3);
	cr_assert_eq(count_calls(f, "xl restore "), 3);
	saved = xasprintf("%s/var/lib/xlab-agent/save/g", f->prefix);
	cr_assert_not(path_exists(saved), "the save file is removed");

	cr_assert_eq(gethostname(host, 255), 0);
	migrate = xasprintf("xl migrate g %s", host);
	resp = check_call(f, "g", "local-migrate", "10.0.0.50", 1, 1);
	round_passes(f, resp);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, migrate), 1, "to this host by its own name");

	/* A restore that ran out of disk hotplug time is tried again: the
	 * save file is still there, and the guest must not be lost. */
	guest_make(f, "slowdisk");
	resp = check_call(f, "slowdisk", "save-restore", "10.0.0.53", 1, 1);
	out = round_passes(f, resp);
	cr_assert(strstr(out, "xl restore: the disk hotplug script timed out (try 1), again\n"
			      "  xl restore: done"),
		  "%s", out);
	steps = get(get(resp, "result"), "steps");
	cr_assert_eq(json_object_array_length(steps), 3, "one restore step, however many tries");
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl restore "), 5);
	resp = check_call(f, "slowdisk", "local-migrate", "10.0.0.53", 1, 1);
	out = round_passes(f, resp);
	cr_assert(strstr(out, "xl migrate to itself: the disk hotplug script timed out (try 1), "
			      "again\n  xl migrate to itself: done"),
		  "%s", out);
	json_object_put(resp);

	guest_make(f, "unsaveable");
	resp = check_call(f, "unsaveable", "save-restore", "10.0.0.51", 1, 3);
	out = round_fails(f, resp);
	cr_assert(strstr(out, "xl save: FAILED"), "%s", out);
	cr_assert(strstr(out, "Failed to save domain"), "xl's words: %s", out);
	json_object_put(resp);

	/* stop-start: a clean shutdown, then a boot from the kept config. */
	resp = check_call(f, "g", "stop-start", "10.0.0.50", 1, 1);
	out = round_passes(f, resp);
	cr_assert(strstr(out, "stop-start 1/1:\n  xl shutdown -w: done"), "%s", out);
	cr_assert(strstr(out, "xl create: done"), "%s", out);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl shutdown -w g"), 1);
	cr_assert_eq(count_calls(f, "xl create -p "), 4, "three guests made, one start");
	guest_make(f, "stubborn");
	resp = check_call(f, "stubborn", "stop-start", "10.0.0.52", 1, 1);
	out = round_fails(f, resp);
	cr_assert(strstr(out, "xl shutdown -w: FAILED, still running after 2 s"), "%s", out);
	json_object_put(resp);

	silent = xasprintf("%s/silent", f->state);
	cr_assert_eq(file_write_atomic(silent, "10.0.0.50\n", 10, 0644, &e), 0);
	resp = check_call(f, "g", "local-migrate", "10.0.0.50", 1, 1);
	out = round_fails(f, resp);
	cr_assert(strstr(out, "ping 10.0.0.50: NO ANSWER"), "%s", out);
	json_object_put(resp);

	resp = check_call(f, "g", "reboot", "10.0.0.50", 1, 1);
	cr_assert(strstr(expect_err(resp, "einval"), "no action 'reboot'"));
	json_object_put(resp);
	resp = check_call(f, "g", "save-restore", "10.0.0", 1, 1);
	cr_assert(strstr(expect_err(resp, "einval"), "not an IPv4 address"));
	json_object_put(resp);
	resp = check_call(f, "g", "save-restore", "10.0.0.50", 3, 2);
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = check_call(f, "g", "save-restore", "10.0.0.50", 101, 101);
	expect_err(resp, "einval");
	json_object_put(resp);
	fake_dom0_stop(f);
}

/* The domid xl lists `name` under, or -1 when it is not there. */
static int guest_domid(struct fake_dom0 *f, const char *name)
{
	struct json_object *resp = fcall(f, "guest.list", "{}");
	struct json_object *guests = get(expect_ok(resp, f->next_id), "guests");
	int domid = -1;

	for (size_t i = 0; i < json_object_array_length(guests); i++) {
		struct json_object *g = json_object_array_get_idx(guests, i);

		if (!strcmp(json_object_get_string(get(g, "name")), name))
			domid = json_object_get_int(get(g, "domid"));
	}
	json_object_put(resp);
	return domid;
}

static struct json_object *migrate_call(struct fake_dom0 *f, const char *name, const char *to)
{
	_cleanup_free_ char *args = xasprintf("{\"name\":\"%s\",\"to\":\"%s\"}", name, to);

	return fcall(f, "guest.migrate", args);
}

/* guest.migrate is `xl migrate NAME TO`. A migration xl refuses is a result
 * (its status and the tail of its words, which the controller records as a
 * failed round), not an agent error, and the guest stays where it was. */
Test(agent_fake_dom0, guest_migrate, .timeout = 90)
{
	static const char refused[] = "migrate to nowhere: not this host\n";
	_cleanup_free_ char *host = xcalloc(1, 256), *chatter = xmalloc(20001);
	_cleanup_free_ char *call = NULL;
	struct fake_dom0 *f;
	struct json_object *resp, *res;
	const char *out;
	size_t len;
	int domid;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	guest_make(f, "g");
	domid = guest_domid(f, "g");
	cr_assert_gt(domid, 0);

	cr_assert_eq(gethostname(host, 255), 0);
	resp = migrate_call(f, "g", host);
	res = expect_ok(resp, f->next_id);
	cr_assert_eq(json_object_get_int(get(res, "status")), 0);
	cr_assert(json_object_is_type(get(res, "wall_ms"), json_type_int));
	cr_assert_geq(json_object_get_int64(get(res, "wall_ms")), 0);
	cr_assert_str_eq(json_object_get_string(get(res, "output")), "");
	json_object_put(resp);
	call = xasprintf("xl migrate g %s", host);
	cr_assert_eq(count_calls(f, call), 1);
	cr_assert_neq(guest_domid(f, "g"), domid, "received as a new domain");
	domid = guest_domid(f, "g");

	resp = migrate_call(f, "g", "nowhere");
	res = expect_ok(resp, f->next_id);
	cr_assert_eq(json_object_get_int(get(res, "status")), 1);
	cr_assert_str_eq(json_object_get_string(get(res, "output")), refused);
	json_object_put(resp);
	cr_assert_eq(guest_domid(f, "g"), domid, "the guest stays where it was");

	/* xl says a lot before the line that tells what went wrong. */
	for (int i = 0; i < 20000; i++)
		chatter[i] = i % 80 == 79 ? '\n' : 'x';
	chatter[20000] = '\0';
	put_file(f->state, "/migrate_chatter", chatter);
	resp = migrate_call(f, "g", "nowhere");
	res = expect_ok(resp, f->next_id);
	out = json_object_get_string(get(res, "output"));
	len = (size_t)json_object_get_string_len(get(res, "output"));
	cr_assert_eq(len, 8192, "the output is capped");
	cr_assert_str_eq(out + len - strlen(refused), refused, "its tail is kept");
	json_object_put(resp);
	cr_assert_eq(guest_domid(f, "g"), domid);

	/* `to` is xl's argument: one that reads as an option is refused. */
	resp = migrate_call(f, "g", "-oProxyCommand=sh");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(f, "guest.migrate", "{\"to\":\"nowhere\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(f, "guest.migrate", "{\"name\":\"g\"}");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(f, "guest.migrate", "{\"name\":\"g\",\"to\":\"nowhere\",\"timeout_s\":5}");
	expect_err(resp, "einval");
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl migrate "), 3, "no xl for a refused request");
	fake_dom0_stop(f);
}

/* An image with busybox.ext4 gives a busybox guest that filesystem, copied
 * onto its LV and grown to the LV's size, instead of the tarball unpacked
 * and mkfs'd; a disk smaller than the filesystem is refused, saying so. */
Test(agent_fake_dom0, busybox_guest_from_the_prepared_filesystem, .timeout = 90)
{
	static const char small_args[] =
		"{\"name\":\"tiny\",\"vg\":\"xlab\",\"size_bytes\":16777216,\"rootfs\":\"busybox\","
		"\"xl_cfg\":\"name = \\\"tiny\\\"\\n\"}";
	struct fake_dom0 *f;
	struct json_object *resp, *res;
	_cleanup_free_ char *tree = NULL, *img = NULL, *lv = NULL, *init = NULL, *head = NULL;
	const char *msg;

	f = fake_dom0_start();
	tree = xasprintf("%s/kit-ext4", f->dir);
	put_file(tree, "/sbin/init", "#!/bin/sh\necho from-the-prepared-fs\n");
	put_file(tree, "/etc/fstab", GUEST_FSTAB);
	img = xasprintf("%s" DOM0_GUEST_DIR "/busybox.ext4", f->prefix);
	free(run_out((char *[]){ "truncate", "-s", "20M", img, NULL }));
	free(run_out((char *[]){ "mkfs.ext4", "-q", "-F", "-b", "4096", "-T", "default", "-d", tree,
				 img, NULL }));
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	resp = fcall(f, "guest.create", guest_args);
	res = expect_ok(resp, f->next_id);
	cr_assert(json_object_get_boolean(get(res, "fs_made")));
	lv = xstrdup(json_object_get_string(get(res, "lv_path")));
	json_object_put(resp);
	init = run_out((char *[]){ "debugfs", "-R", "cat /sbin/init", lv, NULL });
	cr_assert_str_eq(init, "#!/bin/sh\necho from-the-prepared-fs\n");
	/* Grown to the whole LV: 64 MiB of 4 KiB blocks. */
	head = run_out((char *[]){ "dumpe2fs", "-h", lv, NULL });
	cr_assert(strstr(head, "Block count:              16384\n"), "%s", head);
	cr_assert_eq(count_calls(f, "xl create -p "), 1);

	resp = fcall(f, "guest.create", small_args);
	msg = expect_err(resp, "einval");
	cr_assert(strstr(msg, "needs 20 MiB; the disk has 16"), "%s", msg);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl create -p "), 1, "no guest on a disk it cannot have");
	fake_dom0_stop(f);
}

/* `xlab stop` then `xlab start`, the dom0's part: guests.shutdown shuts
 * every guest down (destroying one that ignores the request) and keeps their
 * LVs and configs; guest.start brings one back from those alone: no lvcreate,
 * no mkfs (a marker written into its filesystem is still there), and a guest
 * never made here is refused. */
Test(agent_fake_dom0, guests_stop_and_start_keep_filesystems, .timeout = 90)
{
	static const char stubborn_args[] =
		"{\"name\":\"stubborn\",\"vg\":\"xlab\",\"size_bytes\":67108864,\"rootfs\":\"busybox\","
		"\"xl_cfg\":\"name = \\\"stubborn\\\"\\n\"}";
	struct fake_dom0 *f;
	struct json_object *resp, *res;
	_cleanup_free_ char *lv = NULL, *marker = NULL, *marker_src = NULL, *write = NULL;
	const char *msg;

	f = fake_dom0_start();
	resp = fcall(f, "storage.init", "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	resp = fcall(f, "guest.create", guest_args);
	lv = xstrdup(json_object_get_string(get(expect_ok(resp, f->next_id), "lv_path")));
	json_object_put(resp);
	resp = fcall(f, "guest.create", stubborn_args);
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	marker_src = xasprintf("%s/marker", f->dir);
	put_file(f->dir, "/marker", "kept\n");
	write = xasprintf("write %s /marker", marker_src);
	free(run_out((char *[]){ "debugfs", "-w", "-R", write, lv, NULL }));

	resp = fcall(f, "guests.shutdown", "{\"timeout_s\":5}");
	res = get(expect_ok(resp, f->next_id), "destroyed");
	cr_assert_eq(json_object_array_length(res), 1, "only the one that ignored it");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(res, 0)), "stubborn");
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl shutdown -a -w"), 1);
	cr_assert_eq(count_calls(f, "xl sysrq stubborn s"), 1);
	resp = fcall(f, "guest.list", "{}");
	cr_assert_eq(json_object_array_length(get(expect_ok(resp, f->next_id), "guests")), 1,
		     "Domain-0 alone");
	json_object_put(resp);

	resp = fcall(f, "guest.start", "{\"name\":\"web1\"}");
	res = expect_ok(resp, f->next_id);
	cr_assert(!json_object_get_boolean(get(res, "already")));
	cr_assert(strstr(json_object_get_string(get(res, "cfg")), "/etc/xen/xlab/web1.cfg"));
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "lvcreate -y -Wy -Zy -n web1 "), 1, "the LV is not made again");
	cr_assert_eq(count_calls(f, "vgchange -ay"), 1);
	cr_assert_eq(count_calls(f, "xl create -p "), 3);
	marker = run_out((char *[]){ "debugfs", "-R", "cat /marker", lv, NULL });
	cr_assert_str_eq(marker, "kept\n", "the filesystem is the one it had");
	resp = fcall(f, "guest.wait_console", "{\"name\":\"web1\",\"text\":\"XLAB-GUEST-UP web1\","
					      "\"timeout_s\":30}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	resp = fcall(f, "guest.start", "{\"name\":\"web1\"}");
	cr_assert(json_object_get_boolean(get(expect_ok(resp, f->next_id), "already")));
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl create -p "), 3, "a running guest is left alone");

	resp = fcall(f, "guest.start", "{\"name\":\"never\"}");
	msg = expect_err(resp, "enoent");
	cr_assert(strstr(msg, "never made here"), "%s", msg);
	json_object_put(resp);
	resp = fcall(f, "guests.shutdown", "{}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	fake_dom0_stop(f);
}

/* host.check of a leak-check: the lab accounts for guest g (its LVs
 * xlab/g and xlab/g-swap); anything else the dom0 shows is named. */
static struct json_object *leak_call(struct fake_dom0 *f)
{
	return fcall(f, "host.check",
		     "{\"action\":\"leak-check\",\"domains\":[\"g\"],\"vgs\":[\"xlab\"],"
		     "\"lvs\":[\"xlab/g\",\"xlab/g-swap\"],\"timeout_s\":10}");
}

/* The findings of a check that failed, one per leftover, each also a line
 * of its output (the caller puts resp). */
static struct json_object *check_fails(struct fake_dom0 *f, struct json_object *resp,
				       size_t n_findings)
{
	struct json_object *res = expect_ok(resp, f->next_id), *found = get(res, "findings");
	const char *out = json_object_get_string(get(res, "output"));

	cr_assert_not(json_object_get_boolean(get(res, "passed")), "%s", out);
	cr_assert_eq(json_object_array_length(found), n_findings, "%s", out);
	for (size_t i = 0; i < n_findings; i++)
		cr_assert(strstr(out, json_object_get_string(json_object_array_get_idx(found, i))),
			  "%s", out);
	return found;
}

static const char *finding(struct json_object *found, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(found, i));
}

/* osstest's leak check, in a dom0 of fake tools: a clean state passes and
 * says what it looked at; a leftover domain (with its LV), an LV alone, a
 * xenstore directory and backend of a domain that is gone each fail it,
 * named; a xenstore that cannot be read fails it too. */
Test(agent_fake_dom0, leak_check, .timeout = 90)
{
	static const char gone[] = "/local/domain/0/backend/vbd/9/51712/state = \"6\"\n"
				   "/local/domain/9 = \"\"\n/local/domain/9/name = \"gone\"\n";
	_cleanup_free_ char *more = NULL, *fail = NULL;
	struct fake_dom0 *f = fake_dom0_start();
	struct json_object *resp = fcall(f, "storage.init",
					 "{\"vg\":\"xlab\",\"data_serial\":\"xlab-data\"}");
	struct json_object *found;
	const char *out;

	expect_ok(resp, f->next_id);
	json_object_put(resp);
	guest_make(f, "g");

	/* Passed: a result like a guest check's round, with no findings. */
	resp = leak_call(f);
	out = round_passes(f, resp);
	cr_assert_eq(json_object_array_length(get(get(resp, "result"), "findings")), 0);
	cr_assert(!strncmp(out, "leak-check: passed, nothing found\n", 34), "%s", out);
	cr_assert(strstr(out, "  xl list: Domain-0 (id 0), g (id 1)\n"), "%s", out);
	cr_assert(strstr(out, "  LVs in VG xlab: xlab/g\n"), "%s", out);
	cr_assert(strstr(out, "  xenstore /local/domain: 0, 1\n"), "%s", out);
	cr_assert(strstr(out, "  backends in /local/domain/0/backend: vbd/1, vif/1\n"), "%s", out);
	cr_assert(strstr(out, "  accounted for: guests g; LVs xlab/g xlab/g-swap\n"), "%s", out);
	json_object_put(resp);

	/* A domain the lab does not have, with its LV. */
	guest_make(f, "stray");
	resp = leak_call(f);
	found = check_fails(f, resp, 2);
	cr_assert_str_eq(finding(found, 0),
			 "domain 'stray' (id 2) is not a guest of the lab on this host");
	cr_assert_str_eq(finding(found, 1), "LV xlab/stray is not a guest's");
	json_object_put(resp);
	resp = fcall(f, "guest.destroy", "{\"name\":\"stray\",\"vg\":\"xlab\",\"remove_lv\":true}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	/* An LV alone: a guest's that was not removed with it. */
	resp = fcall(f, "storage.lv_create",
		     "{\"vg\":\"xlab\",\"name\":\"old\",\"size_bytes\":67108864}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);
	resp = leak_call(f);
	found = check_fails(f, resp, 1);
	cr_assert_str_eq(finding(found, 0), "LV xlab/old is not a guest's");
	json_object_put(resp);
	resp = fcall(f, "storage.lv_remove", "{\"vg\":\"xlab\",\"name\":\"old\"}");
	expect_ok(resp, f->next_id);
	json_object_put(resp);

	/* What a domain that went away badly leaves in xenstore. */
	more = xasprintf("%s/xenstore_more", f->state);
	put_file(more, "", gone);
	resp = leak_call(f);
	found = check_fails(f, resp, 2);
	cr_assert_str_eq(finding(found, 0), "xenstore /local/domain/9 has no running domain");
	cr_assert_str_eq(finding(found, 1), "vbd backend for domain 9 has no running domain");
	json_object_put(resp);
	unlink(more);

	resp = leak_call(f);
	cr_assert(json_object_get_boolean(get(expect_ok(resp, f->next_id), "passed")));
	json_object_put(resp);

	/* A check that cannot look does not pass. */
	fail = xasprintf("%s/xenstore_fail", f->state);
	put_file(fail, "", "");
	resp = leak_call(f);
	found = check_fails(f, resp, 1);
	cr_assert(strstr(finding(found, 0), "xenstore-ls -f /local/domain failed (exit 1): "), "%s",
		  finding(found, 0));
	cr_assert(strstr(finding(found, 0), "Connection refused"), "%s", finding(found, 0));
	cr_assert(strstr(json_object_get_string(get(get(resp, "result"), "output")),
			 "  xenstore /local/domain: not read\n"));
	json_object_put(resp);
	unlink(fail);

	/* The controller's names are checked like every other op's. */
	resp = fcall(f, "host.check", "{\"action\":\"leak-check\",\"lvs\":[\"g\"]}");
	cr_assert(strstr(expect_err(resp, "einval"), "'g' is not a VG/LV name"));
	json_object_put(resp);
	resp = fcall(f, "host.check", "{\"action\":\"leak-check\",\"domains\":[\"../g\"]}");
	expect_err(resp, "einval");
	json_object_put(resp);
	resp = fcall(f, "host.check", "{\"action\":\"reboot\"}");
	cr_assert(strstr(expect_err(resp, "einval"), "no host action 'reboot'"));
	json_object_put(resp);
	fake_dom0_stop(f);
}

/* xen-dmesg-clean: a clean ring passes and says how much it read; a ring
 * in which Xen warned fails, carrying the offending line. */
Test(agent_fake_dom0, xen_dmesg_clean, .timeout = 90)
{
	static const char warned[] =
		"(XEN) Xen WARN at arch/x86/mm/p2m.c:2406\n"
		"(XEN) ----[ Xen-4.17.5  x86_64  debug=n  Not tainted ]----\n";
	struct fake_dom0 *f = fake_dom0_start();
	struct json_object *resp = fcall(f, "host.check", "{\"action\":\"xen-dmesg-clean\"}");
	const char *out = round_passes(f, resp);
	struct json_object *found;

	cr_assert(strstr(out, "checked: 5 lines of Xen's in xl dmesg, for \"Xen BUG at\", "
			      "\"Xen WARN at\", \"Assertion '...' failed at\""),
		  "%s", out);
	json_object_put(resp);
	cr_assert_eq(count_calls(f, "xl dmesg"), 1);

	put_file(f->state, "/dmesg_more", warned);
	resp = fcall(f, "host.check", "{\"action\":\"xen-dmesg-clean\"}");
	found = check_fails(f, resp, 1);
	cr_assert_str_eq(finding(found, 0), "(XEN) Xen WARN at arch/x86/mm/p2m.c:2406");
	cr_assert(strstr(json_object_get_string(get(get(resp, "result"), "output")),
			 "checked: 7 lines of Xen's"));
	json_object_put(resp);
	fake_dom0_stop(f);
}
