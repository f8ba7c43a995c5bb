/* The spec parser and validator: the reference spec read to the byte, every
 * invalid spec of tests/data/specs/invalid refused at the LINE:COL its
 * `# expect:` lines name, and the limits around sizes and files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "connuri.h"
#include "spec.h"
#include "util.h"

static char *data_path(const char *rel)
{
	const char *src = getenv("XLAB_SOURCE_DIR");

	return xasprintf("%s/%s", src ? src : ".", rel);
}

/* "msg; hint" as spec_diags_print writes it, for substring matches. */
static char *diag_text(const struct spec_diag *d)
{
	return d->hint ? xasprintf("%s; %s", d->msg, d->hint) : xstrdup(d->msg);
}

static int load_str(const char *yaml, struct spec **s, struct spec_diags *d, struct xerr *e)
{
	return spec_load_buffer("t.yaml", yaml, strlen(yaml), s, d, e);
}

static bool has_diag(const struct spec_diags *d, int line, int col, const char *sub)
{
	for (size_t i = 0; i < d->n; i++) {
		_cleanup_free_ char *t = diag_text(&d->v[i]);

		if (d->v[i].pos.line == line && d->v[i].pos.col == col && strstr(t, sub))
			return true;
	}
	return false;
}

Test(spec, reference)
{
	_cleanup_free_ char *path = data_path("examples/reference.yaml");
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	char sha[65];
	const struct spec_host *h1, *h2;
	const struct spec_guest *web1, *db1;

	cr_assert_eq(spec_load(path, &s, &d, &e), 0, "%s", e.msg);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(sha256_file_hex(path, sha, &e), 0);
	cr_assert_str_eq(s->sha256, sha);
	cr_assert_str_eq(s->path, path);
	cr_assert_str_eq(s->lab, "demo");
	cr_assert_eq(s->lab_pos.line, 1);
	cr_assert_eq(s->lab_pos.col, 6);
	cr_assert_str_eq(s->xen, "4.17");
	cr_assert_null(s->libvirt_uri);
	cr_assert_str_eq(s->subnet, "10.80.0.0/24");
	cr_assert_eq(s->net_addr, 0x0a500000u);
	cr_assert_eq(s->net_prefix, 24);
	cr_assert_str_eq(s->vg, "xlab");

	cr_assert_eq(s->n_hosts, 2);
	h1 = spec_find_host(s, "h1");
	h2 = spec_find_host(s, "h2");
	cr_assert(h1 && h2);
	cr_assert_eq(h1->memory, 2ull << 30);
	cr_assert_eq(h1->vcpus, 2);
	cr_assert_eq(h1->dom0_mem, 1ull << 30);
	cr_assert_eq(h1->data_disk, 8ull << 30);
	cr_assert_eq(h1->n_disks, 0);
	cr_assert_null(h1->ip);
	cr_assert_eq(h1->pos.line, 9);
	cr_assert_eq(h2->memory, 3ull << 30);
	cr_assert_eq(h2->memory_pos.line, 11);
	cr_assert_eq(h2->dom0_mem, 1ull << 30);
	cr_assert_eq(h2->n_disks, 1);
	cr_assert_eq(h2->disks[0], 4ull << 30);
	cr_assert_null(spec_find_host(s, "web1"));

	cr_assert_eq(s->n_guests, 2);
	web1 = spec_find_guest(s, "web1");
	db1 = spec_find_guest(s, "db1");
	cr_assert(web1 && db1);
	cr_assert_str_eq(web1->host, "h1");
	cr_assert_eq(web1->memory, 128ull << 20);
	cr_assert_eq(web1->disk, 256ull << 20);
	cr_assert_eq(web1->vcpus, 1);
	cr_assert_str_eq(web1->rootfs, "busybox");
	cr_assert_null(web1->ip);
	cr_assert_eq(web1->n_xl, 0);
	cr_assert_str_eq(db1->host, "h2");
	cr_assert_eq(db1->memory, 256ull << 20);
	cr_assert_eq(db1->disk, 1ull << 30);
	cr_assert_str_eq(db1->ip, "10.80.0.60");
	cr_assert_eq(db1->ip_pos.line, 22);
	cr_assert_eq(db1->ip_pos.col, 9);
	cr_assert_eq(db1->n_xl, 1);
	cr_assert_str_eq(db1->xl[0].key, "on_crash");
	cr_assert_str_eq(db1->xl[0].value, "\"preserve\"");
	cr_assert_null(spec_find_guest(s, "h1"));

	cr_assert_eq(s->n_tests, 2);
	cr_assert_str_eq(s->tests[0].name, "web1-console");
	cr_assert_str_eq(s->tests[0].guest, "web1");
	cr_assert_null(s->tests[0].host);
	cr_assert_str_eq(s->tests[0].expect_console, "XLAB-GUEST-UP");
	cr_assert_null(s->tests[0].run);
	cr_assert_eq(s->tests[0].timeout_s, 120);
	cr_assert_str_eq(s->tests[1].name, "h1-sees-h2");
	cr_assert_str_eq(s->tests[1].host, "h1");
	cr_assert_eq(strv_len(s->tests[1].run), 4);
	cr_assert_str_eq(s->tests[1].run[0], "ping");
	cr_assert_str_eq(s->tests[1].run[1], "-c");
	cr_assert_str_eq(s->tests[1].run[2], "1");
	cr_assert_str_eq(s->tests[1].run[3], "h2");
	cr_assert_null(s->tests[1].run[4]);
	spec_free(s);
	spec_diags_free(&d);
}

