/* Matrix expansion: versions, copy names, copy subnets, copies, what fits. */
#include "matrix.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "names.h"
#include "subnet.h"
#include "util.h"

/* What a VM costs beyond its guest memory (QEMU, TCG translation cache). */
#define VM_OVERHEAD (256ull << 20)

static bool version_ok(const char *v)
{
	const char *dot = strchr(v, '.');

	return dot && dot > v && dot[1] && strspn(v, "0123456789") == (size_t)(dot - v) &&
	       strspn(dot + 1, "0123456789") == strlen(dot + 1) && strlen(v) <= 16;
}

/* A comma-separated list of names each ok() accepts, none twice. */
static int list_parse(const char *csv, bool (*ok)(const char *), const char *what,
		      const char *example, char ***out, struct xerr *e)
{
	_cleanup_free_ char *copy = xstrdup(csv);
	char **v = xcalloc(strlen(csv) / 2 + 2, sizeof(char *));
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		for (char *end = t + strlen(t); end > t && isspace((unsigned char)end[-1]);)
			*--end = '\0';
		if (!ok(t)) {
			strv_free(v);
			return xerr_set(e, XERR_USAGE, "'%s' is not %s (a comma-separated list: %s)",
					t, what, example);
		}
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(v[i], t)) {
				strv_free(v);
				return xerr_set(e, XERR_USAGE, "%s is listed twice", t);
			}
		}
		v[n++] = xstrdup(t);
	}
	if (!n) {
		strv_free(v);
		return xerr_set(e, XERR_USAGE, "nothing given (%s)", example);
	}
	*out = v;
	return 0;
}

int matrix_versions_parse(const char *csv, char ***out, struct xerr *e)
{
	return list_parse(csv, version_ok, "a Xen version like 4.17", "--xen 4.17,4.20", out, e);
}

int matrix_images_parse(const char *csv, char ***out, struct xerr *e)
{
	return list_parse(csv, names_image_valid, "an image name",
			  "--image xen-4.20,xen-4.20-shadow", out, e);
}

static bool type_ok(const char *t)
{
	enum spec_guest_type ignore;

	return spec_guest_type_parse(t, &ignore) == 0;
}

int matrix_types_parse(const char *csv, char ***out, struct xerr *e)
{
	return list_parse(csv, type_ok, "a guest type (pv, pvh or hvm)", "--types pv,pvh,hvm",
			  out, e);
}

int matrix_lab_name(const char *lab, const char *xen, const char *type,
		    char out[SPEC_NAME_MAX + 1], struct xerr *e)
{
	/* A version (4.17) or an image named for one (xen-4.20-shadow) reads
	 * x4-17, x4-20-shadow; another image keeps its name. */
	const char *tail = strncmp(xen, "xen-", 4) == 0 ? xen + 4 : xen;
	const char *x = *tail >= '0' && *tail <= '9' ? "x" : "";
	char *p;
	int n = snprintf(out, SPEC_NAME_MAX + 1, "%s-%s%s%s%s", lab, x, tail, type ? "-" : "",
			 type ? type : "");

	if (n < 0 || n > SPEC_NAME_MAX)
		return xerr_set(e, XERR_USAGE,
				"lab name '%s-%s%s%s%s' of the %s copy is longer than %d "
				"characters; shorten `lab:`",
				lab, x, tail, type ? "-" : "", type ? type : "", xen,
				SPEC_NAME_MAX);
	for (p = out; *p; p++)
		if (*p == '.')
			*p = '-';
	if (p[-1] == '-')
		return xerr_set(e, XERR_USAGE,
				"lab name '%s' of the %s copy ends in '-', which no DNS name may; "
				"rename the image", out, xen);
	return 0;
}

static bool overlaps_any(const struct cidr *c, char *const *used, size_t n_used)
{
	for (size_t i = 0; i < n_used; i++) {
		struct cidr u;
		struct xerr ignore = { 0 };

		if (used[i] && cidr_parse(used[i], &u, &ignore) == 0 && cidr_overlap(c, &u))
			return true;
	}
	return false;
}

int matrix_subnet_pick(const struct spec *base, const char *copy_lab, char *const *used,
		       size_t n_used, char out[20], struct xerr *e)
{
	uint32_t count;

	if (!base->subnet || base->net_prefix > 23)
		return subnet_allocate(copy_lab, used, n_used, out, e);
	count = 1u << (24 - base->net_prefix);
	for (uint32_t i = 0; i < count; i++) {
		struct cidr c = { .addr = base->net_addr + (i << 8), .prefix = 24 };

		if (!overlaps_any(&c, used, n_used)) {
			cidr_format(&c, out, 20);
			return 0;
		}
	}
	return xerr_set(e, XERR_FAIL,
			"no free /24 left in %s for the copy '%s'; take other labs down or "
			"give network.subnet a larger range",
			base->subnet, copy_lab);
}

