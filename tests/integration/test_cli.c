/* The command line as a virsh, xl or git user expects it, through the real
 * xlab binary against a scratch store (XLAB_HOME) and libvirt's test
 * driver: help at every level, the nearest match for a typo, unknown labs
 * refused, and the docs in step with the command table. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clirun.h"
#include "db.h"
#include "spawn.h"
#include "util.h"

static char home[] = "/tmp/xlab-cli-XXXXXX";
static char *home_env, *spec_path;

static const char *const spec_text =
	"lab: demo\nxen: \"4.17\"\nnetwork: {subnet: 10.85.0.0/24}\n"
	"hosts: [{name: h1, memory: 1536M, dom0_mem: 768M, data_disk: 2G}]\n"
	"guests: [{name: g1, host: h1}]\n";

static void setup(void)
{
	struct db *db = NULL;
	struct xerr e = { 0 };
	_cleanup_free_ char *dbp = NULL;
	struct db_host h = { .lab = "demo", .name = "h1", .ip = "10.85.0.10", .state = "up",
			     .mac = "52:54:00:00:00:01" };

	cr_assert(mkdtemp(home));
	spec_path = xasprintf("%s/demo.yaml", home);
	cr_assert_eq(file_write_atomic(spec_path, spec_text, strlen(spec_text), 0644, &e), 0);
	dbp = xasprintf("%s/xlab.db", home);
	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo", spec_path, "x", "10.85.0.0/24", "up", &e), 0, "%s",
		     e.msg);
	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	db_close(db);
	home_env = xasprintf("XLAB_HOME=%s", home);
}

static void teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(home, &e);
	free(home_env);
	free(spec_path);
}

#define xlab(out, err, ...)                                                                 \
	cli_run((char *[]){ home_env, "XLAB_CONNECT=test:///default", NULL }, out, err,    \
		__VA_ARGS__)

TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, subcommands_answer_help)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL, *o4 = NULL, *e4 = NULL;

	cr_assert_eq(xlab(&o1, &e1, "guest", "create", "--help", NULL), 0, "%s", e1);
	cr_expect(strstr(o1, "usage: xlab guest create"), "%s", o1);
	cr_expect(strstr(o1, "  -n, --dry-run "), "%s", o1);
	cr_expect(strstr(o1, "      --from-xl FILE "), "%s", o1);
	cr_assert_eq(xlab(&o2, &e2, "guest", "list", "--help", NULL), 0, "%s", e2);
	cr_expect(strstr(o2, "      --json "), "%s", o2);
	cr_assert_eq(xlab(&o3, &e3, "guest", "help", NULL), 0, "%s", e3);
	cr_expect(strstr(o3, "  create   LAB NAME --host HOST"), "%s", o3);
	cr_assert_eq(xlab(&o4, &e4, "guest", "help", "console", NULL), 0, "%s", e4);
	cr_expect(strstr(o4, "  -c, --console "), "%s", o4);
}

Test(cli, help_shows_every_option)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	cr_assert_eq(xlab(&out, &err, "up", "--help", NULL), 0, "%s", err);
	cr_expect(strstr(out, "      --connect URI "), "%s", out);
	cr_expect(strstr(out, "      --timeout SECONDS "), "%s", out);
	cr_expect(strstr(out, "      --experiments "), "%s", out);
}

Test(cli, typos_get_the_nearest)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL,
			    *e3 = NULL, *o4 = NULL, *e4 = NULL;

	cr_expect_eq(xlab(&o1, &e1, "stauts", NULL), 2);
	cr_expect(strstr(e1, "unknown command 'stauts'; did you mean 'status'?"), "%s", e1);
	/* Two swapped letters are one typo: "strat" is start, "stauts" status
	 * (with start in the table both were two edits from each). */
	free(o1);
	free(e1);
	cr_expect_eq(xlab(&o1, &e1, "strat", NULL), 2);
	cr_expect(strstr(e1, "unknown command 'strat'; did you mean 'start'?"), "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "status", "--jsno", NULL), 2);
	cr_expect(strstr(e2, "unknown option '--jsno'; did you mean '--json'?"), "%s", e2);
	cr_expect_eq(xlab(&o3, &e3, "guest", "lst", "demo", NULL), 2);
	cr_expect(strstr(e3, "unknown subcommand 'lst'; did you mean 'list'?"), "%s", e3);
	/* An option the command does not take is refused, not read as a file. */
	cr_expect_eq(xlab(&o4, &e4, "validate", "--json", spec_path, NULL), 2);
	cr_expect(strstr(e4, "validate: unknown option '--json'"), "%s", e4);
	cr_expect_null(strstr(e4, "cannot read spec"), "%s", e4);
}

