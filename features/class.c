/* A teaching class, the pure part: see class.h. */
#include "class.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subnet.h"
#include "util.h"

int class_copy_name(const char *lab, int idx, int n, const char *student,
		    char out[SPEC_NAME_MAX + 1], struct xerr *e)
{
	char buf[256];

	if (student)
		snprintf(buf, sizeof(buf), "%s-%s", lab, student);
	else
		snprintf(buf, sizeof(buf), "%s-%0*d", lab, n > 99 ? 3 : 2, idx);
	if (!spec_name_valid(buf))
		return xerr_set(e, XERR_USAGE,
				"copy name '%.80s' is not a DNS label of at most %d characters "
				"(a-z, 0-9, '-'); use a shorter lab or student name",
				buf, SPEC_NAME_MAX);
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

/* The first CSV field of a line, unquoted and trimmed, lower-cased. */
static char *first_field(const char *line, size_t len)
{
	size_t i = 0, end;
	struct buf b = { 0 };

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (i < len && line[i] == '"') {
		for (i++; i < len; i++) {
			if (line[i] == '"' && i + 1 < len && line[i + 1] == '"')
				buf_append(&b, "\"", 1), i++;
			else if (line[i] == '"')
				break;
			else
				buf_append(&b, &line[i], 1);
		}
	} else {
		for (end = i; end < len && line[end] != ',' && line[end] != ';'; end++)
			;
		while (end > i && isspace((unsigned char)line[end - 1]))
			end--;
		buf_append(&b, line + i, end - i);
	}
	if (!b.data)
		buf_puts(&b, "");
	for (char *p = b.data; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return buf_steal(&b);
}

static int student_add(const char *what, int line_no, char *name, char ***names, size_t *n,
		       size_t *cap, struct xerr *e)
{
	if (!spec_name_valid(name)) {
		xerr_set(e, XERR_USAGE,
			 "%s:%d: student name '%.80s' must be a DNS label (a-z, 0-9, '-', at "
			 "most %d characters, no '-' at either end)",
			 what, line_no, name, SPEC_NAME_MAX);
		free(name);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*names)[i], name) == 0) {
			xerr_set(e, XERR_USAGE, "%s:%d: student '%s' is listed twice", what,
				 line_no, name);
			free(name);
			return -1;
		}
	xgrow((void **)names, cap, *n + 1, sizeof(char *));
	(*names)[(*n)++] = name;
	(*names)[*n] = NULL;
	return 0;
}

int class_students_parse(const char *what, const char *data, size_t len, char ***names,
			 struct xerr *e)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	int line_no = 0;

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
		char *name = first_field(data + off, l);

		line_no++;
		off += l + 1;
		if (!*name || name[0] == '#' ||
		    (n == 0 && (!strcmp(name, "name") || !strcmp(name, "student")))) {
			free(name);
			continue;
		}
		if (student_add(what, line_no, name, &v, &n, &cap, e) < 0) {
			strv_free(v);
			return -1;
		}
	}
	if (n == 0)
		return xerr_set(e, XERR_USAGE, "%s: no student names in it", what);
	if (n > CLASS_MAX_COPIES) {
		strv_free(v);
		return xerr_set(e, XERR_USAGE, "%s: %zu students; at most %d copies", what,
				n, CLASS_MAX_COPIES);
	}
	*names = v;
	return 0;
}

int class_copies_make(const char *lab, int n, char *const *students,
		      struct class_copy **out, size_t *n_out, struct xerr *e)
{
	size_t ns = students ? strv_len(students) : 0;
	struct class_copy *v;

	if (ns && n && (size_t)n != ns)
		return xerr_set(e, XERR_USAGE,
				"--copies %d but the students' list has %zu names; give one or "
				"make them agree",
				n, ns);
	if (ns)
		n = (int)ns;
	if (n < 1 || n > CLASS_MAX_COPIES)
		return xerr_set(e, XERR_USAGE,
				"a class needs 1 to %d copies (--copies N, class.copies or a "
				"students' list)",
				CLASS_MAX_COPIES);
	v = xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++) {
		v[i].idx = i + 1;
		v[i].student = ns ? xstrdup(students[i]) : NULL;
		if (class_copy_name(lab, i + 1, n, v[i].student, v[i].lab, e) < 0) {
			class_copies_free(v, (size_t)n);
			return -1;
		}
	}
	*out = v;
	*n_out = (size_t)n;
	return 0;
}

void class_copies_free(struct class_copy *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].student);
	free(v);
}

int class_subnets_allocate(struct class_copy *v, size_t n, char *const *used, size_t n_used,
			   struct xerr *e)
{
	size_t total = n_used + n, k = n_used;
	char **all = xcalloc(total + 1, sizeof(char *));
	int rc = 0;

	for (size_t i = 0; i < n_used; i++)
		all[i] = xstrdup(used[i]);
	/* Kept subnets first: a new copy must not take one of them. */
	for (size_t i = 0; i < n; i++)
		if (v[i].subnet[0])
			all[k++] = xstrdup(v[i].subnet);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (v[i].subnet[0])
			continue;
		rc = subnet_allocate(v[i].lab, all, k, v[i].subnet, e);
		if (rc == 0)
			all[k++] = xstrdup(v[i].subnet);
		else
			xerr_prefix(e, "copy '%s'", v[i].lab);
	}
	strv_free(all);
	return rc;
}