/* osstest's guest checks as a test's action: which, and how many times (1
 * unless said); its host checks as the action of a test on a host, told
 * apart from guest actions and commands, with a timeout but no repeat. */
Test(spec, guest_and_host_actions)
{
	static const char yaml[] = "lab: t\nxen: \"4.17\"\nhosts: [{name: h1}]\n"
				   "guests: [{name: g1, host: h1}]\ntests:\n"
				   "  - {name: sr, guest: g1, action: save-restore}\n"
				   "  - {name: lm, guest: g1, action: local-migrate, repeat: 10}\n"
				   "  - {name: leaks, host: h1, action: leak-check}\n"
				   "  - {name: dmesg, host: h1, action: xen-dmesg-clean, timeout_s: 30}\n"
				   "  - {name: ls, host: h1, run: [xl, list]}\n";
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(load_str(yaml, &s, &d, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s->tests[0].action, "save-restore");
	cr_assert_eq(s->tests[0].repeat, 1);
	cr_assert_null(s->tests[0].expect_console);
	cr_assert_not(spec_test_is_host_check(&s->tests[0]), "a guest action");
	cr_assert_str_eq(s->tests[1].action, "local-migrate");
	cr_assert_eq(s->tests[1].repeat, 10);
	cr_assert_str_eq(s->tests[2].action, "leak-check");
	cr_assert_str_eq(s->tests[2].host, "h1");
	cr_assert_null(s->tests[2].run);
	cr_assert(spec_test_is_host_check(&s->tests[2]));
	cr_assert_str_eq(s->tests[3].action, "xen-dmesg-clean");
	cr_assert_eq(s->tests[3].timeout_s, 30);
	cr_assert(spec_test_is_host_check(&s->tests[3]));
	cr_assert_not(spec_test_is_host_check(&s->tests[4]), "a command");
	spec_free(s);
	spec_diags_free(&d);
}

/* Each action goes with its kind of target: the message says which, and
 * what the other kind has; repeat is for guest actions only. */
Test(spec, actions_go_with_their_target)
{
	static const char head[] = "lab: t\nxen: \"4.17\"\nhosts: [{name: h1}]\n"
				   "guests: [{name: g1, host: h1}]\ntests:\n";
	static const struct {
		const char *test, *diag;
	} bad[] = {
		{ "{name: t, guest: g1, action: xen-dmesg-clean}",
		  "test 't': 'xen-dmesg-clean' checks a whole host: use it with 'host', not "
		  "'guest'; on a guest the actions are save-restore, local-migrate and stop-start" },
		{ "{name: t, host: h1, action: stop-start}",
		  "test 't': 'stop-start' is a guest action: use it with 'guest', not 'host'; on a "
		  "host the actions are leak-check and xen-dmesg-clean" },
		{ "{name: t, host: h1, action: leak-check, repeat: 3}",
		  "'repeat' repeats a guest action; host action 'leak-check' runs once, after the "
		  "run's other tests" },
		{ "{name: t, host: h1, run: [ls], action: leak-check}",
		  "test 't' has both 'run' and 'action'; make them two tests" },
		{ "{name: t, host: h1}",
		  "test 't' on host 'h1' needs 'run' or 'action'; the host actions are leak-check "
		  "and xen-dmesg-clean" },
		{ "{name: t, host: h1, run: [ls], repeat: 2}",
		  "'repeat' repeats an 'action'; test 't' has none" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *yaml = xasprintf("%s  - %s\n", head, bad[i].test);
		_cleanup_free_ char *got = NULL;
		struct spec *s = NULL;
		struct spec_diags d = { 0 };
		struct xerr e = { 0 };

		cr_assert_eq(load_str(yaml, &s, &d, &e), -1, "%s: accepted", bad[i].test);
		cr_assert_eq(d.n, 1, "%s: %zu diags", bad[i].test, d.n);
		got = diag_text(&d.v[0]);
		cr_assert_str_eq(got, bad[i].diag, "%s", bad[i].test);
		spec_diags_free(&d);
	}
}

/* Reads the `# expect: LINE:COL substring` lines at the top of a file. */
static size_t read_expects(const char *data, int lines[8], int cols[8], char subs[8][256])
{
	size_t n = 0;
	const char *p = data;

	while (n < 8 && !strncmp(p, "# expect: ", 10)) {
		const char *eol = strchr(p, '\n');
		int used = 0;

		cr_assert(eol, "expect line without newline");
		cr_assert_eq(sscanf(p + 10, "%d:%d %n", &lines[n], &cols[n], &used), 2);
		snprintf(subs[n], 256, "%.*s", (int)(eol - (p + 10 + used)), p + 10 + used);
		n++;
		p = eol + 1;
	}
	return n;
}

static void check_invalid(const char *dir, const char *file, size_t *failures)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_free_ char *data = NULL;
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	int lines[8], cols[8];
	char subs[8][256];
	size_t len, n;

	cr_assert_eq(file_read_all(path, 0, &data, &len, &e), 0, "%s", e.msg);
	n = read_expects(data, lines, cols, subs);
	cr_expect_gt(n, 0, "%s: no '# expect:' line", file);
	cr_expect_eq(spec_load(path, &s, &d, &e), -1, "%s: accepted", file);
	cr_expect_null(s);
	cr_expect_eq(e.kind, XERR_USAGE, "%s: code %d", file, e.kind);
	cr_expect_gt(d.n, 0, "%s: no diags", file);
	for (size_t i = 0; i < n; i++)
		if (!has_diag(&d, lines[i], cols[i], subs[i])) {
			cr_log_error("%s: expected %d:%d '%s'; got:", file, lines[i], cols[i], subs[i]);
			spec_diags_print(&d, stderr);
			(*failures)++;
		}
	spec_diags_free(&d);
}

static int yaml_only(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 5 && !strcmp(de->d_name + n - 5, ".yaml");
}

Test(spec, invalid_corpus)
{
	_cleanup_free_ char *dir = data_path("tests/data/specs/invalid");
	struct dirent **list = NULL;
	size_t failures = 0;
	int n = scandir(dir, &list, yaml_only, alphasort);

	cr_assert_geq(n, 40, "only %d invalid specs in %s", n, dir);
	for (int i = 0; i < n; i++) {
		check_invalid(dir, list[i]->d_name, &failures);
		free(list[i]);
	}
	free(list);
	cr_assert_eq(failures, 0, "%zu expected diags missing", failures);
}

Test(spec, valid_corpus)
{
	_cleanup_free_ char *dir = data_path("tests/data/specs/valid");
	struct dirent **list = NULL;
	int n = scandir(dir, &list, yaml_only, alphasort);

	cr_assert_geq(n, 3);
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, list[i]->d_name);
		struct spec *s = NULL;
		struct spec_diags d = { 0 };
		struct xerr e = { 0 };

		if (spec_load(path, &s, &d, &e) < 0)
			spec_diags_print(&d, stderr);
		cr_expect_not_null(s, "%s refused: %s", list[i]->d_name, e.msg);
		cr_expect_eq(d.n, 0);
		spec_free(s);
		spec_diags_free(&d);
		free(list[i]);
	}
	free(list);
}