Test(cli, connect_before_the_command)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;

	cr_assert_eq(cli_run((char *[]){ home_env, NULL }, &o1, &e1, "--connect",
			     "test:///default", "status", NULL), 0, "%s", e1);
	cr_expect(strstr(o1, "demo"), "%s", o1);
	cr_expect_null(strstr(e1, "warning"), "%s", e1);
	/* A URI nothing answers at proves the option was read. */
	cr_assert_eq(cli_run((char *[]){ home_env, NULL }, &o2, &e2, "--connect=bogus:///x",
			     "status", NULL), 0, "%s", e2);
	cr_expect(strstr(e2, "warning"), "%s", e2);
}

static void opts_in_man(const char *man, const char *help, const char *what)
{
	for (const char *o = strstr(help, "  --"); o; o = strstr(o + 1, "  --")) {
		_cleanup_free_ char *opt = xstrndup(o + 2, strcspn(o + 2, " \n"));
		_cleanup_free_ char *fl = xasprintf("Fl -%s", opt + 2);

		cr_expect(strstr(man, fl), "docs/xlab.1 lacks %s (xlab %s)", fl, what);
	}
}

/* `xlab help CMD SUB` for every subcommand listed in `xlab help CMD`. */
static void subs_in_man(const char *man, const char *name, const char *help)
{
	const char *line = strstr(help, "subcommands:\n");

	for (line = line ? line + 13 : NULL; line && strncmp(line, "  ", 2) == 0;
	     line = strchr(line, '\n') + 1) {
		_cleanup_free_ char *sub = xstrndup(line + 2, strcspn(line + 2, " "));
		_cleanup_free_ char *cm = xasprintf("Cm %s", sub);
		_cleanup_free_ char *what = xasprintf("%s %s", name, sub);
		_cleanup_free_ char *out = NULL, *err = NULL;

		line = strchr(line, '\n') + 1; /* the summary line */
		cr_expect(strstr(man, cm), "docs/xlab.1 lacks %s", cm);
		cr_assert_eq(xlab(&out, &err, "help", name, sub, NULL), 0, "%s", err);
		opts_in_man(man, out, what);
	}
}

/* Every command and option of `xlab help` is in the man page and every
 * command in README's table: the docs are checked against the binary. */
