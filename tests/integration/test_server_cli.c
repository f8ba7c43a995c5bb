/* `xlab server` through the real binary, a real sqlite store (XLAB_HOME)
 * and libvirt's test driver as both local and a second server: add, list
 * with the driver's capacity figures, rm, and every refusal with its reason.
 * The same over SSH against a real second libvirtd is tests/e2e/servers.sh. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clirun.h"
#include "db.h"
#include "util.h"

static char home[] = "/tmp/xlab-server-cli-XXXXXX";
static char *home_env;

static void setup(void)
{
	cr_assert(mkdtemp(home));
	home_env = xasprintf("XLAB_HOME=%s", home);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(home_env);
}

#define xlab(out, err, ...)                                                                 \
	cli_run((char *[]){ home_env, "XLAB_CONNECT=test:///default", NULL }, out, err,    \
		__VA_ARGS__)

TestSuite(server_cli, .init = setup, .fini = teardown);

static struct json_object *list_json(void)
{
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct json_object *j;

	cr_assert_eq(xlab(&out, &err, "server", "list", "--json", NULL), 0, "%s", err);
	j = json_tokener_parse(out);
	cr_assert_not_null(j, "%s", out);
	return j;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
		  json_object_to_json_string(o));
	return v;
}

Test(server_cli, add_list_rm)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/servers/t2", home);
	struct json_object *j, *t2, *local;

	cr_assert_eq(xlab(&o1, &e1, "server", "add", "t2", "test:///default", NULL), 0, "%s", e1);
	cr_expect(strstr(o1, "server t2 added: test:///default"), "%s", o1);
	cr_expect_null(strstr(o1, "pinned"), "no SSH, no key: %s", o1);

	j = list_json();
	cr_assert_eq(json_object_array_length(j), 2);
	local = json_object_array_get_idx(j, 0);
	t2 = json_object_array_get_idx(j, 1);
	cr_expect_str_eq(json_object_get_string(get(local, "name")), "local");
	cr_expect_str_eq(json_object_get_string(get(local, "uri")), "test:///default");
	cr_expect(json_object_get_boolean(get(local, "local")));
	/* local measures the image store's directory when it has no pool */
	cr_expect_str_eq(json_object_get_string(get(get(local, "disk"), "source")), "directory");
	cr_expect_str_eq(json_object_get_string(get(t2, "name")), "t2");
	cr_expect(json_object_get_boolean(get(t2, "reachable")));
	cr_expect_eq(json_object_get_int(get(t2, "cpus")), 16); /* the test driver's node */
	cr_expect_eq(json_object_get_int64(get(t2, "memory_bytes")), 3LL << 30);
	cr_expect_gt(json_object_get_int64(get(t2, "free_memory_bytes")), 0);
	cr_expect_str_eq(json_object_get_string(get(t2, "hypervisor")), "TEST");
	cr_expect_null(get(t2, "disk")); /* no pool xlab or default there */
	cr_expect_str_neq(json_object_get_string(get(t2, "libvirt_version")), "?");
	cr_expect_not_null(get(t2, "added"));
	json_object_put(j);

	cr_assert_eq(xlab(&o2, &e2, "server", "list", NULL), 0, "%s", e2);
	cr_expect(strstr(o2, "NAME "), "%s", o2);
	cr_expect(strstr(o2, "\nt2 "), "%s", o2);
	cr_expect(strstr(o2, "TEST 0.0.2") || strstr(o2, "TEST "), "%s", o2);

	cr_assert_eq(xlab(&o3, &e3, "server", "rm", "t2", NULL), 0, "%s", e3);
	cr_expect(strstr(o3, "server t2 removed"), "%s", o3);
	cr_expect_not(path_exists(dir));
	j = list_json();
	cr_expect_eq(json_object_array_length(j), 1);
	json_object_put(j);
}

Test(server_cli, refusals_say_why)
{
	static const struct {
		const char *argv[4];
		int status;
		const char *says;
	} cases[] = {
		{ { "add", "Box2", "test:///default" }, 2, "not a DNS label" },
		{ { "add", "local", "test:///default" }, 2, "'local' is this machine" },
		{ { "add", "t3", "qemu+ext:///system?command=/bin/true" }, 2, "is refused" },
		{ { "add", "t3", "qemu+ssh://h/system?known_hosts=/x" }, 2,
		  "pins the server's SSH host key" },
		{ { "add", "t3", "qemu+ssh://h/system?no_verify=1" }, 2, "drop no_verify=" },
		{ { "add", "t3", "test:///nonexistent/lab.xml" }, 1, "could not be reached" },
		{ { "add", "t3" }, 2, "expected a name and a libvirt URI" },
		{ { "rm", "local" }, 2, "cannot be removed" },
		{ { "rm", "nope" }, 1, "no server 'nope'" },
		{ { "frob" }, 2, "unknown subcommand" },
	};
	_cleanup_free_ char *o0 = NULL, *e0 = NULL, *od = NULL, *ed = NULL;

	cr_assert_eq(xlab(&o0, &e0, "server", "add", "t2", "test:///default", NULL), 0, "%s", e0);
	cr_expect_eq(xlab(&od, &ed, "server", "add", "t2", "qemu:///system", NULL), 1);
	cr_expect(strstr(ed, "a server named 't2' is already in the store (test:///default)"),
		  "%s", ed);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *out = NULL, *err = NULL;
		int st = xlab(&out, &err, "server", (char *)cases[i].argv[0],
			      (char *)cases[i].argv[1], (char *)cases[i].argv[2], NULL);

		cr_expect_eq(st, cases[i].status, "server %s %s: %d: %s", cases[i].argv[0],
			     cases[i].argv[1], st, err);
		cr_expect(strstr(err, cases[i].says), "server %s %s: %s", cases[i].argv[0],
			  cases[i].argv[1], err);
	}
	/* Nothing of a refused add is kept. */
	{
		_cleanup_free_ char *t3 = xasprintf("%s/servers/t3", home);
		struct json_object *j = list_json();

		cr_expect_not(path_exists(t3));
		cr_expect_eq(json_object_array_length(j), 2);
		json_object_put(j);
	}
}

