/* The agent's pure half: request decoding, responses, dispatch, argument
 * checks and the parsers of xl/LVM output (captured from a bookworm dom0). */
#include <criterion/criterion.h>
#include <string.h>

#include "args.h"
#include "parse.h"
#include "proto.h"
#include "util.h"

static struct json_object *parse_resp(const char *line)
{
	size_t n = strlen(line);
	struct json_object *o;

	cr_assert(n > 0 && line[n - 1] == '\n', "response must end with a newline: %s", line);
	cr_assert(memchr(line, '\n', n - 1) == NULL, "response must be one line: %s", line);
	o = json_tokener_parse(line);
	cr_assert_not_null(o, "response is not JSON: %s", line);
	return o;
}

static struct json_object *get(struct json_object *o, const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;

	for (char *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

static const char *get_str(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);

	return v ? json_object_get_string(v) : NULL;
}

static int decode(const char *line, struct agent_req *req, struct xerr *e)
{
	return agent_req_decode(line, strlen(line), req, e);
}

Test(agent_proto, decodes_a_valid_request)
{
	struct agent_req req;
	struct xerr e = { 0 };
	struct json_object *v;

	cr_assert_eq(decode("{\"v\":1,\"id\":42,\"op\":\"storage.lvs\",\"args\":{\"vg\":\"xlab\"}}",
			    &req, &e), 0, "%s", e.msg);
	cr_assert_eq(req.id, 42);
	cr_assert_str_eq(req.op, "storage.lvs");
	cr_assert(json_object_object_get_ex(req.args, "vg", &v));
	cr_assert_str_eq(json_object_get_string(v), "xlab");
	agent_req_free(&req);
}

Test(agent_proto, missing_or_null_args_is_an_empty_object)
{
	const char *lines[] = { "{\"v\":1,\"id\":0,\"op\":\"hello\"}",
				"{\"v\":1,\"id\":0,\"op\":\"hello\",\"args\":null}  \r" };

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct agent_req req;
		struct xerr e = { 0 };

		cr_assert_eq(decode(lines[i], &req, &e), 0, "%s: %s", lines[i], e.msg);
		cr_assert(json_object_is_type(req.args, json_type_object));
		cr_assert_eq(json_object_object_length(req.args), 0);
		agent_req_free(&req);
	}
}

Test(agent_proto, rejects_bad_requests_with_eproto)
{
	static const char *const bad[] = {
		"",
		"not json",
		"{\"v\":1,\"id\":1,\"op\":\"hello\"",       /* cut short */
		"{\"v\":1,\"id\":1,\"op\":\"hello\"} x",    /* trailing data */
		"{'v':1,'id':1,'op':'hello'}",              /* not strict JSON */
		"[1,2,3]",
		"\"hello\"",
		"{\"id\":1,\"op\":\"hello\"}",              /* no v */
		"{\"v\":2,\"id\":1,\"op\":\"hello\"}",      /* wrong v */
		"{\"v\":\"1\",\"id\":1,\"op\":\"hello\"}",  /* v a string */
		"{\"v\":1,\"op\":\"hello\"}",               /* no id */
		"{\"v\":1,\"id\":-1,\"op\":\"hello\"}",
		"{\"v\":1,\"id\":1.5,\"op\":\"hello\"}",
		"{\"v\":1,\"id\":9007199254740992,\"op\":\"hello\"}",
		"{\"v\":1,\"id\":99999999999999999999999999,\"op\":\"hello\"}",
		"{\"v\":1,\"id\":1}",                       /* no op */
		"{\"v\":1,\"id\":1,\"op\":7}",
		"{\"v\":1,\"id\":1,\"op\":\"\"}",
		"{\"v\":1,\"id\":1,\"op\":\"Hello World\"}",
		"{\"v\":1,\"id\":1,\"op\":\"he\\u0000llo\"}",
		"{\"v\":1,\"id\":1,\"op\":\"hello\",\"args\":[]}",
		"{\"v\":1,\"id\":1,\"op\":\"hello\",\"args\":\"x\"}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct agent_req req;
		struct xerr e = { 0 };

		cr_assert_eq(decode(bad[i], &req, &e), -1, "accepted: %s", bad[i]);
		cr_assert_eq(e.kind, XERR_PROTO, "%s", bad[i]);
		cr_assert_null(req.args);
		cr_assert(e.msg[0], "no message for %s", bad[i]);
	}
}