Test(cli, docs_name_every_command_and_option)
{
	_cleanup_free_ char *all = NULL, *err = NULL, *man = NULL, *readme = NULL;
	_cleanup_free_ char *manp = xasprintf("%s/docs/xlab.1", getenv("XLAB_SOURCE_DIR"));
	_cleanup_free_ char *readp = xasprintf("%s/README.md", getenv("XLAB_SOURCE_DIR"));
	struct xerr e = { 0 };
	size_t len;

	cr_assert_eq(file_read_all(manp, 0, &man, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(readp, 0, &readme, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(xlab(&all, &err, "help", NULL), 0, "%s", err);
	opts_in_man(man, strstr(all, "options before the command:"), "");
	for (char *line = strstr(all, "commands:\n") + 10; line && strncmp(line, "  ", 2) == 0;
	     line = strchr(line, '\n') + 1) {
		_cleanup_free_ char *name = xstrndup(line + 2, strcspn(line + 2, " "));
		_cleanup_free_ char *cm = xasprintf("Cm %s", name);
		_cleanup_free_ char *rd = xasprintf("`xlab %s", name);
		_cleanup_free_ char *out = NULL, *herr = NULL;

		cr_expect(strstr(man, cm), "docs/xlab.1 lacks %s", cm);
		cr_expect(strstr(readme, rd), "README.md lacks %s", rd);
		cr_assert_eq(xlab(&out, &herr, "help", name, NULL), 0, "%s", herr);
		opts_in_man(man, out, name);
		subs_in_man(man, name, out);
	}
}

/* Every command that takes a lab refuses one the store never had, names
 * the labs there are, and records nothing. */
Test(cli, unknown_lab_is_an_error_everywhere)
{
	static const char *const cmds[][5] = {
		{ "down", "dmeo" },	    { "status", "dmeo" },
		{ "list", "dmeo" },	    { "ssh", "dmeo", "h1" },
		{ "console", "dmeo", "h1" }, { "vnc", "dmeo", "h1" },
		{ "cp", "dmeo", "a", "h1:/b" }, { "test", "dmeo" },
		{ "runs", "dmeo" },	    { "report", "--last", "dmeo" },
		{ "experiment", "dmeo" },   { "storage", "dmeo", "h1" },
		{ "guest", "list", "dmeo" }, { "guest", "rm", "dmeo", "g1" },
		{ "up", "dmeo" },	    { "stop", "dmeo" },
		{ "start", "dmeo" },
	};
	_cleanup_free_ char *ro = NULL, *re = NULL;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		_cleanup_free_ char *out = NULL, *err = NULL;
		int st = xlab(&out, &err, (char *)cmds[i][0], (char *)cmds[i][1], (char *)cmds[i][2],
			      (char *)cmds[i][3], (char *)cmds[i][4]);

		cr_expect_eq(st, 1, "xlab %s %s: exit %d\n%s", cmds[i][0], cmds[i][1], st, err);
		cr_expect(strstr(err, "no lab named 'dmeo'; labs: demo; did you mean 'demo'?"),
			  "xlab %s %s: %s", cmds[i][0], cmds[i][1], err);
	}
	cr_assert_eq(xlab(&ro, &re, "runs", NULL), 0, "%s", re);
	cr_expect_null(strstr(ro, "dmeo"), "a run of an unknown lab was recorded:\n%s", ro);
}

/* `up LAB` reads the stored spec: here it gets as far as the image, which
 * the scratch store lacks. */
Test(cli, up_takes_a_lab_name)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	cr_expect_eq(xlab(&out, &err, "up", "demo", NULL), 1);
	cr_expect(strstr(err, "image 'xen-4.17'"), "%s", err);
	cr_expect_null(strstr(err, "cannot read spec"), "%s", err);
}

/* An invalid spec's errors are each printed once: the list, then a count,
 * not the first one again. */
Test(cli, spec_errors_printed_once)
{
	static const char bad[] = "lab: bad\nxen: \"4.17\"\nhosts: [{name: h1, memry: 1G}]\n"
				  "foo: 1\n";
	_cleanup_free_ char *path = xasprintf("%s/bad.yaml", home);
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(path, bad, strlen(bad), 0644, &e), 0, "%s", e.msg);
	cr_expect_eq(xlab(&o1, &e1, "plan", path, NULL), 2);
	cr_expect_eq(xlab(&o2, &e2, "up", path, NULL), 2);
	for (const char *err = e1; err; err = err == e1 ? e2 : NULL) {
		const char *first = strstr(err, "unknown key 'memry'");

		cr_expect(first, "%s", err);
		cr_expect(first && !strstr(first + 1, "unknown key 'memry'"), "printed twice:\n%s",
			  err);
		cr_expect(strstr(err, "invalid spec: 2 errors, listed above"), "%s", err);
	}
}

/* A run whose bring-up failed is a failing JUnit case, not an empty suite
 * CI reads as a pass; and JSON and XML never share stdout. */
