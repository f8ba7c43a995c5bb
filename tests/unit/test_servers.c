/* Servers (issue 23): the rules for names and URIs, the URI xlab opens for
 * an SSH server (its pin), the store's rows, what a server reports through
 * libvirt (test:///default), and which labs keep a server from removal. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "connuri.h"
#include "db.h"
#include "lab.h"
#include "serverspec.h"
#include "servers.h"
#include "util.h"
#include "virt.h"

Test(serverspec, names_are_dns_labels_and_not_local)
{
	static const char *const ok[] = { "box2", "b", "rack-3-node-12", "0a" };
	static const char *const bad[] = { "local", "Box2", "-b", "b-", "a.b", "a_b", "",
					   "b c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	struct xerr e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		cr_expect_eq(server_name_check(ok[i], &e), 0, "%s: %s", ok[i], e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		xerr_clear(&e);
		cr_expect_eq(server_name_check(bad[i], &e), -1, "'%s' accepted", bad[i]);
		cr_expect_eq(e.kind, XERR_USAGE, "%s", bad[i]);
	}
	server_name_check("local", &e);
	cr_expect(strstr(e.msg, "this machine"), "%s", e.msg);
}

Test(serverspec, uris_follow_the_hardening_rules_and_leave_pinning_to_xlab)
{
	static const char *const ok[] = {
		"qemu+ssh://root@10.99.0.2/system?keyfile=/var/lib/xlab-server2/client/id_ed25519",
		"qemu+ssh://box2/system", "qemu+libssh://root@box2:2222/system?sshauth=privkey",
		"qemu+tls://box2/system?pkipath=/etc/pki/xlab", "qemu:///system", "test:///default",
	};
	static const char *const bad[] = {
		/* run or reach programs here (the hardening issue's rules) */
		"qemu+ext:///system?command=/bin/true", "qemu+ssh://h/system?netcat=/tmp/nc",
		"qemu+ssh://-oProxyCommand=x/system", "qemu+unix:///system?socket=/tmp/s",
		/* xlab pins the host key: the URI must not choose another check */
		"qemu+ssh://h/system?known_hosts=/root/.ssh/known_hosts",
		"qemu+ssh://h/system?no_verify=1", "qemu+libssh://h/system?known_hosts_verify=ignore",
		"qemu+ssh://h/system?keyfile=/k&no_verify",
	};
	struct xerr e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		cr_expect_eq(server_uri_check(ok[i], &e), 0, "%s: %s", ok[i], e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		xerr_clear(&e);
		cr_expect_eq(server_uri_check(bad[i], &e), -1, "'%s' accepted", bad[i]);
		cr_expect_eq(e.kind, XERR_USAGE, "%s", bad[i]);
		cr_expect(strstr(e.msg, "refused"), "%s", e.msg);
	}
	/* known_hostsX is not known_hosts: a whole key is matched (and refused
	 * by the general rules anyway). */
	cr_expect_eq(server_uri_check("qemu+ssh://h/system?keyfile=/known_hosts", &e), 0, "%s",
		     e.msg);
}

Test(serverspec, ssh_servers_are_opened_through_libssh2_and_the_pin)
{
	_cleanup_free_ char *a = server_connect_uri("qemu+ssh://root@h/system?keyfile=/k",
						    "/s/servers/h/known_hosts", false);
	_cleanup_free_ char *b = server_connect_uri("qemu+ssh://h/system", "/kh", true);
	_cleanup_free_ char *c = server_connect_uri("qemu+tls://h/system", "/kh", false);
	_cleanup_free_ char *d = server_connect_uri("test:///default", "/kh", true);
	const char *why;

	cr_expect_str_eq(a, "qemu+libssh2://root@h/system?keyfile=/k&known_hosts="
			    "/s/servers/h/known_hosts&known_hosts_verify=normal");
	cr_expect_str_eq(b, "qemu+libssh2://h/system?known_hosts=/kh&known_hosts_verify=auto");
	cr_expect_str_eq(c, "qemu+tls://h/system");
	cr_expect_str_eq(d, "test:///default");
	/* What xlab opens passes the rules virt_open applies. */
	cr_expect(libvirt_uri_allowed(a, &why), "%s", why);
	cr_expect(server_uri_is_ssh("qemu+libssh://h/system"));
	cr_expect(server_uri_is_ssh("qemu+libssh2://h/system"));
	cr_expect_not(server_uri_is_ssh("qemu+tls://h/system"));
}

