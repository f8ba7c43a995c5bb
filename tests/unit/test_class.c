/* xlab class, the pure part: copy names, the students' CSV, subnets across
 * copies, the fit check (and its refusal), copies' specs, the sheet. */
#include <criterion/criterion.h>
#include <string.h>

#include "class.h"
#include "class_run.h"
#include "class_sheet.h"
#include "db.h"
#include "lab.h"
#include "scratch.h"
#include "sha256.h"
#include "subnet.h"
#include "util.h"

Test(class, numbered_names_are_zero_padded)
{
	char out[SPEC_NAME_MAX + 1];
	struct xerr e = { 0 };

	cr_assert_eq(class_copy_name("class", 1, 2, NULL, out, &e), 0);
	cr_assert_str_eq(out, "class-01");
	cr_assert_eq(class_copy_name("class", 12, 12, NULL, out, &e), 0);
	cr_assert_str_eq(out, "class-12");
	cr_assert_eq(class_copy_name("class", 7, 120, NULL, out, &e), 0);
	cr_assert_str_eq(out, "class-007");
	cr_assert_eq(class_copy_name("demo", 1, 1, "alice", out, &e), 0);
	cr_assert_str_eq(out, "demo-alice");
}

Test(class, too_long_name_is_refused)
{
	char out[SPEC_NAME_MAX + 1];
	struct xerr e = { 0 };
	char student[61];

	memset(student, 'a', 60);
	student[60] = '\0';
	cr_assert_eq(class_copy_name("demo", 1, 1, student, out, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert(strstr(e.msg, "not a DNS label"), "%s", e.msg);
}

Test(class, copies_make_numbered_and_by_student)
{
	struct class_copy *v = NULL;
	size_t n = 0;
	struct xerr e = { 0 };
	char *students[] = { "ann", "bob", NULL };

	cr_assert_eq(class_copies_make("class", 3, NULL, &v, &n, &e), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(v[2].lab, "class-03");
	cr_assert_eq(v[2].idx, 3);
	cr_assert_null(v[0].student);
	class_copies_free(v, n);

	cr_assert_eq(class_copies_make("class", 0, students, &v, &n, &e), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[1].lab, "class-bob");
	cr_assert_str_eq(v[1].student, "bob");
	class_copies_free(v, n);

	cr_assert_eq(class_copies_make("class", 3, students, &v, &n, &e), -1);
	cr_assert(strstr(e.msg, "--copies 3"), "%s", e.msg);
	cr_assert_eq(class_copies_make("class", 0, NULL, &v, &n, &e), -1);
	cr_assert_eq(class_copies_make("class", 1000, NULL, &v, &n, &e), -1);
}

Test(class, csv_first_column_header_comments_quotes)
{
	const char *csv = "name,email\n"
			  "Alice,alice@example.org\n"
			  "\n"
			  "# late joiners\n"
			  "  bob  ; x\n"
			  "\"carol-2\",\"c@x\"\r\n";
	char **names = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(class_students_parse("s.csv", csv, strlen(csv), &names, &e), 0, "%s",
		     e.msg);
	cr_assert_eq(strv_len(names), 3);
	cr_assert_str_eq(names[0], "alice");
	cr_assert_str_eq(names[1], "bob");
	cr_assert_str_eq(names[2], "carol-2");
	strv_free(names);
}

Test(class, csv_refuses_bad_and_duplicate_names)
{
	char **names = NULL;
	struct xerr e = { 0 };
	const char *bad = "ann\nbob smith\n";
	const char *dup = "ann\nbob\nANN\n";

	cr_assert_eq(class_students_parse("s.csv", bad, strlen(bad), &names, &e), -1);
	cr_assert(strstr(e.msg, "s.csv:2:"), "%s", e.msg);
	cr_assert(strstr(e.msg, "DNS label"), "%s", e.msg);
	cr_assert_eq(class_students_parse("s.csv", dup, strlen(dup), &names, &e), -1);
	cr_assert(strstr(e.msg, "s.csv:3: student 'ann' is listed twice"), "%s", e.msg);
	cr_assert_eq(class_students_parse("s.csv", "# none\n", 7, &names, &e), -1);
	cr_assert(strstr(e.msg, "no student names"), "%s", e.msg);
}

Test(class, subnets_never_overlap_copies_or_other_labs)
{
	struct class_copy *v = NULL;
	size_t n = 0;
	struct xerr e = { 0 };
	char *used[2];
	struct cidr c[8], u;

	cr_assert_eq(class_copies_make("class", 8, NULL, &v, &n, &e), 0);
	/* Whatever the first choices are, make two of them taken already. */
	cr_assert_eq(subnet_allocate(v[0].lab, NULL, 0, (char[20]){ 0 }, &e), 0);
	used[0] = xstrdup("10.90.0.0/17"); /* half the pool */
	used[1] = NULL;
	snprintf(v[3].subnet, sizeof(v[3].subnet), "10.90.200.0/24"); /* kept */
	cr_assert_eq(class_subnets_allocate(v, n, used, 1, &e), 0, "%s", e.msg);
	cr_assert_str_eq(v[3].subnet, "10.90.200.0/24");
	cr_assert_eq(cidr_parse(used[0], &u, &e), 0);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(cidr_parse(v[i].subnet, &c[i], &e), 0, "%s", v[i].subnet);
		cr_assert_eq(c[i].prefix, 24);
		cr_assert_not(cidr_overlap(&c[i], &u), "%s overlaps %s", v[i].subnet, used[0]);
		for (size_t j = 0; j < i; j++)
			cr_assert_not(cidr_overlap(&c[i], &c[j]), "%s and %s", v[i].subnet,
				      v[j].subnet);
	}
	free(used[0]);
	class_copies_free(v, n);
}

Test(class, subnets_run_out)
{
	struct class_copy *v = NULL;
	size_t n = 0;
	struct xerr e = { 0 };
	char *used[] = { "10.90.0.0/16", NULL };

	cr_assert_eq(class_copies_make("class", 2, NULL, &v, &n, &e), 0);
	cr_assert_eq(class_subnets_allocate(v, n, used, 1, &e), -1);
	cr_assert(strstr(e.msg, "class-01"), "%s", e.msg);
	class_copies_free(v, n);
}

Test(class, copy_find_by_number_student_or_lab)
{
	struct class_copy *v = NULL;
	size_t n = 0, i = 99;
	struct xerr e = { 0 };
	char *students[] = { "ann", "bob", NULL };

	cr_assert_eq(class_copies_make("demo", 0, students, &v, &n, &e), 0);
	cr_assert_eq(class_copy_find(v, n, "02", &i, &e), 0);
	cr_assert_eq(i, 1);
	cr_assert_eq(class_copy_find(v, n, "1", &i, &e), 0);
	cr_assert_eq(i, 0);
	cr_assert_eq(class_copy_find(v, n, "bob", &i, &e), 0);
	cr_assert_eq(i, 1);
	cr_assert_eq(class_copy_find(v, n, "demo-ann", &i, &e), 0);
	cr_assert_eq(i, 0);
	cr_assert_eq(class_copy_find(v, n, "3", &i, &e), -1);
	cr_assert_eq(class_copy_find(v, n, "", &i, &e), -1);
	class_copies_free(v, n);
}

Test(class, fit_check_accepts_and_refuses_with_figures)
{
	struct class_fit f = {
		.want = 4,
		.mem_per_copy = 1536ull << 20,
		.mem_avail = 8ull << 30,
		.disk_per_copy = 512ull << 20,
		.disk_free = 100ull << 30,
	};
	struct xerr e = { 0 };

	cr_assert_eq(class_fit_check(&f, false, &e), 0);
	cr_assert_eq(f.max_fit, 5); /* 8G / 1.5G */

	f.want = 12;
	cr_assert_eq(class_fit_check(&f, false, &e), -1);
	cr_assert_eq(e.kind, XERR_FAIL);
	cr_assert(strstr(e.msg, "12 copies do not fit"), "%s", e.msg);
	cr_assert(strstr(e.msg, "memory: 12 x 1536M = 18G needed, 8G available"), "%s", e.msg);
	cr_assert(strstr(e.msg, "at most 5 fit"), "%s", e.msg);
	cr_assert_null(strstr(e.msg, "disk:"), "%s", e.msg);

	xerr_clear(&e);
	cr_assert_eq(class_fit_check(&f, true, &e), 0); /* --overcommit */

	f.want = 3;
	f.disk_free = 1ull << 30; /* 2 copies of disk */
	cr_assert_eq(class_fit_check(&f, false, &e), -1);
	cr_assert(strstr(e.msg, "disk: 3 x 512M = 1536M needed, 1G free"), "%s", e.msg);
	cr_assert(strstr(e.msg, "at most 2 fit"), "%s", e.msg);
}

Test(class, meminfo_available)
{
	const char *mi = "MemTotal:       24683520 kB\nMemFree:        18867000 kB\n"
			 "MemAvailable:   21922000 kB\nBuffers:          1000 kB\n";

	cr_assert_eq(class_meminfo_available(mi), 21922000ull * 1024);
	cr_assert_eq(class_meminfo_available("MemTotal: 1 kB\n"), 0);
}

static const char spec_text[] = "lab: class\n"
				"xen: \"4.17\"\n"
				"class: {copies: 2, students: students.csv}\n"
				"hosts:\n"
				"  - name: h1\n"
				"    memory: 1536M\n"
				"    dom0_mem: 768M\n"
				"    data_disk: 2G\n";

Test(class, spec_block_and_copy_spec)
{
	struct spec *base = NULL, *s = NULL;
	struct xerr e = { 0 };
	struct class_copy c = { .idx = 2, .lab = "class-02", .subnet = "10.90.7.0/24" };

	cr_assert_eq(spec_load_buffer("c.yaml", spec_text, strlen(spec_text), &base, NULL, &e), 0,
		     "%s", e.msg);
	cr_assert_eq(base->class_copies, 2);
	cr_assert_str_eq(base->class_students, "students.csv");
	cr_assert_eq(class_spec_memory(base), 1536ull << 20);
	/* The start snapshot keeps the host's memory in its disks. */
	cr_assert_eq(class_spec_disk(base), CLASS_DISK_PER_HOST + (1536ull << 20));
	cr_assert_eq(class_spec_copy("c.yaml", spec_text, strlen(spec_text), &c, &s, &e), 0,
		     "%s", e.msg);
	cr_assert_str_eq(s->lab, "class-02");
	cr_assert_str_eq(s->subnet, "10.90.7.0/24");
	cr_assert_eq(s->net_addr, (10u << 24) | (90u << 16) | (7u << 8));
	cr_assert_eq(s->net_prefix, 24);
	spec_free(s);
	spec_free(base);
}

Test(class, copy_spec_refuses_explicit_ip)
{
	const char *t = "lab: class\nxen: \"4.17\"\nnetwork: {subnet: 10.80.0.0/24}\n"
			"hosts:\n  - name: h1\n    ip: 10.80.0.10\n";
	struct class_copy c = { .idx = 1, .lab = "class-01", .subnet = "10.90.7.0/24" };
	struct spec *s = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(class_spec_copy("c.yaml", t, strlen(t), &c, &s, &e), -1);
	cr_assert(strstr(e.msg, "host 'h1' has an explicit ip"), "%s", e.msg);
}

Test(class, bad_class_block_is_a_spec_error)
{
	const char *t = "lab: class\nxen: \"4.17\"\nclass: {copies: 0, pupils: x}\n"
			"hosts:\n  - name: h1\n";
	struct spec *s = NULL;
	struct spec_diags d = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(spec_load_buffer("c.yaml", t, strlen(t), &s, &d, &e), -1);
	cr_assert_geq(d.n, 2);
	spec_diags_free(&d);
}

static const struct sheet_host hosts1[] = { { "h1", "10.90.1.10", 5901 } };
static const struct sheet_host hosts2[] = { { "h1", "10.90.2.10", 5902 } };
static const struct sheet_copy copies[] = {
	{ "class-01", "ann", "/var/lib/xlab/labs/class-01/id_ed25519",
	  "/var/lib/xlab/labs/class-01/known_hosts", hosts1, 1 },
	{ "class-02", "bob<&>", "/var/lib/xlab/labs/class-02/id_ed25519",
	  "/var/lib/xlab/labs/class-02/known_hosts", hosts2, 1 },
};

Test(class, sheet_md_local_and_through_jump)
{
	struct buf b = { 0 };
	struct xerr e = { 0 };

	cr_assert_eq(class_sheet_render("class", copies, 2, SHEET_MD, NULL, &b, &e), 0);
	cr_assert(strstr(b.data, "ssh -i /var/lib/xlab/labs/class-01/id_ed25519 -o "
				 "IdentitiesOnly=yes -o UserKnownHostsFile=/var/lib/xlab/labs/"
				 "class-01/known_hosts root@10.90.1.10"),
		  "%s", b.data);
	cr_assert(strstr(b.data, "Host class-02-h1\n  HostName 10.90.2.10\n"), "%s", b.data);
	buf_free(&b);

	cr_assert_eq(class_sheet_render("class", copies, 1, SHEET_MD, "teach@srv", &b, &e), 0);
	cr_assert(strstr(b.data, "ssh -i ~/.ssh/class-01.key -o IdentitiesOnly=yes -o "
				 "StrictHostKeyChecking=accept-new -J teach@srv root@10.90.1.10"),
		  "%s", b.data);
	cr_assert(strstr(b.data, "ssh -N -L 5901:127.0.0.1:5901 teach@srv"), "%s", b.data);
	cr_assert(strstr(b.data, "ProxyJump teach@srv"), "%s", b.data);
	/* One copy's section names nothing of another's. */
	cr_assert_null(strstr(b.data, "class-02"), "%s", b.data);
	buf_free(&b);
}

Test(class, sheet_csv_and_html_escape)
{
	struct buf b = { 0 };
	struct xerr e = { 0 };
	enum sheet_format f;

	cr_assert_eq(class_sheet_render("class", copies, 2, SHEET_CSV, NULL, &b, &e), 0);
	cr_assert(!strncmp(b.data, "copy,student,host,address,key,ssh,vnc\nclass-01,ann,h1,"
				   "10.90.1.10,",
			   60),
		  "%s", b.data);
	{
		size_t lines = 0;

		for (const char *p = b.data; *p; p++)
			lines += *p == '\n';
		cr_assert_eq(lines, 3, "%s", b.data);
	}
	buf_free(&b);

	cr_assert_eq(class_sheet_render("class", copies, 2, SHEET_HTML, NULL, &b, &e), 0);
	cr_assert(strstr(b.data, "<!DOCTYPE html>"), "%s", b.data);
	cr_assert(strstr(b.data, "bob&lt;&amp;&gt;"), "%s", b.data);
	cr_assert_null(strstr(b.data, "bob<&>"), "%s", b.data);
	buf_free(&b);

	cr_assert_eq(sheet_format_parse("html", &f, &e), 0);
	cr_assert_eq(f, SHEET_HTML);
	cr_assert_eq(sheet_format_parse("pdf", &f, &e), -1);
}

/* class reset, on a scratch store and libvirt's test driver: the copy's
 * host files and rows are wiped, then its bring-up fails here (no image in
 * a scratch store), and the copy is recorded failed with the first line of
 * why; a copy the class does not have is refused and changes nothing. */
TestSuite(class_reset, .init = scratch_setup, .fini = scratch_teardown);

Test(class_reset, wipes_the_copy_then_records_why_it_failed)
{
	static const char spec[] = "lab: cls\nxen: \"4.17\"\nhosts:\n  - name: h1\n";
	_cleanup_free_ char *path = xasprintf("%s/cls.yaml", scratch_home);
	_cleanup_free_ char *hostdir = NULL, *disk = NULL;
	struct class_opts o = { .connect = "test:///default", .boot_timeout_s = 1 };
	struct db_class_copy row = { .lab = "cls-01", .class_name = "cls", .subnet = "10.90.5.0/24",
				     .state = "up", .idx = 1 };
	struct db_host h = { .lab = "cls-01", .name = "h1", .ip = "10.90.5.10", .state = "up" };
	struct db_class_copy *rows = NULL;
	struct db_host *hosts = NULL;
	struct lab_dirs d = { 0 };
	struct db *db = NULL;
	struct xerr e = { 0 };
	size_t n = 0, nh = 0;
	char hex[65];

	cr_assert_eq(file_write_atomic(path, spec, strlen(spec), 0644, &e), 0, "%s", e.msg);
	sha256_hex(spec, strlen(spec), hex);
	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_class_upsert(db, "cls", path, hex, 1, "up", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_claim(db, "cls-01", "class", &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "cls-01", path, hex, "10.90.5.0/24", "up", &e), 0);
	cr_assert_eq(db_class_copy_upsert(db, &row, &e), 0, "%s", e.msg);
	cr_assert_eq(db_host_upsert(db, &h, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_dirs_get("cls-01", &d, &e), 0, "%s", e.msg);
	hostdir = xasprintf("%s/hosts/h1", d.dir);
	disk = xasprintf("%s/root.qcow2", hostdir);
	cr_assert_eq(mkdir_p(hostdir, 0700, &e), 0, "%s", e.msg);
	cr_assert_eq(file_write_atomic(disk, "student work", 12, 0600, &e), 0, "%s", e.msg);

	cr_assert_eq(class_reset("cls", "9", &o, &e), -1, "a copy the class lacks");
	cr_assert_eq(e.kind, XERR_USAGE, "%s: %s", xerr_kind_name(e.kind), e.msg);
	cr_assert(strstr(e.msg, "no copy '9'"), "%s", e.msg);
	cr_assert(path_exists(disk), "a refused reset wiped the copy");

	memset(&e, 0, sizeof(e));
	cr_assert_eq(class_reset("cls", "1", &o, &e), -1, "a reset with no image came up");
	cr_assert(strstr(e.msg, "xen-4.17"), "%s", e.msg);
	cr_assert_not(path_exists(disk), "the copy's disk survived its reset");
	cr_assert_eq(db_hosts_list(db, "cls-01", &hosts, &nh, &e), 0, "%s", e.msg);
	cr_assert_eq(nh, 0, "the wiped host is still listed");
	cr_assert_eq(db_class_copies_list(db, "cls", &rows, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(rows[0].state, "failed");
	cr_assert(rows[0].message && strstr(rows[0].message, "xen-4.17") &&
		  !strchr(rows[0].message, '\n'), "%s", rows[0].message ? rows[0].message : "");
	db_class_copies_free(rows, n);
	db_hosts_free(hosts, nh);
	lab_dirs_free(&d);
	db_close(db);
}