Test(cli, junit_of_a_failed_bringup_fails)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home), *id = NULL;
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL;
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t run, step;

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "demo", "up", "x", &run, &e), 0, "%s", e.msg);
	cr_assert_eq(db_step_begin(db, run, "host.start", "h1", &step, &e), 0, "%s", e.msg);
	cr_assert_eq(db_step_end(db, step, "failed", "cannot start domain", &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_end(db, run, "failed", "host 'h1': cannot start domain", &e), 0, "%s",
		     e.msg);
	db_close(db);
	id = xasprintf("%lld", (long long)run);
	cr_assert_eq(xlab(&out, &err, "report", id, "--junit", "-", NULL), 0, "%s", err);
	cr_expect(strstr(out, "tests=\"1\" failures=\"1\""), "%s", out);
	cr_expect(strstr(out, "<testcase name=\"up\""), "%s", out);
	cr_expect(strstr(out, "message=\"host 'h1': cannot start domain\""), "%s", out);
	cr_expect(strstr(out, "host.start h1: cannot start domain"), "%s", out);
	cr_expect_eq(xlab(&o2, &e2, "report", id, "--junit", "-", "--json", NULL), 2);
	cr_expect(strstr(e2, "--junit - and --json would both write to stdout"), "%s", e2);
	cr_expect_eq(o2[0], '\0', "%s", o2);
}

static char *write_spec(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", home, name);
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(path, text, strlen(text), 0644, &e), 0, "%s", e.msg);
	return path;
}

/* Two labs on one subnet: refused at `up` (before a run is recorded) and
 * by `validate` of both files, naming both labs. */
Test(cli, same_subnet_refused)
{
	static const char other[] = "lab: other\nxen: \"4.17\"\nnetwork: {subnet: 10.85.0.0/24}\n"
				    "hosts: [{name: h1}]\n";
	_cleanup_free_ char *path = write_spec("other.yaml", other);
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;

	cr_expect_eq(xlab(&o1, &e1, "up", path, NULL), 1);
	cr_expect(strstr(e1, "subnet 10.85.0.0/24 of lab 'other'"), "%s", e1);
	cr_expect(strstr(e1, "of lab 'demo'"), "%s", e1);
	cr_assert_eq(xlab(&o2, &e2, "runs", NULL), 0, "%s", e2);
	cr_expect_null(strstr(o2, "other"), "%s", o2);
	cr_expect_eq(xlab(&o3, &e3, "validate", spec_path, path, NULL), 2);
	cr_expect(strstr(e3, "subnet 10.85.0.0/24 of lab 'other' overlaps 10.85.0.0/24 of lab "
			     "'demo'"), "%s", e3);
}

Test(cli, validate_reads_stdin)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL;

	cr_assert_eq(cli_run_in(spec_text, (char *[]){ home_env, NULL }, &out, &err, "validate",
				"-", NULL), 0, "%s", err);
	cr_expect(strstr(out, "<stdin>: ok (lab demo, 1 hosts, 1 guests, 0 tests)"), "%s", out);
	cr_expect_eq(cli_run_in("lab: x\nhosts: []\nbogus: 1\n", (char *[]){ home_env, NULL },
				&o2, &e2, "validate", "-", NULL), 2);
	cr_expect(strstr(e2, "<stdin>:3:1: unknown key 'bogus'"), "%s", e2);
}

Test(cli, runs_limit_must_be_a_count)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;

	cr_expect_eq(xlab(&o1, &e1, "runs", "--limit", "abc", NULL), 2);
	cr_expect(strstr(e1, "--limit takes a number of runs from 1 to 1000000, not 'abc'"), "%s",
		  e1);
	cr_expect_eq(xlab(&o2, &e2, "runs", "--limit", "-1", NULL), 2);
	cr_expect(strstr(e2, "not '-1'"), "%s", e2);
	cr_expect_eq(xlab(&o3, &e3, "runs", "--limit", "5", NULL), 0, "%s", e3);
}

/* "which host?" is answered with hosts only, not the lab's guests. */
Test(cli, no_such_host_lists_hosts)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct db_guest g = { .lab = "demo", .host = "h1", .name = "g1", .ip = "10.85.0.50",
			      .state = "up", .made_by = "spec", .mac = "52:54:00:00:00:02" };
	struct db *db = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	db_close(db);
	cr_expect_eq(xlab(&out, &err, "guest", "create", "demo", "web", "--host", "h2",
			  "--dry-run", NULL), 2);
	cr_expect(strstr(err, "lab 'demo' has no host named 'h2' (it has: h1); did you mean "
			      "'h1'?"), "%s", err);
}