static int ip_rebase(char **ip, const char *owner, const struct spec *base,
		     const struct cidr *to, struct xerr *e)
{
	struct in_addr in;
	uint32_t off;
	char buf[INET_ADDRSTRLEN];

	if (!*ip)
		return 0;
	if (inet_pton(AF_INET, *ip, &in) != 1 || !base->subnet)
		return xerr_set(e, XERR_USAGE, "ip %s of '%s' is not in the spec's subnet",
				*ip, owner);
	off = ntohl(in.s_addr) - base->net_addr;
	/* .0 is the network, .1 the gateway, .255 broadcast in a /24. */
	if (off < 2 || off > 254)
		return xerr_set(e, XERR_USAGE,
				"ip %s of '%s' is at offset %u of %s, which does not fit the "
				"copy's /24 (%u.%u.%u.0/24); use an address at .2-.254 of the "
				"first /24, or leave 'ip' out",
				*ip, owner, off, base->subnet, to->addr >> 24, (to->addr >> 16) & 255,
				(to->addr >> 8) & 255);
	in.s_addr = htonl(to->addr + off);
	inet_ntop(AF_INET, &in, buf, sizeof(buf));
	free(*ip);
	*ip = xstrdup(buf);
	return 0;
}

int matrix_spec_copy(const struct spec *base, const char *data, size_t len, const char *xen,
		     const char *type, const char *image, const char *subnet, struct spec **out,
		     struct xerr *e)
{
	struct spec *s = NULL;
	struct spec_diags diags = { 0 };
	char name[SPEC_NAME_MAX + 1];
	struct cidr to;

	if (matrix_lab_name(base->lab, xen, type, name, e) < 0 || cidr_parse(subnet, &to, e) < 0)
		return -1;
	if (spec_load_buffer(base->path, data, len, &s, &diags, e) < 0) {
		spec_diags_free(&diags);
		return -1;
	}
	spec_diags_free(&diags);
	if (strcmp(s->sha256, base->sha256) != 0) {
		spec_free(s);
		return xerr_set(e, XERR_FAIL, "%s changed while the matrix was starting",
				base->path);
	}
	for (size_t i = 0; i < s->n_hosts; i++)
		if (ip_rebase(&s->hosts[i].ip, s->hosts[i].name, base, &to, e) < 0)
			goto fail;
	for (size_t i = 0; i < s->n_guests; i++)
		if (ip_rebase(&s->guests[i].ip, s->guests[i].name, base, &to, e) < 0)
			goto fail;
	free(s->lab);
	s->lab = xstrdup(name);
	/* A cell runs the version or image it is for, whatever the spec named. */
	free(s->xen);
	free(s->image);
	s->xen = image ? NULL : xstrdup(xen);
	s->image = image ? xstrdup(image) : NULL;
	/* The guest-type axis: every guest of the copy runs as that type. */
	for (size_t i = 0; type && i < s->n_guests; i++)
		spec_guest_type_parse(type, &s->guests[i].type);
	free(s->subnet);
	s->subnet = xstrdup(subnet);
	s->net_addr = to.addr;
	s->net_prefix = to.prefix;
	*out = s;
	return 0;
fail:
	spec_free(s);
	return xerr_prefix(e, "the Xen %s copy of lab '%s'", xen, base->lab);
}

int matrix_jobs_fit(uint64_t mem_available, int ncpu, const struct spec *s, size_t n,
		    char *why, size_t whysz)
{
	uint64_t need_mem = 0;
	int need_cpu = 0;
	size_t by_mem, by_cpu, jobs;
	char mem[32], avail[32];

	for (size_t i = 0; i < s->n_hosts; i++) {
		need_mem = u64_add_sat(need_mem, u64_add_sat(s->hosts[i].memory, VM_OVERHEAD));
		need_cpu += s->hosts[i].vcpus > 0 ? s->hosts[i].vcpus : 1;
	}
	by_mem = need_mem ? (size_t)(mem_available / need_mem) : n;
	by_cpu = need_cpu ? (size_t)(ncpu / need_cpu) : n;
	jobs = n;
	if (by_mem < jobs)
		jobs = by_mem;
	if (by_cpu < jobs)
		jobs = by_cpu;
	if (jobs < 1)
		jobs = 1;
	size_format(need_mem, mem, sizeof(mem));
	size_format(mem_available & ~((1ull << 20) - 1), avail, sizeof(avail));
	snprintf(why, whysz,
		 "%zu at a time: a copy needs %s and %d vCPU(s); %s available fits %zu, "
		 "%d core(s) fit %zu",
		 jobs, mem, need_cpu, avail, by_mem, ncpu, by_cpu);
	return (int)jobs;
}