/* Where a lab on a server is reached through: the URI's login. */
Test(serverspec, ssh_login_of_a_uri)
{
	struct server_ssh a, b;
	struct xerr e = { 0 };

	cr_assert_eq(server_uri_ssh("qemu+ssh://root@10.99.0.2/system?keyfile=/k/id&sshauth=privkey",
				    &a, &e), 0, "%s", e.msg);
	cr_expect_str_eq(a.user, "root");
	cr_expect_str_eq(a.host, "10.99.0.2");
	cr_expect_eq(a.port, 22);
	cr_expect_str_eq(a.keyfile, "/k/id");
	server_ssh_free(&a);
	cr_assert_eq(server_uri_ssh("qemu+libssh2://box2:2222/system", &b, &e), 0, "%s", e.msg);
	cr_expect_null(b.user);
	cr_expect_str_eq(b.host, "box2");
	cr_expect_eq(b.port, 2222);
	cr_expect_null(b.keyfile);
	server_ssh_free(&b);
	cr_expect_eq(server_uri_ssh("qemu+tls://box2/system", &b, &e), -1);
	cr_expect_eq(server_uri_ssh("qemu+ssh://box2:0/system", &b, &e), -1);
	cr_expect_eq(server_uri_ssh("qemu+ssh://root@/system", &b, &e), -1);
	cr_expect_eq(server_uri_ssh("qemu+ssh://box2:70000/system", &b, &e), -1);
	/* As libvirt reads them: escapes undone, an IPv6 host without its
	 * brackets, the port after them. */
	cr_assert_eq(server_uri_ssh("qemu+ssh://te%73t@[fd00::2]:2201/system?sshauth=privkey&"
				    "keyfile=%2Froot%2Fmy%20keys%2Fid", &a, &e), 0, "%s", e.msg);
	cr_expect_str_eq(a.user, "test");
	cr_expect_str_eq(a.host, "fd00::2");
	cr_expect_eq(a.port, 2201);
	cr_expect_str_eq(a.keyfile, "/root/my keys/id");
	server_ssh_free(&a);
	cr_assert_eq(server_uri_ssh("qemu+ssh://[fd00::2]/system", &a, &e), 0, "%s", e.msg);
	cr_expect_str_eq(a.host, "fd00::2");
	cr_expect_eq(a.port, 22);
	server_ssh_free(&a);
}

static char dir[] = "/tmp/xlab-test-servers-XXXXXX";
static struct db *db;

static void db_setup(void)
{
	_cleanup_free_ char *path = NULL;
	struct xerr e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	path = xasprintf("%s/xlab.db", dir);
	cr_assert_eq(db_open(path, &db, &e), 0, "%s", e.msg);
}

static void db_teardown(void)
{
	struct xerr e = { 0 };

	db_close(db);
	rm_rf(dir, &e);
}

TestSuite(server_rows, .init = db_setup, .fini = db_teardown);