int class_copy_find(const struct class_copy *v, size_t n, const char *sel, size_t *idx,
		    struct xerr *e)
{
	char *end;
	long num = strtol(sel, &end, 10);

	for (size_t i = 0; i < n; i++) {
		if ((*sel && !*end && num == v[i].idx) || !strcmp(sel, v[i].lab) ||
		    (v[i].student && !strcmp(sel, v[i].student))) {
			*idx = i;
			return 0;
		}
	}
	return xerr_set(e, XERR_USAGE, "no copy '%s' in the class (copies %s..%s)", sel,
			n ? v[0].lab : "?", n ? v[n - 1].lab : "?");
}

static const char *fmt_size(char buf[32], uint64_t v)
{
	size_format(v, buf, 32);
	return buf;
}

/* Sizes in messages: whole MiB reads better than "21928444K". */
static const char *fmt_mib(char buf[32], uint64_t v)
{
	if (v % (1ull << 20) == 0)
		return fmt_size(buf, v);
	snprintf(buf, 32, "%" PRIu64 "M", v >> 20);
	return buf;
}

int class_fit_check(struct class_fit *f, bool overcommit, struct xerr *e)
{
	uint64_t by_mem = f->mem_per_copy ? f->mem_avail / f->mem_per_copy : UINT64_MAX;
	uint64_t by_disk = f->disk_per_copy ? f->disk_free / f->disk_per_copy : UINT64_MAX;
	uint64_t fit = by_mem < by_disk ? by_mem : by_disk;
	char a[32], b[32], c[32], d[32], g[32], h[32];
	struct buf why = { 0 };

	f->max_fit = fit > CLASS_MAX_COPIES ? CLASS_MAX_COPIES : (int)fit;
	if (f->want <= f->max_fit || overcommit)
		return 0;
	if (by_mem < (uint64_t)f->want)
		buf_printf(&why, "\n  memory: %d x %s = %s needed, %s available (MemAvailable)",
			   f->want, fmt_mib(a, f->mem_per_copy),
			   fmt_mib(b, u64_mul_sat(f->mem_per_copy, (uint64_t)f->want)),
			   fmt_mib(c, f->mem_avail));
	if (by_disk < (uint64_t)f->want)
		buf_printf(&why, "\n  disk: %d x %s = %s needed, %s free",
			   f->want, fmt_mib(d, f->disk_per_copy),
			   fmt_mib(g, u64_mul_sat(f->disk_per_copy, (uint64_t)f->want)),
			   fmt_mib(h, f->disk_free));
	xerr_set(e, XERR_FAIL,
		 "%d cop%s do not fit on this machine:%s\nat most %d fit%s; use fewer copies or "
		 "--overcommit",
		 f->want, f->want == 1 ? "y" : "ies", why.data ? why.data : "", f->max_fit,
		 f->max_fit ? "" : " (none)");
	buf_free(&why);
	return -1;
}

uint64_t class_meminfo_available(const char *meminfo)
{
	const char *p = strstr(meminfo, "MemAvailable:");
	unsigned long long kb;

	if (!p || sscanf(p, "MemAvailable: %llu kB", &kb) != 1)
		return 0;
	return (uint64_t)kb * 1024;
}

uint64_t class_spec_memory(const struct spec *s)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->n_hosts; i++)
		sum = u64_add_sat(sum, s->hosts[i].memory);
	return sum;
}

uint64_t class_spec_disk(const struct spec *s)
{
	uint64_t d = (uint64_t)s->n_hosts * CLASS_DISK_PER_HOST;

	/* The start snapshot `class up` takes keeps each host's memory in its
	 * disks (at most all of it); a lab with shared storage gets none. */
	if (!s->shared_vg)
		d = u64_add_sat(d, class_spec_memory(s));
	return d;
}

static int no_explicit_ips(const struct spec *s, struct xerr *e)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].ip)
			return xerr_set(e, XERR_USAGE,
					"%s: host '%s' has an explicit ip; class copies take their "
					"subnets from the pool, so leave 'ip' out",
					s->path, s->hosts[i].name);
	for (size_t i = 0; i < s->n_guests; i++)
		if (s->guests[i].ip)
			return xerr_set(e, XERR_USAGE,
					"%s: guest '%s' has an explicit ip; class copies take their "
					"subnets from the pool, so leave 'ip' out",
					s->path, s->guests[i].name);
	return 0;
}

int class_spec_copy(const char *path, const char *data, size_t len,
		    const struct class_copy *c, struct spec **out, struct xerr *e)
{
	struct spec *s = NULL;
	struct spec_diags diags = { 0 };
	struct cidr net;

	if (cidr_parse(c->subnet, &net, e) < 0)
		return -1;
	if (spec_load_buffer(path, data, len, &s, &diags, e) < 0) {
		spec_diags_free(&diags);
		return -1;
	}
	spec_diags_free(&diags);
	if (no_explicit_ips(s, e) < 0) {
		spec_free(s);
		return -1;
	}
	free(s->lab);
	s->lab = xstrdup(c->lab);
	free(s->subnet);
	s->subnet = xstrdup(c->subnet);
	s->net_addr = net.addr;
	s->net_prefix = net.prefix;
	*out = s;
	return 0;
}