Test(agent_proto, keeps_the_id_of_a_request_it_rejects)
{
	struct agent_req req;
	struct xerr e = { 0 };

	cr_assert_eq(decode("{\"v\":9,\"id\":17,\"op\":\"hello\"}", &req, &e), -1);
	cr_assert_eq(req.id, 17);
	cr_assert_eq(decode("{\"v\":1,\"id\":\"17\",\"op\":\"hello\"}", &req, &e), -1);
	cr_assert_eq(req.id, -1);
}

Test(agent_proto, refuses_lines_over_one_mib)
{
	size_t n = AGENT_LINE_MAX + 1;
	char *line = xmalloc(n);
	struct agent_req req;
	struct xerr e = { 0 };

	memset(line, ' ', n);
	memcpy(line, "{\"v\":1,\"id\":1,\"op\":\"hello\"}", 27);
	cr_assert_eq(agent_req_decode(line, n, &req, &e), -1);
	cr_assert_eq(e.kind, XERR_PROTO);
	cr_assert(strstr(e.msg, "longer"), "%s", e.msg);
	/* Exactly at the limit is fine. */
	cr_assert_eq(agent_req_decode(line, n - 1, &req, &e), 0, "%s", e.msg);
	agent_req_free(&req);
	free(line);
}

Test(agent_proto, responses_are_single_lines)
{
	_cleanup_free_ char *ok = NULL, *err = NULL, *anon = NULL;
	struct json_object *r = json_object_new_object(), *o;

	json_object_object_add(r, "text", json_object_new_string("two\nlines"));
	ok = agent_resp_ok(5, r);
	o = parse_resp(ok);
	cr_assert_eq(json_object_get_int(get(o, "v")), 1);
	cr_assert_eq(json_object_get_int(get(o, "id")), 5);
	cr_assert(json_object_get_boolean(get(o, "ok")));
	cr_assert_str_eq(get_str(o, "result.text"), "two\nlines");
	json_object_put(o);

	err = agent_resp_err(6, XERR_TIMEOUT, "waited\nlong");
	o = parse_resp(err);
	cr_assert(!json_object_get_boolean(get(o, "ok")));
	cr_assert_str_eq(get_str(o, "error.code"), "etimeout");
	cr_assert_str_eq(get_str(o, "error.message"), "waited\nlong");
	json_object_put(o);

	anon = agent_resp_err(-1, XERR_PROTO, "bad");
	o = parse_resp(anon);
	cr_assert(json_object_object_get_ex(o, "id", NULL));
	cr_assert_null(get(o, "id"), "an unknown id is null");
	json_object_put(o);
}

Test(agent_proto, error_code_names)
{
	cr_assert_str_eq(agent_errc_name(XERR_USAGE), "einval");
	cr_assert_str_eq(agent_errc_name(XERR_NOTFOUND), "enoent");
	cr_assert_str_eq(agent_errc_name(XERR_FAIL), "efail");
	cr_assert_str_eq(agent_errc_name(XERR_PROTO), "eproto");
	cr_assert_str_eq(agent_errc_name(XERR_TIMEOUT), "etimeout");
	cr_assert_str_eq(agent_errc_name(XERR_NONE), "efail");
	cr_assert_str_eq(agent_errc_name((enum xerr_kind)999), "efail");
	/* A kind with no wire name of its own (the controller's) reads as efail. */
	cr_assert_str_eq(agent_errc_name(XERR_REMOTE), "efail");
}

/* Every kind that has a wire name comes back as itself on the other side. */
Test(agent_proto, error_codes_round_trip)
{
	for (int k = XERR_FAIL; k <= XERR_KIND_MAX; k++) {
		if (k == XERR_REMOTE)
			continue;
		cr_assert_eq(agent_errc_kind(agent_errc_name(k)), (enum xerr_kind)k, "%s",
			     xerr_kind_name(k));
	}
	cr_assert_eq(agent_errc_kind("enosuch"), XERR_FAIL);
	cr_assert_eq(agent_errc_kind(""), XERR_FAIL);
}

/* A test op table: "run" echoes its args, "facts" fails with enoent. */
static int op_echo(struct json_object *args, struct json_object **result, struct xerr *e)
{
	(void)e;
	*result = json_object_get(args);
	return 0;
}

static int op_fail(struct json_object *args, struct json_object **result, struct xerr *e)
{
	(void)args;
	*result = json_object_new_object(); /* dropped on failure, without a leak */
	return xerr_set(e, XERR_NOTFOUND, "no such thing");
}