Test(server_rows, add_list_get_delete)
{
	struct db_server *v = NULL, *one = NULL;
	struct xerr e = { 0 };
	size_t n = 0;

	cr_assert_eq(db_server_add(db, "zeta", "test:///default", &e), 0, "%s", e.msg);
	cr_assert_eq(db_server_add(db, "box2", "qemu+ssh://root@10.99.0.2/system", &e), 0, "%s",
		     e.msg);
	cr_assert_eq(db_servers_list(db, &v, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(v[0].name, "box2"); /* by name */
	cr_expect_str_eq(v[0].uri, "qemu+ssh://root@10.99.0.2/system");
	cr_expect_not_null(v[0].added);
	cr_expect_str_eq(v[1].name, "zeta");
	db_servers_free(v, n);

	cr_assert_eq(db_server_get(db, "box2", &one, &e), 1, "%s", e.msg);
	cr_expect_str_eq(one->uri, "qemu+ssh://root@10.99.0.2/system");
	db_servers_free(one, 1);
	cr_assert_eq(db_server_get(db, "nope", &one, &e), 0, "%s", e.msg);
	cr_expect_null(one);

	cr_expect_eq(db_server_delete(db, "box2", &e), 1, "%s", e.msg);
	cr_expect_eq(db_server_delete(db, "box2", &e), 0, "%s", e.msg);
	cr_assert_eq(db_servers_list(db, &v, &n, &e), 0, "%s", e.msg);
	cr_expect_eq(n, 1);
	db_servers_free(v, n);
}

Test(server_rows, a_name_twice_is_a_conflict)
{
	struct xerr e = { 0 };

	cr_assert_eq(db_server_add(db, "box2", "test:///default", &e), 0, "%s", e.msg);
	cr_assert_eq(db_server_add(db, "box2", "qemu:///system", &e), -1);
	cr_expect_eq(e.kind, XERR_CONFLICT);
	cr_expect(strstr(e.msg, "'box2' is already in the store"), "%s", e.msg);
}

/* A lab is on the server its `up` recorded in its directory, else on local;
 * a lab that is down uses none. */
Test(server_rows, users_of_a_server)
{
	_cleanup_free_ char *pub = xasprintf("%s/kh.pub", dir);
	struct lab_via via = { .addr = "10.99.0.2", .user = "root", .port = 22, .key = "/k",
			       .host_pub = pub };
	struct lab_dirs d;
	char **labs = NULL;
	struct xerr e = { 0 };

	setenv("XLAB_HOME", dir, 1);
	cr_assert_eq(file_write_atomic(pub, "ssh-ed25519 AAAA\n", 17, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "a", "/a.yaml", "x", "10.90.1.0/24", "up", &e), 0);
	cr_assert_eq(db_lab_upsert(db, "b", "/b.yaml", "x", "10.90.2.0/24", "down", &e), 0);
	cr_assert_eq(db_lab_upsert(db, "c", "/c.yaml", "x", "10.90.3.0/24", "stopped", &e), 0);
	cr_assert_eq(db_lab_upsert(db, "d", "/d.yaml", "x", "10.90.4.0/24", "up", &e), 0);
	cr_assert_eq(lab_dirs_get("c", &d, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_server_record(&d, "box2", &via, &e), 0, "%s", e.msg);
	lab_dirs_free(&d);
	/* What was recorded is what a later command reads. */
	cr_assert_eq(lab_dirs_get("c", &d, &e), 0, "%s", e.msg);
	cr_expect_str_eq(d.server, "box2");
	cr_expect_str_eq(d.via.addr, "10.99.0.2");
	cr_expect_eq(d.via.port, 22);
	cr_expect_str_eq(d.via.key, "/k");
	lab_dirs_free(&d);
	/* Recorded, then dropped (brought up here again). */
	cr_assert_eq(lab_dirs_get("d", &d, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_server_record(&d, "box2", &via, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_server_record(&d, NULL, NULL, &e), 0, "%s", e.msg);
	lab_dirs_free(&d);

	cr_assert_eq(server_users(db, SERVER_LOCAL, &labs, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(labs), 2);
	cr_expect_str_eq(labs[0], "a");
	cr_expect_str_eq(labs[1], "d");
	strv_free(labs);
	cr_assert_eq(server_users(db, "box2", &labs, &e), 0, "%s", e.msg);
	cr_assert_eq(strv_len(labs), 1);
	cr_expect_str_eq(labs[0], "c");
	strv_free(labs);
}

/* A lab across servers: each host's server as `up` recorded it, the lab's
 * own first among its servers; server rm sees every one of them in use. */
Test(server_rows, a_lab_across_servers)
{
	const char *hosts[] = { "h1", "h2", "h3" };
	const char *servers[] = { NULL, "box2", "box3" };
	_cleanup_free_ char *path = NULL;
	_cleanup_strv_ char **all = NULL;
	struct lab_dirs d;
	char **labs = NULL;
	struct xerr e = { 0 };

	setenv("XLAB_HOME", dir, 1);
	cr_assert_eq(db_lab_upsert(db, "x", "/x.yaml", "x", "10.90.5.0/24", "up", &e), 0);
	cr_assert_eq(lab_dirs_get("x", &d, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_placement_record(&d, hosts, servers, 3, &e), 0, "%s", e.msg);
	lab_dirs_free(&d);
	cr_assert_eq(lab_dirs_get("x", &d, &e), 0, "%s", e.msg);
	cr_expect_null(lab_host_server(&d, "h1"));
	cr_expect_str_eq(lab_host_server(&d, "h2"), "box2");
	cr_expect_str_eq(lab_host_server(&d, "h3"), "box3");
	/* A host the record does not name is on the lab's own server. */
	cr_expect_null(lab_host_server(&d, "h9"));
	all = lab_servers(&d);
	cr_assert_eq(strv_len(all), 3);
	cr_expect_str_eq(all[0], "local");
	cr_expect_str_eq(all[1], "box2");
	cr_expect_str_eq(all[2], "box3");
	lab_dirs_free(&d);
	for (const char *const *s = (const char *const[]){ "local", "box2", "box3", NULL }; *s; s++) {
		cr_assert_eq(server_users(db, *s, &labs, &e), 0, "%s", e.msg);
		cr_expect(strv_has((const char *const *)labs, "x"), "%s", *s);
		strv_free(labs);
	}
	/* A record that is not "HOST SERVER" lines is refused, saying where. */
	path = xasprintf("%s/labs/x/placement", dir);
	cr_assert_eq(file_write_atomic(path, "h1\n", 3, 0644, &e), 0, "%s", e.msg);
	cr_expect_eq(lab_dirs_get("x", &d, &e), -1);
	cr_expect(strstr(e.msg, "placement: 'h1' is not"), "%s", e.msg);
	lab_dirs_free(&d);
	/* Removed: every host on the lab's own server again. */
	xerr_clear(&e);
	cr_assert_eq(file_write_atomic(path, "h1 local\n", 9, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_dirs_get("x", &d, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_placement_record(&d, NULL, NULL, 0, &e), 0, "%s", e.msg);
	lab_dirs_free(&d);
	cr_assert_eq(lab_dirs_get("x", &d, &e), 0, "%s", e.msg);
	cr_expect_null(d.placement);
	lab_dirs_free(&d);
}

/* libvirt's test driver: a node of 16 CPUs and 3 GiB, no pool named xlab or
 * default (its own is "default-pool"), libvirt's own versions. */
Test(server_capacity, from_libvirt)
{
	static const char *const pools[] = { "xlab", "default-pool", NULL };
	static const char *const none[] = { "xlab", "default", NULL };
	struct virt_capacity c;
	struct virt *v = NULL;
	struct xerr e = { 0 };
	char ver[32];

	cr_assert_eq(virt_open("test:///default", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(virt_node_capacity(v, pools, &c, &e), 0, "%s", e.msg);
	cr_expect_eq(c.cpus, 16);
	cr_expect_eq(c.memory_bytes, 3ULL << 30);
	cr_expect_gt(c.free_memory_bytes, 0);
	cr_expect_str_eq(c.hv_type, "TEST");
	cr_expect_gt(c.libvirt_version, 0);
	cr_expect_str_eq(c.pool, "default-pool");
	cr_expect_gt(c.pool_capacity, 0);
	cr_expect_leq(c.pool_available, c.pool_capacity);
	virt_capacity_free(&c);

	cr_assert_eq(virt_node_capacity(v, none, &c, &e), 0, "%s", e.msg);
	cr_expect_null(c.pool);
	virt_capacity_free(&c);
	virt_close(v);

	virt_version_format(9000000, ver);
	cr_expect_str_eq(ver, "9.0.0");
	virt_version_format(7002022, ver);
	cr_expect_str_eq(ver, "7.2.22");
	virt_version_format(0, ver);
	cr_expect_str_eq(ver, "?");
}