/* A server that stops answering is listed as unreachable with libvirt's
 * message; the others are still measured and the listing succeeds. */
Test(server_cli, an_unreachable_server_is_listed_not_fatal)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct json_object *j, *gone;
	struct db *db = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_server_add(db, "gone", "test:///nonexistent/lab.xml", &e), 0, "%s",
		     e.msg);
	db_close(db);
	j = list_json();
	gone = json_object_array_get_idx(j, 1);
	cr_expect_str_eq(json_object_get_string(get(gone, "name")), "gone");
	cr_expect_not(json_object_get_boolean(get(gone, "reachable")));
	cr_expect(strstr(json_object_get_string(get(gone, "error")), "nonexistent"), "%s",
		  json_object_get_string(get(gone, "error")));
	cr_expect(json_object_get_boolean(get(json_object_array_get_idx(j, 0), "reachable")));
	json_object_put(j);
	cr_assert_eq(xlab(&out, &err, "server", "list", NULL), 0, "%s", err);
	cr_expect(strstr(out, "gone: unreachable: "), "%s", out);
}

/* What `image push` refuses before anything is sent, each with its reason
 * (the pushes themselves, over SSH to a real libvirtd: tests/e2e/servers.sh). */
Test(server_cli, image_push_refusals)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL, *o4 = NULL, *e4 = NULL;

	cr_expect_eq(xlab(&o1, &e1, "image", "push", "xen-4.20", NULL), 2, "%s", e1);
	cr_expect(strstr(e1, "expected an image and a server"), "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "image", "push", "xen-4.20", "local", NULL), 2, "%s", e2);
	cr_expect(strstr(e2, "runs labs from the image store"), "%s", e2);
	cr_expect_eq(xlab(&o3, &e3, "image", "push", "xen-4.20", "Box_2", NULL), 2, "%s", e3);
	cr_expect(strstr(e3, "not a DNS label"), "%s", e3);
	/* The image is looked at before any server: none here. */
	cr_expect_eq(xlab(&o4, &e4, "image", "push", "nosuch", "box2", NULL), 1, "%s", e4);
	cr_expect(strstr(e4, "nosuch"), "%s", e4);
}

/* A class or a matrix of a spec that names a server is refused before
 * anything is made: they place copies and cells themselves (--servers);
 * so is a --servers list with a server the store has not. */
Test(server_cli, class_and_matrix_place_themselves)
{
	_cleanup_free_ char *spec = xasprintf("%s/c.yaml", home);
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
	struct xerr e = { 0 };
	static const char text[] = "lab: c1\nxen: \"4.20\"\nserver: box2\nclass: {copies: 2}\n"
				   "hosts:\n  - name: h1\n";

	cr_assert_eq(file_write_atomic(spec, text, strlen(text), 0644, &e), 0, "%s", e.msg);
	cr_expect_eq(xlab(&o1, &e1, "class", "up", spec, NULL), 2, "%s", e1);
	cr_expect(strstr(e1, "a class places its copies itself (`class up --servers local,box2`)"),
		  "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "matrix", spec, "--xen", "4.20", NULL), 2, "%s", e2);
	cr_expect(strstr(e2, "a matrix places its cells itself (`matrix --servers local,box2`)"),
		  "%s", e2);
}

Test(server_cli, servers_lists_are_checked_first)
{
	_cleanup_free_ char *spec = xasprintf("%s/s.yaml", home);
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
	struct xerr e = { 0 };
	static const char text[] = "lab: s1\nxen: \"4.20\"\nclass: {copies: 2}\n"
				   "hosts:\n  - name: h1\n";

	cr_assert_eq(file_write_atomic(spec, text, strlen(text), 0644, &e), 0, "%s", e.msg);
	cr_expect_eq(xlab(&o1, &e1, "plan", spec, "--servers", "local,local", NULL), 2, "%s", e1);
	cr_expect(strstr(e1, "--servers names 'local' twice"), "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "class", "up", spec, "--servers", "Bad_Name", NULL), 2, "%s",
		     e2);
	cr_expect(strstr(e2, "not a DNS label"), "%s", e2);
	cr_expect_eq(xlab(&o3, &e3, "up", spec, "--server", "box2", "--servers", "local", NULL),
		     2, "%s", e3);
	cr_expect(strstr(e3, "--server and --servers: one or the other"), "%s", e3);
}