/* Two real op names carry the test's functions; the rest stay unanswered. */
static const agent_op_fn test_ops[AGENT_OP_COUNT] = {
	[AGENT_OP_RUN] = op_echo,
	[AGENT_OP_FACTS] = op_fail,
};

static struct json_object *dispatch(const char *line)
{
	_cleanup_free_ char *resp = agent_dispatch(test_ops, line,
						   strlen(line));

	return parse_resp(resp);
}

Test(agent_dispatch, runs_the_named_op)
{
	struct json_object *o = dispatch("{\"v\":1,\"id\":3,\"op\":\"run\",\"args\":{\"a\":[1,2]}}");

	cr_assert(json_object_get_boolean(get(o, "ok")));
	cr_assert_eq(json_object_get_int(get(o, "id")), 3);
	cr_assert_eq(json_object_array_length(get(o, "result.a")), 2);
	json_object_put(o);
}

Test(agent_dispatch, op_failure_is_an_error_response)
{
	struct json_object *o = dispatch("{\"v\":1,\"id\":4,\"op\":\"facts\"}");

	cr_assert(!json_object_get_boolean(get(o, "ok")));
	cr_assert_eq(json_object_get_int(get(o, "id")), 4);
	cr_assert_str_eq(get_str(o, "error.code"), "enoent");
	cr_assert_str_eq(get_str(o, "error.message"), "no such thing");
	json_object_put(o);
}

Test(agent_dispatch, unknown_op_is_eproto_with_the_id)
{
	struct json_object *o = dispatch("{\"v\":1,\"id\":8,\"op\":\"guest.fly\"}");

	cr_assert(!json_object_get_boolean(get(o, "ok")));
	cr_assert_eq(json_object_get_int(get(o, "id")), 8);
	cr_assert_str_eq(get_str(o, "error.code"), "eproto");
	cr_assert(strstr(get_str(o, "error.message"), "guest.fly"));
	json_object_put(o);
}

Test(agent_dispatch, an_op_this_agent_lacks_is_unknown)
{
	struct json_object *o = dispatch("{\"v\":1,\"id\":9,\"op\":\"guest.migrate\"}");

	cr_assert_str_eq(get_str(o, "error.code"), "eproto");
	json_object_put(o);
}

Test(agent_dispatch, malformed_line_is_eproto_with_null_id)
{
	struct json_object *o = dispatch("{\"v\":1,\"id\":");

	cr_assert(!json_object_get_boolean(get(o, "ok")));
	cr_assert_null(get(o, "id"));
	cr_assert_str_eq(get_str(o, "error.code"), "eproto");
	json_object_put(o);
}