/* The completion script comes from the command table and works in bash. */
Test(cli, bash_completion_from_the_table)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *path = NULL, *cmd = NULL;
	char *argv[] = { "bash", "-c", NULL, NULL };
	struct spawn_opts so = { .capture_stdout = true, .capture_stderr = true };
	struct spawn_result r = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(xlab(&out, &err, "completion", "bash", NULL), 0, "%s", err);
	path = write_spec("xlab.bash", out);
	cmd = xasprintf("source %s; COMP_WORDS=(xlab guest cr); COMP_CWORD=2; _xlab; "
			"echo \"${COMPREPLY[*]}\"; COMP_WORDS=(xlab up --no-g); COMP_CWORD=2; "
			"_xlab; echo \"${COMPREPLY[*]}\"", path);
	argv[2] = cmd;
	cr_assert_eq(spawn_run(argv, &so, &r, &e), 0, "%s", e.msg);
	cr_expect_str_eq(r.out, "create\n--no-guests\n", "%s", r.err);
	spawn_result_free(&r);
}

/* A guest the spec validator would refuse is refused by `guest create`
 * too, dry run or not: h1 has 768M for guests. */
Test(cli, guest_create_checks_capacity)
{
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;

	cr_expect_eq(xlab(&o1, &e1, "guest", "create", "-n", "demo", "web", "--host", "h1",
			  "memory=256M", NULL), 0, "%s", e1);
	cr_expect_eq(xlab(&o2, &e2, "guest", "create", "-n", "demo", "web", "--host", "h1",
			  "memory=4G", NULL), 2, "%s", o2);
	cr_expect(strstr(e2, "guests on host 'h1' need 4224M of memory (up to 'web'), but it "
			     "has 768M for guests"), "%s", e2);
}

/* Only directories of the store are images: the build log beside one is
 * not listed (nor warned about), a directory without its manifest is. */
Test(cli, image_list_skips_build_logs)
{
	_cleanup_free_ char *dir = xasprintf("%s/images/xen-4.20", home);
	_cleanup_free_ char *log = NULL, *out = NULL, *err = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	log = write_spec("images/xen-4.20.build.log", "I: building\n");
	cr_assert_eq(xlab(&out, &err, "image", "list", NULL), 0, "%s", err);
	cr_expect(!strstr(err, "build.log"), "%s", err);
	cr_expect(strstr(err, "image 'xen-4.20' is not in the store"), "%s", err);
	cr_expect(strstr(out, "NAME"), "%s", out);
}

/* A new XLAB_HOME has no image store yet: a build makes it rather than
 * failing on its lock file. mmdebstrap here is one that fails at once, so
 * the build ends at its first phase and says so; nothing half-made stays. */