Test(spec, full_values)
{
	_cleanup_free_ char *path = data_path("tests/data/specs/valid/full.yaml");
	struct spec *s = NULL;
	struct xerr e = { 0 };
	const struct spec_guest *g2, *g3;
	const struct spec_host *h1, *h2;

	cr_assert_eq(spec_load(path, &s, NULL, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s->xen, "4.18");
	cr_assert_str_eq(s->libvirt_uri, "qemu:///system");
	cr_assert_str_eq(s->vg, "xlab_vg.1");
	cr_assert_eq(s->net_prefix, 16);
	h1 = spec_find_host(s, "h1");
	h2 = spec_find_host(s, "h2");
	/* defaults.host applies where a host says nothing */
	cr_assert_eq(h1->memory, 4ull << 30);
	cr_assert_eq(h1->vcpus, 4);
	cr_assert_eq(h1->dom0_mem, 1536ull << 20);
	cr_assert_eq(h1->data_disk, 16ull << 30);
	cr_assert_eq(h1->memory_pos.line, 0, "inherited values carry no position");
	cr_assert_eq(h2->memory, 8ull << 30);
	cr_assert_eq(h2->vcpus, 64);
	cr_assert_eq(h2->n_disks, 2);
	cr_assert_str_eq(h2->ip, "10.81.255.254");
	g2 = spec_find_guest(s, "g2");
	g3 = spec_find_guest(s, "0g3");
	cr_assert_eq(g3->memory, 64ull << 20);
	cr_assert_eq(g3->vcpus, 2);
	cr_assert_eq(g3->disk, 128ull << 20);
	cr_assert_str_eq(g3->rootfs, "/srv/rootfs/alpine.tar.gz");
	cr_assert_str_eq(g2->rootfs, "busybox");
	cr_assert_eq(g2->n_xl, 5);
	cr_assert_str_eq(g2->xl[0].value, "\"preserve\"");
	cr_assert_str_eq(g2->xl[1].value, "\"0-1\"");
	cr_assert_str_eq(g2->xl[2].key, "maxvcpus");
	cr_assert_str_eq(g2->xl[2].value, "4");
	cr_assert_str_eq(g2->xl[3].value, "\"say \\\"hi\\\"\\tnow\\\\\"");
	cr_assert_str_eq(g2->xl[4].key, "cpus_soft");
	cr_assert_str_eq(g2->xl[4].value, "[ \"0-1\", \"2\" ]");
	cr_assert_eq(s->tests[0].timeout_s, 30);
	cr_assert_str_eq(s->tests[0].run[3], "h2");
	spec_free(s);
}

/* One size through defaults.guest.disk (no guest, so no capacity check). */
static int size_ok(const char *size, uint64_t *out)
{
	_cleanup_free_ char *yaml = xasprintf("lab: t\nxen: \"4.17\"\nhosts: [{name: h1}]\n"
					      "defaults:\n  host: {data_disk: %s}\n",
					      size);
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	int rc = load_str(yaml, &s, &d, &e);

	if (rc == 0) {
		*out = s->hosts[0].data_disk;
		spec_free(s);
	} else {
		cr_expect_eq(d.n, 1, "%s: %zu diags", size, d.n);
		cr_expect_eq(d.v[0].pos.line, 5);
		cr_expect_eq(d.v[0].pos.col, 21);
	}
	spec_diags_free(&d);
	return rc;
}

Test(spec, size_boundaries)
{
	uint64_t v = 0;

	cr_assert_eq(size_ok("1", &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(size_ok("1K", &v), 0);
	cr_assert_eq(v, 1024);
	cr_assert_eq(size_ok("512Mi", &v), 0);
	cr_assert_eq(v, 512ull << 20);
	cr_assert_eq(size_ok("\"8GiB\"", &v), 0);
	cr_assert_eq(v, 8ull << 30);
	/* An LV holds at most 8 EiB: the largest disk, and one byte more. */
	cr_assert_eq(size_ok("8388608T", &v), 0);
	cr_assert_eq(v, 8ull << 60);
	cr_assert_eq(size_ok("9223372036854775809", &v), -1);
	cr_assert_eq(size_ok("16777215T", &v), -1);
	cr_assert_eq(size_ok("18446744073709551609", &v), -1);
	cr_assert_eq(size_ok("18446744073709551615", &v), -1);
	cr_assert_eq(size_ok("16777216T", &v), -1);
	cr_assert_eq(size_ok("18446744073709551616", &v), -1);
	cr_assert_eq(size_ok("0", &v), -1);
	cr_assert_eq(size_ok("0G", &v), -1);
	cr_assert_eq(size_ok("8X", &v), -1);
	cr_assert_eq(size_ok("-1G", &v), -1);
	cr_assert_eq(size_ok("1.5G", &v), -1);
	cr_assert_eq(size_ok("\"\"", &v), -1);
	cr_assert_eq(size_ok("[8G]", &v), -1);
}

static int capacity(const char *host, const char *guest)
{
	_cleanup_free_ char *yaml = xasprintf("lab: t\nxen: \"4.17\"\nhosts: [{name: h1, %s}]\n"
					      "guests: [{name: g1, host: h1, %s}]\n",
					      host, guest);
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	int rc = load_str(yaml, &s, &d, &e);

	spec_free(s);
	spec_diags_free(&d);
	return rc;
}

Test(spec, capacity_boundaries)
{
	/* memory: all of memory - dom0_mem is for guests, not a byte more */
	cr_assert_eq(capacity("memory: 2G, dom0_mem: 1G", "memory: 1G"), 0);
	cr_assert_eq(capacity("memory: 2G, dom0_mem: 1G", "memory: 1073741825"), -1);
	cr_assert_eq(capacity("memory: 2G, dom0_mem: 2G", "memory: 1M"), -1);
	/* disk: a PV loses 4M of metadata; LVs take whole 4M extents */
	cr_assert_eq(capacity("data_disk: 8G", "disk: 8188M"), 0);
	cr_assert_eq(capacity("data_disk: 8G", "disk: 8185M"), 0);
	cr_assert_eq(capacity("data_disk: 8G", "disk: 8189M"), -1);
	cr_assert_eq(capacity("data_disk: 1G, disks: [1G]", "disk: 2040M"), 0);
	cr_assert_eq(capacity("data_disk: 1G, disks: [1G]", "disk: 2041M"), -1);
}

Test(spec, every_error_in_one_run)
{
	const char *yaml = "lab: Bad_Lab\n"
			   "xen: \"4.17\"\n"
			   "hosts:\n"
			   "  - name: h1\n"
			   "    vcpus: 0\n"
			   "guests:\n"
			   "  - {name: g1, host: h9}\n";
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(load_str(yaml, &s, &d, &e), -1);
	cr_assert_null(s);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert_eq(d.n, 3);
	cr_assert(has_diag(&d, 1, 6, "not a valid lab name"));
	cr_assert(has_diag(&d, 5, 12, "'vcpus' must be between 1 and 64"));
	cr_assert(has_diag(&d, 7, 22, "did you mean 'h1'?"));
	cr_assert(strstr(e.msg, "3 errors"), "%s", e.msg);
	cr_assert(strstr(e.msg, "t.yaml:1:6:"), "%s", e.msg);
	spec_diags_free(&d);
}

Test(spec, diags_print_format)
{
	const char *yaml = "lab: t\nxen: \"4.17\"\nhost:\n  - name: h1\n";
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_eq(load_str(yaml, &s, &d, &e), -1);
	spec_diags_print(&d, f);
	fclose(f);
	cr_assert_str_eq(out, "t.yaml:1:1: the spec is missing the required key 'hosts'\n"
			      "t.yaml:3:1: unknown key 'host' in the spec; did you mean 'hosts'?\n");
	free(out);
	spec_diags_free(&d);
}

Test(spec, empty_and_hostile_buffers)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	_cleanup_free_ char *deep = xmalloc(200001);
	_cleanup_free_ char *big = xcalloc(1, SPEC_MAX_BYTES + 2);
	const char *laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n"
			     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";

	cr_assert_eq(spec_load_buffer("e.yaml", "", 0, &s, &d, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(has_diag(&d, 1, 1, "empty spec: expected a mapping with 'lab'"));

	cr_assert_eq(load_str(laughs, &s, &d, &e), -1);
	cr_assert(has_diag(&d, 2, 8, "aliases"));
	cr_assert(has_diag(&d, 3, 8, "aliases"));

	memset(deep, '[', 200000);
	deep[200000] = '\0';
	cr_assert_eq(load_str(deep, &s, &d, &e), -1);
	cr_assert(has_diag(&d, 1, 17, "nested deeper than 16 levels"));

	memset(big, '#', SPEC_MAX_BYTES + 1);
	cr_assert_eq(spec_load_buffer("big.yaml", big, SPEC_MAX_BYTES + 1, &s, &d, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(strstr(e.msg, "at most"), "%s", e.msg);
	cr_assert_null(s);
	spec_diags_free(&d);
}

Test(spec, file_errors)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	char dir[] = "/tmp/xlab-spec-XXXXXX";
	_cleanup_free_ char *big = NULL, *missing = NULL;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	missing = xasprintf("%s/nope.yaml", dir);
	cr_assert_eq(spec_load(missing, &s, &d, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(strstr(e.msg, "No such file"), "%s", e.msg);
	cr_assert_eq(d.n, 1);

	cr_assert_eq(spec_load(dir, &s, &d, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(strstr(e.msg, "directory"), "%s", e.msg);

	/* A FIFO nobody writes to: refused at once, not waited on. */
	{
		_cleanup_free_ char *fifo = xasprintf("%s/lab.yaml", dir);

		cr_assert_eq(mkfifo(fifo, 0644), 0);
		cr_assert_eq(spec_load(fifo, &s, &d, &e), -1);
		cr_assert_eq(e.kind, XERR_USAGE);
		cr_assert(strstr(e.msg, "not a regular file"), "%s", e.msg);
		cr_assert_eq(spec_load("/dev/zero", &s, &d, &e), -1);
		cr_assert(strstr(e.msg, "not a regular file"), "%s", e.msg);
		unlink(fifo);
	}

	/* A sparse file: refused from its size, before a byte is read. */
	big = xasprintf("%s/big.yaml", dir);
	f = fopen(big, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), 64ll << 30), 0);
	fclose(f);
	cr_assert_eq(spec_load(big, &s, &d, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(strstr(e.msg, "refused unread"), "%s", e.msg);
	cr_assert_null(s);
	unlink(big);
	rmdir(dir);
	spec_diags_free(&d);
}

/* Every source of a URI (spec, --connect, XLAB_CONNECT) goes through this. */
Test(spec, libvirt_uris)
{
	static const char *const ok[] = {
		"qemu:///system", "qemu:///session", "test:///default", "test:///tmp/lab.xml",
		"qemu+ssh://root@lab-host/system", "qemu+ssh://h.example:2222/system?keyfile=/k",
		"qemu+tls://10.0.0.1/system?pkipath=/etc/pki/x&no_verify=1",
		"qemu+ssh://[::1]:22/session",
		"qemu+libssh://root@10.99.0.2/system?keyfile=/k&known_hosts=/s/kh&known_hosts_verify=normal",
		"qemu+libssh2://root@10.99.0.2/system?keyfile=/k&known_hosts=/s/kh&known_hosts_verify=normal",
	};
	static const char *const bad[] = {
		"qemu+ext:///system?command=/tmp/x", "qemu+ext:///system",
		"qemu:///system?socket=/tmp/sock", "qemu+unix:///system",
		"qemu+unix:///system?socket=/run/x", "qemu+ssh://h/system?netcat=/tmp/nc",
		"qemu+ssh://h/system?proxy=netcat", "qemu+ssh://h/system?command=/tmp/x",
		"qemu+ssh://h/system?comm%61nd=/tmp/x", "qemu+ssh://h/system;command=/x",
		"qemu+ssh://h/system?no_tty=1&command=/x", "qemu+ssh://-oProxyCommand=x/system",
		"qemu+ssh://-l/system", "qemu+ssh://u@-oProxyCommand=x/system",
		"qemu+ssh://-u@h/system", "qemu+ssh://h/other", "qemu+ssh:///system",
		"qemu+tcp://h/system", "qemu+libssh2://h/system?netcat=/x", "qemu+libssh://h/system?netcat=/x",
		"qemu+libssh2://-oX/system",
		"qemu+libssh://-oX/system", "xen:///system", "lxc:///",
		"qemu:///embed?root=/tmp", "qemu:///system#x", "qemu:///system ", "",
		"test:///", "test:///../etc/passwd",
		"qemu+ssh://h/system?keyfile=/k$(x)",
	};
	const char *why;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		cr_expect(libvirt_uri_allowed(ok[i], &why), "%s refused: %s", ok[i], why);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		cr_expect_not(libvirt_uri_allowed(bad[i], &why), "%s accepted", bad[i]);
		cr_expect_not_null(why, "%s: no reason", bad[i]);
	}
}

/* At the edge of uint64_t: nothing wraps into a small number that fits. */
Test(spec, sizes_never_wrap)
{
	static const char *const bad[] = {
		/* the issue's own: 2^64 - 7, which rounded up to 4M extents was 0 */
		"hosts: [{name: h1}]\nguests: [{name: g1, host: h1, disk: 18446744073709551609}]",
		"hosts: [{name: h1}]\nguests: [{name: g1, host: h1, swap: 18446744073709551609}]",
		"hosts: [{name: h1, data_disk: 18446744073709551615}]",
		"hosts: [{name: h1, disks: [18446744073709551615]}]",
		/* two LVs of 8 EiB: the sum is 2^64, which wrapped to 0 */
		"hosts: [{name: h1, data_disk: 8388608T, disks: [8388608T]}]\n"
		"guests: [{name: g1, host: h1, disk: 8388608T}, {name: g2, host: h1, disk: 8388608T}]",
		/* memory over what Xen addresses, alone or summed */
		"hosts: [{name: h1, memory: 16385G}]",
		"hosts: [{name: h1, memory: 16T}]\nguests: [{name: g1, host: h1, memory: 9223372036854775808},"
		" {name: g2, host: h1, memory: 9223372036854775808}]",
		"hosts: [{name: h1, memory: 16T}]\nguests: [{name: g1, host: h1, memory: 10T},"
		" {name: g2, host: h1, memory: 10T}]",
		"hosts: [{name: h1, dom0_mem: 18446744073709551615}]",
		"storage: {shared: {vg: sh, size: 8388608T}}\nhosts: [{name: h1}]\n"
		"guests: [{name: g1, host: h1, storage: shared, disk: 8388608T},"
		" {name: g2, host: h1, storage: shared, disk: 8388608T}]",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *yaml = xasprintf("lab: t\nxen: \"4.17\"\n%s\n", bad[i]);
		struct spec *s = NULL;
		struct spec_diags d = { 0 };
		struct xerr e = { 0 };

		cr_expect_eq(load_str(yaml, &s, &d, &e), -1, "accepted:\n%s", yaml);
		for (size_t k = 0; k < d.n; k++)
			cr_expect(d.v[k].pos.line > 0 && d.v[k].pos.col > 0, "no position: %s",
				  d.v[k].msg);
		spec_free(s);
		spec_diags_free(&d);
	}
	cr_assert_eq(capacity("memory: 16T, dom0_mem: 1G", "memory: 16383G"), 0);
}

/* `type:` per guest and under defaults.guest; pv when nothing says. */
Test(spec, guest_types)
{
	_cleanup_free_ char *path = data_path("tests/data/specs/valid/guest-types.yaml");
	_cleanup_free_ char *ref = data_path("examples/reference.yaml");
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	enum spec_guest_type t;

	cr_assert_eq(spec_load(path, &s, &d, &e), 0, "%s", e.msg);
	cr_assert_eq(s->guests[0].type, SPEC_GUEST_PVH);
	cr_assert_eq(s->guests[1].type, SPEC_GUEST_PV);
	cr_assert_eq(s->guests[2].type, SPEC_GUEST_HVM);
	cr_assert(s->guests[2].vnc);
	spec_free(s);
	cr_assert_eq(spec_load(ref, &s, &d, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < s->n_guests; i++)
		cr_assert_eq(s->guests[i].type, SPEC_GUEST_PV);
	spec_free(s);
	spec_diags_free(&d);
	for (int i = 0; i <= SPEC_GUEST_HVM; i++) {
		cr_assert_eq(spec_guest_type_parse(spec_guest_type_name(i), &t), 0);
		cr_assert_eq((int)t, i);
	}
	cr_assert_eq(spec_guest_type_parse("PV", &t), -1);
	cr_assert_eq(spec_guest_type_parse("", &t), -1);
}

/* `image:` boots a stored image by name (a derived one) instead of the
 * image of a Debian Xen version; without either, the spec says both. */
Test(spec, image_instead_of_xen)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	_cleanup_free_ char *name = NULL;

	cr_assert_eq(load_str("lab: t\nimage: xen-4.20-shadow\nhosts:\n  - name: h1\n", &s, &d, &e),
		     0, "%s", e.msg);
	cr_expect_null(s->xen);
	cr_expect_str_eq(s->image, "xen-4.20-shadow");
	name = spec_image_name(s);
	cr_expect_str_eq(name, "xen-4.20-shadow");
	spec_free(s);
	spec_diags_free(&d);
	s = NULL;
	d = (struct spec_diags){ 0 };
	cr_assert_eq(load_str("lab: t\nhosts:\n  - name: h1\n", &s, &d, &e), -1);
	cr_expect(has_diag(&d, 1, 1, "missing the required key 'xen' (or 'image')"), "%s",
		  d.n ? d.v[0].msg : "no diagnostic");
	spec_diags_free(&d);
}

/* A mixed-version lab: a host's own `xen:` or `image:` overrides the lab's;
 * the lab's may be left out when every host names its own. */
Test(spec, host_xen_overrides_the_lab)
{
	_cleanup_free_ char *path = data_path("tests/data/specs/valid/mixed-versions.yaml");
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };
	const char *want[] = { "xen-4.17", "xen-4.20", "xen-4.20-shadow" };

	cr_assert_eq(spec_load(path, &s, &d, &e), 0, "%s", e.msg);
	cr_assert_eq(s->n_hosts, 3);
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *name = spec_host_image_name(s, &s->hosts[i]);

		cr_expect_str_eq(name, want[i], "host %zu", i);
	}
	cr_expect(spec_mixed_images(s));
	cr_expect_eq(s->hosts[0].xen_pos.line, 11);
	cr_expect_eq(s->experiments[0].back_and_forth, false);
	spec_free(s);
	spec_diags_free(&d);

	s = NULL;
	d = (struct spec_diags){ 0 };
	cr_assert_eq(load_str("lab: t\nhosts:\n  - {name: a, xen: \"4.17\"}\n"
			      "  - {name: b, image: xen-4.20-shadow}\n",
			      &s, &d, &e),
		     0, "%s", e.msg);
	cr_expect_null(spec_image_name(s));
	{
		_cleanup_free_ char *b = spec_host_image_name(s, &s->hosts[1]);

		cr_expect_str_eq(b, "xen-4.20-shadow");
	}
	spec_free(s);
	spec_diags_free(&d);

	s = NULL;
	d = (struct spec_diags){ 0 };
	cr_assert_eq(load_str("lab: t\nxen: \"4.20\"\nhosts:\n  - {name: a, xen: \"4.20\"}\n"
			      "  - name: b\n",
			      &s, &d, &e),
		     0, "%s", e.msg);
	cr_expect_not(spec_mixed_images(s), "the same image twice is not mixed");
	spec_free(s);
	spec_diags_free(&d);
}

/* `server:` names a stored server, or local; the store is asked at `up`. */
Test(spec, the_server_a_lab_runs_on)
{
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(load_str("lab: t\nxen: \"4.20\"\nserver: box2\nhosts:\n  - name: h1\n", &s,
			      &d, &e), 0, "%s", e.msg);
	cr_expect_str_eq(s->server, "box2");
	spec_free(s);
	spec_diags_free(&d);
	s = NULL;
	d = (struct spec_diags){ 0 };
	cr_assert_eq(load_str("lab: t\nxen: \"4.20\"\nserver: Box_2\nhosts:\n  - name: h1\n", &s,
			      &d, &e), -1);
	cr_expect(has_diag(&d, 3, 9, "server 'Box_2' is not a server name"), "%s",
		  d.n ? d.v[0].msg : "no diagnostic");
	spec_diags_free(&d);
}