Test(agent_args, names_devices_serials)
{
	cr_assert(agent_name_valid("web1"));
	cr_assert(agent_name_valid("xlab_vg.0+a-b"));
	cr_assert(!agent_name_valid(""));
	cr_assert(!agent_name_valid("-rf"));
	cr_assert(!agent_name_valid(".."));
	cr_assert(!agent_name_valid("a/b"));
	cr_assert(!agent_name_valid("a b"));
	cr_assert(!agent_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	cr_assert(agent_dev_valid("/dev/vdb"));
	cr_assert(agent_dev_valid("/dev/mapper/x-y"));
	cr_assert(!agent_dev_valid("/dev/"));
	cr_assert(!agent_dev_valid("/dev/../etc/passwd"));
	cr_assert(!agent_dev_valid("/etc/passwd"));
	cr_assert(!agent_dev_valid("/dev//vdb"));
	cr_assert(!agent_dev_valid("/dev/vd b"));
	cr_assert(agent_serial_valid("xlab-extra1"));
	cr_assert(!agent_serial_valid("a/b"));
	cr_assert(!agent_serial_valid(""));
}

Test(agent_args, typed_arguments)
{
	struct json_object *a = json_tokener_parse(
		"{\"s\":\"x\",\"n\":5,\"big\":18446744073709551615,\"neg\":-1,\"b\":true,"
		"\"v\":[\"a\",\"b\"],\"bad\":[\"a\",1],\"nul\":\"a\\u0000b\",\"dev\":\"/dev/vdc\"}");
	_cleanup_strv_ char **v = NULL;
	struct xerr e = { 0 };
	const char *s;
	int64_t n;
	bool b;

	cr_assert_eq(arg_str(a, "s", true, &s, &e), 0);
	cr_assert_str_eq(s, "x");
	cr_assert_eq(arg_str(a, "missing", false, &s, &e), 0);
	cr_assert_null(s);
	cr_assert_eq(arg_str(a, "missing", true, &s, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert_eq(arg_str(a, "n", true, &s, &e), -1);
	cr_assert_eq(arg_str(a, "nul", true, &s, &e), -1, "embedded NUL refused");
	cr_assert_eq(arg_int(a, "n", true, 0, 1, 10, &n, &e), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(arg_int(a, "n", true, 0, 6, 10, &n, &e), -1);
	cr_assert_eq(arg_int(a, "big", true, 0, 0, INT64_MAX - 1, &n, &e), -1);
	cr_assert_eq(arg_int(a, "neg", true, 0, 0, 10, &n, &e), -1);
	cr_assert_eq(arg_int(a, "missing", false, 7, 0, 10, &n, &e), 0);
	cr_assert_eq(n, 7);
	cr_assert_eq(arg_bool(a, "b", false, &b, &e), 0);
	cr_assert(b);
	cr_assert_eq(arg_bool(a, "n", false, &b, &e), -1);
	cr_assert_eq(arg_strv(a, "v", true, 8, &v, &e), 0);
	cr_assert_eq(strv_len(v), 2);
	cr_assert_str_eq(v[1], "b");
	strv_free(v);
	v = NULL;
	cr_assert_eq(arg_strv(a, "v", true, 1, &v, &e), -1, "too many entries");
	cr_assert_eq(arg_strv(a, "bad", true, 8, &v, &e), -1);
	cr_assert_eq(arg_strv(a, "missing", false, 8, &v, &e), 0);
	cr_assert_eq(strv_len(v), 0);
	cr_assert_eq(arg_dev(a, "dev", &s, &e), 0);
	cr_assert_eq(arg_name(a, "dev", &s, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	json_object_put(a);
}

static const char xl_info_out[] =
	"host                   : dom0\n"
	"release                : 6.1.0-21-amd64\n"
	"version                : #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)\n"
	"machine                : x86_64\n"
	"nr_cpus                : 2\n"
	"max_cpu_id             : 1\n"
	"virt_caps              : pv hvm hap shadow\n"
	"total_memory           : 4095\n"
	"free_memory            : 2863\n"
	"xen_major              : 4\n"
	"xen_minor              : 17\n"
	"xen_extra              : .3-pre\n"
	"xen_version            : 4.17.3-pre\n"
	"xen_caps               : xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 \n"
	"xen_scheduler          : credit2\n"
	"xen_changeset          : \n"
	"xen_commandline        : placeholder dom0_mem=1024M,max:1024M\n";

Test(agent_parse, xl_info)
{
	struct json_object *o;
	struct xerr e = { 0 };

	cr_assert_eq(xl_info_parse(xl_info_out, &o, &e), 0, "%s", e.msg);
	cr_assert_str_eq(get_str(o, "xen_version"), "4.17.3-pre");
	cr_assert_str_eq(get_str(o, "xen_caps"),
			 "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
	cr_assert_eq(json_object_get_int64(get(o, "total_memory")), 4095);
	cr_assert_eq(json_object_get_int64(get(o, "free_memory")), 2863);
	cr_assert_eq(json_object_get_int64(get(o, "nr_cpus")), 2);
	json_object_put(o);
	cr_assert_eq(xl_info_parse("host : x\n", &o, &e), -1);
	cr_assert_eq(xl_info_parse("xen_major : 4\nxen_minor : 17\nnr_cpus : two\n", &o, &e), -1);
}

static const char vgs_out[] =
	"  {\n"
	"      \"report\": [\n"
	"          {\n"
	"              \"vg\": [\n"
	"                  {\"vg_name\":\"xlab\", \"vg_size\":\"21470642176\", "
	"\"vg_free\":\"20397948928\", \"pv_count\":\"2\", \"lv_count\":\"1\"}\n"
	"              ]\n"
	"          }\n"
	"      ]\n"
	"  }\n";

static const char pvs_out[] =
	"  {\n"
	"      \"report\": [\n"
	"          {\n"
	"              \"pv\": [\n"
	"                  {\"pv_name\":\"/dev/vdb\", \"vg_name\":\"xlab\", \"pv_size\":\"10733223936\", "
	"\"pv_free\":\"9659482112\", \"pv_used\":\"1073741824\"},\n"
	"                  {\"pv_name\":\"/dev/vdc\", \"vg_name\":\"\", \"pv_size\":\"10737418240\", "
	"\"pv_free\":\"10737418240\", \"pv_used\":\"0\"}\n"
	"              ]\n"
	"          }\n"
	"      ]\n"
	"  }\n";

Test(agent_parse, lvm_reports)
{
	struct json_object *rows, *r;
	struct xerr e = { 0 };

	cr_assert_eq(lvm_report_parse(vgs_out, "vg", &rows, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(rows), 1);
	r = json_object_array_get_idx(rows, 0);
	cr_assert_str_eq(get_str(r, "vg_name"), "xlab");
	cr_assert(json_object_is_type(get(r, "vg_size"), json_type_int));
	cr_assert_eq(json_object_get_int64(get(r, "vg_size")), 21470642176LL);
	cr_assert_eq(json_object_get_int64(get(r, "pv_count")), 2);
	json_object_put(rows);

	cr_assert_eq(lvm_report_parse(pvs_out, "pv", &rows, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(rows), 2);
	r = json_object_array_get_idx(rows, 1);
	cr_assert_str_eq(get_str(r, "pv_name"), "/dev/vdc");
	cr_assert_str_eq(get_str(r, "vg_name"), "");
	cr_assert_eq(json_object_get_int64(get(r, "pv_used")), 0);
	json_object_put(rows);

	/* No rows of that kind: an empty list, not an error. */
	cr_assert_eq(lvm_report_parse(vgs_out, "lv", &rows, &e), 0);
	cr_assert_eq(json_object_array_length(rows), 0);
	json_object_put(rows);
	cr_assert_eq(lvm_report_parse("  WARNING: nothing\n", "vg", &rows, &e), -1);
}

static const char xl_list_out[] =
	"Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	"Domain-0                                     0  1024     2     r-----      35.2\n"
	"web1                                         1   128     1     -b----       2.1\n"
	"db1                                          2   255     2     --p---       0.0\n";

static const char xl_list_long_out[] =
	"[\n"
	"    {\n"
	"        \"domid\": 0,\n"
	"        \"config\": {\n"
	"            \"c_info\": { \"type\": \"pv\", \"name\": \"Domain-0\" },\n"
	"            \"b_info\": { \"max_memkb\": 1048576, \"target_memkb\": 1048576 }\n"
	"        }\n"
	"    },\n"
	"    {\n"
	"        \"domid\": 2,\n"
	"        \"config\": {\n"
	"            \"c_info\": { \"type\": \"pvh\", \"name\": \"db1\" },\n"
	"            \"b_info\": { \"max_vcpus\": 2, \"max_memkb\": 262144, "
	"\"target_memkb\": 262144 }\n"
	"        }\n"
	"    }\n"
	"]\n";

Test(agent_parse, xl_list_plain_and_long)
{
	struct json_object *list, *r;
	struct xerr e = { 0 };

	cr_assert_eq(xl_list_parse(xl_list_out, &list, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(list), 3);
	r = json_object_array_get_idx(list, 1);
	cr_assert_str_eq(get_str(r, "name"), "web1");
	cr_assert_eq(json_object_get_int64(get(r, "domid")), 1);
	cr_assert_eq(json_object_get_int64(get(r, "memory_kib")), 128 * 1024);
	cr_assert_eq(json_object_get_int64(get(r, "vcpus")), 1);
	cr_assert_str_eq(get_str(r, "state"), "-b----");

	cr_assert_eq(xl_list_long_merge(list, xl_list_long_out, &e), 0, "%s", e.msg);
	r = json_object_array_get_idx(list, 2);
	cr_assert_str_eq(get_str(r, "name"), "db1");
	cr_assert_eq(json_object_get_int64(get(r, "memory_kib")), 262144);
	r = json_object_array_get_idx(list, 1);
	cr_assert_eq(json_object_get_int64(get(r, "memory_kib")), 128 * 1024, "untouched");
	cr_assert_eq(xl_list_long_merge(list, "oops", &e), -1);
	json_object_put(list);

	cr_assert_eq(xl_list_parse("", &list, &e), -1);
	cr_assert_eq(xl_list_parse("Name ID Mem VCPUs State Time(s)\ngarbage\n", &list, &e), 0);
	cr_assert_eq(json_object_array_length(list), 0);
	json_object_put(list);
}

/* Op names: each spelled once, each found again by its name. */
Test(agent_ops, names_are_unique_and_found)
{
	for (int i = 0; i < AGENT_OP_COUNT; i++) {
		cr_assert_eq(agent_op_lookup(agent_op_name(i)), i, "%s", agent_op_name(i));
		for (int j = i + 1; j < AGENT_OP_COUNT; j++)
			cr_assert_str_neq(agent_op_name(i), agent_op_name(j));
	}
	cr_assert_eq(agent_op_lookup("guest.fly"), -1);
	cr_assert_str_eq(agent_op_name(AGENT_OP_COUNT), "?");
}

/* The controller's request goes through the agent's decoder, the agent's
 * answer through the controller's: one codec, both ends. */
Test(agent_codec, request_and_answer_round_trip)
{
	struct json_object *args = json_object_new_object(), *res = NULL;
	struct agent_req req;
	struct xerr e = { 0 };
	_cleanup_free_ char *line = NULL, *ok = NULL, *bad = NULL;

	json_object_object_add(args, "name", json_object_new_string("web1"));
	line = agent_req_encode(41, AGENT_OP_GUEST_CREATE, args);
	cr_assert_eq(line[strlen(line) - 1], '\n');
	cr_assert_eq(agent_req_decode(line, strlen(line) - 1, &req, &e), 0, "%s", e.msg);
	cr_assert_eq(req.id, 41);
	cr_assert_str_eq(req.op, "guest.create");
	cr_assert_str_eq(get_str(req.args, "name"), "web1");
	agent_req_free(&req);

	ok = agent_resp_ok(41, json_object_new_object());
	cr_assert_eq(agent_resp_decode(ok, strlen(ok) - 1, 41, &res, &e), 0, "%s", e.msg);
	cr_assert(json_object_is_type(res, json_type_object));
	json_object_put(res);

	bad = agent_resp_err(41, XERR_NOTFOUND, "no guest web1");
	cr_assert_eq(agent_resp_decode(bad, strlen(bad) - 1, 41, &res, &e), -1);
	cr_assert_eq(e.kind, XERR_REMOTE);
	cr_assert_eq(e.remote, XERR_NOTFOUND);
	cr_assert_str_eq(e.msg, "no guest web1");
	cr_assert_null(res);
}

/* Strict on the controller's side too: no answer is taken for ours unless it
 * is whole, of this version, and for this request. */
Test(agent_codec, controller_refuses_malformed_answers)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"v\":1,\"id\":7,\"ok\":true,\"result\":{}} trailing",
		"{\"v\":2,\"id\":7,\"ok\":true,\"result\":{}}",
		"{\"id\":7,\"ok\":true,\"result\":{}}",
		"{\"v\":1,\"ok\":true,\"result\":{}}",
		"{\"v\":1,\"id\":null,\"ok\":true,\"result\":{}}",
		"{\"v\":1,\"id\":8,\"ok\":true,\"result\":{}}",
		"{\"v\":1,\"id\":7,\"ok\":1,\"result\":{}}",
		"{\"v\":1,\"id\":7,\"ok\":true}",
		"{\"v\":1,\"id\":7,\"ok\":true,\"result\":[]}",
		"{\"v\":1,\"id\":7,\"ok\":false}",
		"{\"v\":1,\"id\":7,\"ok\":false,\"error\":{\"code\":\"enoent\"}}",
		"{\"v\":1,\"id\":7,\"ok\":false,\"error\":\"enoent\"}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *res = NULL;
		struct xerr e = { 0 };

		cr_assert_eq(agent_resp_decode(bad[i], strlen(bad[i]), 7, &res, &e), -1, "%s",
			     bad[i]);
		cr_assert_eq(e.kind, XERR_PROTO, "%s: %s", bad[i], xerr_kind_name(e.kind));
		cr_assert_null(res);
	}
}

/* The agent's answer to a request it could not read has no id: the
 * controller says what the agent said, as a protocol error. */
Test(agent_codec, an_unread_request_is_reported_with_the_agents_words)
{
	_cleanup_free_ char *line = agent_resp_err(-1, XERR_PROTO, "request needs a string \"op\"");
	struct json_object *res = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(agent_resp_decode(line, strlen(line) - 1, 3, &res, &e), -1);
	cr_assert_eq(e.kind, XERR_PROTO);
	cr_assert(strstr(e.msg, "could not read request 3"), "%s", e.msg);
	cr_assert(strstr(e.msg, "needs a string"), "%s", e.msg);
}