Test(cli, image_build_makes_the_store)
{
	_cleanup_free_ char *bin = xasprintf("%s/bin", home);
	_cleanup_free_ char *fake = xasprintf("%s/mmdebstrap", bin);
	_cleanup_free_ char *store = xasprintf("%s/images", home);
	_cleanup_free_ char *path = xasprintf("PATH=%s:%s", bin, getenv("PATH"));
	_cleanup_free_ char *image = xasprintf("%s/images/xen-4.17-debian", home);
	_cleanup_free_ char *out = NULL, *err = NULL;
	static const char script[] = "#!/bin/sh\necho no mirror here >&2\nexit 1\n";
	struct xerr e = { 0 };

	if (geteuid() != 0)
		cr_skip_test("an image build needs root");
	cr_assert_eq(mkdir_p(bin, 0755, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(fake, script, strlen(script), 0755, &e), 0, "%s", e.msg);
	cr_assert_not(path_exists(store));
	/* The -debian recipe: no kernel to build before the bootstrap. */
	cr_expect_eq(cli_run((char *[]){ home_env, path, NULL }, &out, &err, "image", "build",
			     "xen-4.17-debian", NULL), 1, "%s", err);
	cr_expect(!strstr(err, ".lock"), "%s", err);
	cr_expect(strstr(err, "bootstrapping Debian bookworm"), "%s", err);
	cr_expect(path_exists(store), "the store was made");
	cr_expect_not(path_exists(image), "no image");
}

/* The lean kernel's inputs are checked before anything is built: a missing
 * Linux source says which package has it, a bad line of the configuration
 * is named, a tarball without a Linux tree is refused; no image, no kernel
 * in the cache. */
Test(cli, image_build_checks_the_lean_kernels_inputs)
{
	_cleanup_free_ char *src = xasprintf("%s/src", home);
	_cleanup_free_ char *frag = xasprintf("%s/lean-kernel.config", src);
	_cleanup_free_ char *empty = xasprintf("%s/empty.tar", home);
	_cleanup_free_ char *no_src = xasprintf("XLAB_LINUX_SOURCE=%s/none.tar.xz", home);
	_cleanup_free_ char *src_env = xasprintf("XLAB_IMAGES_SRC=%s", src);
	_cleanup_free_ char *empty_env = xasprintf("XLAB_LINUX_SOURCE=%s", empty);
	_cleanup_free_ char *image = xasprintf("%s/images/xen-4.20", home);
	_cleanup_free_ char *kernels = xasprintf("%s/images/.kernel-builds", home);
	_cleanup_free_ char *out = NULL, *err = NULL;
	const char *real = getenv("XLAB_SOURCE_DIR");
	static const char *const scripts[] = { "dom0-init.sh", "dom0-initrd-init.sh",
					       "guest-initrd-init.sh", "guest-init.sh" };
	static const char bad[] = "# xlab\nCONFIG_XEN=y\nXEN_PV=y\n";
	struct xerr e = { 0 };

	if (geteuid() != 0)
		cr_skip_test("an image build needs root");
	cr_assert_eq(mkdir_p(src, 0755, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
		_cleanup_free_ char *from = xasprintf("%s/images/%s", real, scripts[i]);
		_cleanup_free_ char *to = xasprintf("%s/%s", src, scripts[i]);
		_cleanup_free_ char *text = NULL;
		size_t len;

		cr_assert_eq(file_read_all(from, 0, &text, &len, &e), 0, "%s", e.msg);
		cr_assert_eq(file_write_atomic(to, text, len, 0644, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(file_write_atomic(frag, bad, strlen(bad), 0644, &e), 0, "%s", e.msg);

	cr_expect_eq(cli_run((char *[]){ home_env, no_src, src_env, NULL }, &out, &err, "image",
			     "build", "xen-4.20", NULL), 1, "%s", err);
	cr_expect(strstr(err, "apt-get install linux-source-6.12"), "%s", err);
	cr_expect(strstr(err, "xen-4.20-debian"), "%s", err);
	free(out);
	free(err);

	{
		/* An empty tar archive: its two zero end blocks, padded to a record. */
		_cleanup_free_ char *zeros = xcalloc(1, 10240);

		cr_assert_eq(file_write_atomic(empty, zeros, 10240, 0644, &e), 0, "%s", e.msg);
	}
	cr_expect_eq(cli_run((char *[]){ home_env, empty_env, src_env, NULL }, &out, &err,
			     "image", "build", "xen-4.20", NULL), 2, "%s", err);
	cr_expect(strstr(err, "lean-kernel.config:3: expected CONFIG_KEY=VALUE"), "%s", err);
	free(out);
	free(err);

	/* A good configuration, a tarball with no tree in it. */
	cr_assert_eq(file_write_atomic(frag, "CONFIG_XEN=y\n", 13, 0644, &e), 0, "%s", e.msg);
	cr_expect_eq(cli_run((char *[]){ home_env, empty_env, src_env, NULL }, &out, &err,
			     "image", "build", "xen-4.20", NULL), 2, "%s", err);
	cr_expect(strstr(err, "holds no Linux source tree"), "%s", err);
	cr_expect_not(path_exists(image), "no image");
	{
		/* Its lock and its log stay; no kernel, no tree of a build. */
		DIR *d = opendir(kernels);
		struct dirent *de;
		int logs = 0;

		cr_assert_not_null(d, "%s", kernels);
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			size_t len = strlen(n);

			if (!strcmp(n, ".") || !strcmp(n, ".."))
				continue;
			cr_expect_null(strstr(n, ".tmp-"), "a build tree was left: %s", n);
			cr_expect(n[0] == '.' || (len > 4 && !strcmp(n + len - 4, ".log")),
				  "nothing built is cached: %s", n);
			logs += len > 4 && !strcmp(n + len - 4, ".log");
		}
		closedir(d);
		cr_expect_eq(logs, 1, "the failed build's log is kept");
	}
}

/* A Xen version no recipe builds is not answered with `xlab image build
 * xen-4.2`, which would fail: the images that exist or can be built are. */
Test(cli, matrix_names_images_that_exist)
{
	_cleanup_free_ char *dir = xasprintf("%s/images/mine-4.2", home);
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(mkdir_p(dir, 0755, &e), 0, "%s", e.msg);
	cr_expect_eq(xlab(&out, &err, "matrix", spec_path, "--xen", "4.2,4.17", NULL), 1);
	cr_expect(!strstr(err, "image build xen-4.2`"), "%s", err);
	cr_expect(strstr(err, "image 'xen-4.2' is not in the store"), "%s", err);
	cr_expect(strstr(err, "xlab has no recipe for it: the store has mine-4.2; `xlab image "
			      "build` makes xen-4.17, xen-4.20"), "%s", err);
	cr_expect(strstr(err, "build it with `xlab image build xen-4.17`"), "%s", err);
}

/* As for report: JSON and JUnit XML never share stdout, and the matrix
 * says so before it starts anything. */
Test(cli, matrix_json_and_junit_stdout_refused)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	cr_expect_eq(xlab(&out, &err, "matrix", spec_path, "--xen", "4.17", "--json", "--junit",
			  "-", NULL), 2);
	cr_expect(strstr(err, "--junit - and --json would both write to stdout; give --junit a "
			      "FILE"), "%s", err);
	cr_expect_eq(out[0], '\0', "%s", out);
}

/* This store's libvirt name of lab demo's HOST (labs/names.c): the store id
 * the xlab runs above made leads it. */
static char *demo_domain(const char *host)
{
	_cleanup_free_ char *p = xasprintf("%s/store-id", home), *id = NULL;
	size_t len;
	struct xerr e = { 0 };

	cr_assert_eq(file_read_all(p, 4096, &id, &len, &e), 0, "%s", e.msg);
	return xasprintf("xlab-%.8s.demo.%s", id, host);
}

/* The store says h1 is up; the test driver has no domain xlab-demo-h1. */
Test(cli, console_of_a_missing_domain)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	_cleanup_free_ char *dom = NULL, *want = NULL;

	cr_expect_eq(xlab(&out, &err, "console", "demo", "h1", NULL), 1);
	dom = demo_domain("h1");
	want = xasprintf("host 'h1' of lab 'demo' has no domain %s in libvirt (test:///default)",
			 dom);
	cr_expect(strstr(err, want), "%s", err);
	cr_expect(strstr(err, "`xlab up demo` makes it again"), "%s", err);
	cr_expect(!strstr(err, "no error"), "%s", err);
}

/* Headers, columns as wide as their longest value, and the drift: the
 * store has h1 up, the test driver has no domain for it. */
Test(cli, status_table_and_drift)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	_cleanup_free_ char *out = NULL, *err = NULL, *o2 = NULL, *e2 = NULL;
	_cleanup_free_ char *dom = NULL, *want = NULL;
	struct db_host h = { .lab = "demo", .name = "a-host-with-a-long-name-for-columns",
			     .ip = "10.85.0.11", .state = "up", .mac = "52:54:00:00:00:03",
			     .image = "xen-4.20-shadow" };
	struct db_guest g = { .lab = "demo", .host = "h1", .name = "g1", .ip = "10.85.0.50",
			      .state = "up", .made_by = "spec", .mac = "52:54:00:00:00:02" };
	struct db *db = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	db_close(db);
	cr_assert_eq(xlab(&out, &err, "status", "demo", NULL), 0, "%s", err);
	cr_expect(strstr(out, "\n  HOST                                 STATE  VM      IMAGE            "
			      "IP          MAC                UPTIME\n"
			      "  h1                                   up     absent  -                "
			      "10.85.0.10  52:54:00:00:00:01  -\n"
			      "  a-host-with-a-long-name-for-columns  up     absent  xen-4.20-shadow  "
			      "10.85.0.11  52:54:00:00:00:03  -\n"),
		  "%s", out);
	cr_expect(strstr(out, "\n  GUEST  STATE  HOST  IP          MADE BY\n"
			      "  g1     up     h1    10.85.0.50  spec\n"), "%s", out);
	dom = demo_domain("h1");
	want = xasprintf("\n  drift: domain %s missing (the store has host 'h1' up; `xlab up "
			 "demo` makes it again)\n", dom);
	cr_expect(strstr(out, want), "%s", out);
	cr_assert_eq(xlab(&o2, &e2, "status", "demo", "--json", NULL), 0, "%s", e2);
	cr_expect(strstr(o2, "\"drift\":["), "%s", o2);
	free(want);
	want = xasprintf("\"domain %s missing (the store has host 'h1' up; ", dom);
	cr_expect(strstr(o2, want), "%s", o2);
}

/* runs and guest list: a header, and columns that move over for a long
 * value instead of running into the next one. */
Test(cli, tables_fit_long_values)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	_cleanup_free_ char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
	struct db_guest g = { .lab = "demo", .host = "h1", .ip = "10.85.0.50", .state = "up",
			      .name = "a-guest-name-longer-than-twenty", .made_by = "hand",
			      .mac = "52:54:00:00:00:02" };
	struct db *db = NULL;
	struct xerr e = { 0 };
	int64_t run;

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_begin(db, "demo", "experiment", "x", &run, &e), 0, "%s", e.msg);
	cr_assert_eq(db_run_end(db, run, "interrupted", NULL, &e), 0, "%s", e.msg);
	db_close(db);
	cr_assert_eq(xlab(&o1, &e1, "guest", "list", "demo", NULL), 0, "%s", e1);
	cr_expect_str_eq(o1, "Name                             Host  IP          State  Made by\n"
			     "a-guest-name-longer-than-twenty  h1    10.85.0.50  up     hand\n");
	cr_assert_eq(xlab(&o2, &e2, "runs", NULL), 0, "%s", e2);
	cr_expect(!strncmp(o2, "ID  LAB   COMMAND     STATUS       TIME  STEPS  TESTS  STARTED\n",
			   62), "%s", o2);
	cr_expect(strstr(o2, "\n 1  demo  experiment  interrupted  "), "%s", o2);
}

/* demo.sh's closing hints name the lab's own host and guest, which it
 * asks xlab for, not h1 and web1 whatever the spec said. */
Test(cli, demo_hints_name_the_labs_machines)
{
	_cleanup_free_ char *dbp = xasprintf("%s/xlab.db", home);
	_cleanup_free_ char *script = xasprintf("%s/scripts/demo.sh", getenv("XLAB_SOURCE_DIR"));
	_cleanup_free_ char *bin = xasprintf("XLAB=%s", getenv("XLAB_BIN"));
	struct db_host h = { .lab = "other", .name = "n1", .ip = "10.86.0.10", .state = "up",
			     .mac = "52:54:00:00:01:01" };
	struct db_guest g = { .lab = "other", .host = "n1", .name = "g9", .ip = "10.86.0.50",
			      .state = "up", .made_by = "spec", .mac = "52:54:00:00:01:02" };
	char *argv[] = { "bash", script, "--hints", "other", NULL };
	char *env[] = { home_env, bin, "XLAB_CONNECT=test:///default", NULL };
	struct spawn_opts so = { .capture_stdout = true, .capture_stderr = true, .env_add = env };
	struct spawn_result r = { 0 };
	struct db *db = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(db_open(dbp, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "other", spec_path, "x", "10.86.0.0/24", "up", &e), 0);
	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(db_guest_upsert(db, &g, &e), 0, "%s", e.msg);
	db_close(db);
	cr_assert_eq(spawn_run(argv, &so, &r, &e), 0, "%s", e.msg);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, " ssh other n1 -- xl list\n"), "%s", r.out);
	cr_expect(strstr(r.out, " console other g9 --log\n"), "%s", r.out);
	cr_expect(!strstr(r.out, "h1") && !strstr(r.out, "web1"), "%s", r.out);
	spawn_result_free(&r);
}
