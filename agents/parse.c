#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* key -> value of "key : value" lines, as strings. */
static struct json_object *kv_lines(const char *text)
{
	struct json_object *kv = json_object_new_object();
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		json_object_object_add(kv, trim(line), json_object_new_string(trim(colon + 1)));
	}
	return kv;
}

static const char *kv_get(struct json_object *kv, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(kv, key, &v) ? json_object_get_string(v) : NULL;
}

int xl_info_parse(const char *text, struct json_object **out, struct xerr *e)
{
	/* xl's name for each, and the answer's. */
	static const struct {
		const char *xl, *key;
	} ints[] = {
		{ "total_memory", AGENT_RES_TOTAL_MEMORY },
		{ "free_memory", AGENT_RES_FREE_MEMORY },
		{ "nr_cpus", AGENT_RES_NR_CPUS },
	};
	struct json_object *kv = kv_lines(text), *r;
	const char *maj = kv_get(kv, "xen_major"), *min = kv_get(kv, "xen_minor");
	const char *extra = kv_get(kv, "xen_extra"), *caps = kv_get(kv, "xen_caps");
	char ver[192];

	if (!maj || !min) {
		json_object_put(kv);
		return xerr_set(e, XERR_FAIL, "xl info printed no xen_major/xen_minor");
	}
	r = json_object_new_object();
	snprintf(ver, sizeof(ver), "%s.%s%s", maj, min, extra ? extra : "");
	json_object_object_add(r, AGENT_RES_XEN_VERSION, json_object_new_string(ver));
	json_object_object_add(r, AGENT_RES_XEN_CAPS, json_object_new_string(caps ? caps : ""));
	if (kv_get(kv, "virt_caps"))
		json_object_object_add(r, AGENT_RES_VIRT_CAPS,
				       json_object_new_string(kv_get(kv, "virt_caps")));
	/* dom0's kernel, as xl reports it: what a matrix cell records. */
	if (kv_get(kv, "release"))
		json_object_object_add(r, AGENT_RES_KERNEL_VERSION,
				       json_object_new_string(kv_get(kv, "release")));
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		const char *s = kv_get(kv, ints[i].xl);
		int64_t n;

		if (!s || !parse_i64(s, &n)) {
			json_object_put(kv);
			json_object_put(r);
			return xerr_set(e, XERR_FAIL, "xl info: no integer %s", ints[i].xl);
		}
		json_object_object_add(r, ints[i].key, json_object_new_int64(n));
	}
	json_object_put(kv);
	*out = r;
	return 0;
}

static bool key_is_number(const char *key)
{
	static const char *const sfx[] = { "_size", "_free", "_count", "_used" };
	size_t kl = strlen(key);

	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		size_t sl = strlen(sfx[i]);

		if (kl > sl && strcmp(key + kl - sl, sfx[i]) == 0)
			return true;
	}
	return false;
}

static struct json_object *lvm_row(struct json_object *in)
{
	struct json_object *row = json_object_new_object();

	json_object_object_foreach(in, key, val) {
		const char *s = json_object_get_string(val);
		int64_t n;

		if (key_is_number(key) && s && parse_i64(s, &n))
			json_object_object_add(row, key, json_object_new_int64(n));
		else
			json_object_object_add(row, key, json_object_get(val));
	}
	return row;
}

/* The report is {"report":[{KIND:[rows]}]}; LVM may add a "log" section. */
int lvm_report_parse(const char *text, const char *kind, struct json_object **out,
		     struct xerr *e)
{
	struct json_object *root = json_tokener_parse(text), *report, *rows = NULL, *arr;

	if (!root || !json_object_object_get_ex(root, "report", &report) ||
	    !json_object_is_type(report, json_type_array)) {
		json_object_put(root);
		return xerr_set(e, XERR_FAIL, "LVM printed no JSON report");
	}
	for (size_t i = 0; i < json_object_array_length(report) && !rows; i++) {
		struct json_object *sec = json_object_array_get_idx(report, i);

		if (json_object_is_type(sec, json_type_object) &&
		    json_object_object_get_ex(sec, kind, &arr) &&
		    json_object_is_type(arr, json_type_array))
			rows = arr;
	}
	arr = json_object_new_array();
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		if (json_object_is_type(r, json_type_object))
			json_object_array_add(arr, lvm_row(r));
	}
	json_object_put(root);
	*out = arr;
	return 0;
}

/* Columns: Name ID Mem VCPUs State Time(s); a name may hold blanks, so the
 * five numeric columns are taken from the right. */
static struct json_object *xl_list_row(char *line)
{
	char *f[5];
	char *end = line + strlen(line);
	int64_t domid, mem, vcpus;
	struct json_object *r;

	for (int i = 4; i >= 0; i--) {
		while (end > line && isspace((unsigned char)end[-1]))
			*--end = '\0';
		while (end > line && !isspace((unsigned char)end[-1]))
			end--;
		if (end == line)
			return NULL;
		f[i] = end;
	}
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	line = trim(line);
	if (!*line || !parse_i64(f[0], &domid) || !parse_i64(f[1], &mem) ||
	    !parse_i64(f[2], &vcpus))
		return NULL;
	/* xl prints MiB; a row claiming more than 2^53 KiB is not xl's. */
	if (mem < 0 || mem > ((int64_t)1 << 43))
		return NULL;
	r = json_object_new_object();
	json_object_object_add(r, AGENT_RES_NAME, json_object_new_string(line));
	json_object_object_add(r, AGENT_RES_DOMID, json_object_new_int64(domid));
	json_object_object_add(r, AGENT_RES_MEMORY_KIB, json_object_new_int64(mem * 1024));
	json_object_object_add(r, AGENT_RES_VCPUS, json_object_new_int64(vcpus));
	json_object_object_add(r, AGENT_RES_STATE, json_object_new_string(f[3]));
	json_object_object_add(r, AGENT_RES_TIME_S, json_object_new_double(strtod(f[4], NULL)));
	return r;
}

int xl_list_parse(const char *text, struct json_object **out, struct xerr *e)
{
	_cleanup_free_ char *copy = xstrdup(text);
	struct json_object *arr;
	char *save = NULL, *line = strtok_r(copy, "\n", &save);

	if (!line || strncmp(trim(line), "Name", 4) != 0)
		return xerr_set(e, XERR_FAIL, "xl list printed no table header");
	arr = json_object_new_array();
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct json_object *r = xl_list_row(line);

		if (r)
			json_object_array_add(arr, r);
	}
	*out = arr;
	return 0;
}

static struct json_object *path_get(struct json_object *o, const char *const *keys)
{
	for (; *keys; keys++)
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, *keys, &o))
			return NULL;
	return o;
}

static struct json_object *find_domid(struct json_object *list, int64_t domid)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *r = json_object_array_get_idx(list, i), *v;

		if (json_object_object_get_ex(r, AGENT_RES_DOMID, &v) &&
		    json_object_get_int64(v) == domid)
			return r;
	}
	return NULL;
}

int xl_list_long_merge(struct json_object *list, const char *json, struct xerr *e)
{
	static const char *const memp[] = { "config", "b_info", "target_memkb", NULL };
	static const char *const cpup[] = { "config", "b_info", "max_vcpus", NULL };
	static const char *const typep[] = { "config", "c_info", "type", NULL };
	struct json_object *root = json_tokener_parse(json);

	if (!root || !json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return xerr_set(e, XERR_FAIL, "xl list -l printed no JSON array");
	}
	for (size_t i = 0; i < json_object_array_length(root); i++) {
		struct json_object *d = json_object_array_get_idx(root, i), *id, *row, *v;

		if (!json_object_object_get_ex(d, "domid", &id) ||
		    !json_object_is_type(id, json_type_int) ||
		    !(row = find_domid(list, json_object_get_int64(id))))
			continue;
		if ((v = path_get(d, memp)) && json_object_is_type(v, json_type_int))
			json_object_object_add(row, AGENT_RES_MEMORY_KIB,
					       json_object_new_int64(json_object_get_int64(v)));
		if ((v = path_get(d, cpup)) && json_object_is_type(v, json_type_int))
			json_object_object_add(row, AGENT_RES_VCPUS,
					       json_object_new_int64(json_object_get_int64(v)));
		if ((v = path_get(d, typep)) && json_object_is_type(v, json_type_string))
			json_object_object_add(row, AGENT_RES_TYPE,
					       json_object_new_string(json_object_get_string(v)));
	}
	json_object_put(root);
	return 0;
}

static bool word_in(const char *words, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = words; (p = strstr(p, w)); p += n)
		if ((p == words || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

int guest_paging_choose(const char *virt_caps, const char *type, bool prefer_shadow,
			bool *hap_off, struct xerr *e)
{
	*hap_off = false;
	if (!strcmp(type, "pv") || !virt_caps)
		return 0;
	if (!word_in(virt_caps, "hvm"))
		return xerr_set(e, XERR_FAIL,
				"Xen on this host cannot run %s guests: the host's CPU offers it no "
				"hardware virtualization (xl info virt_caps: %s); under KVM turn "
				"nested virtualization on (kvm_amd/kvm_intel nested=1), under TCG "
				"give the host svm and npt (`xlab up --recreate` redefines it)",
				type, virt_caps);
	if (!word_in(virt_caps, "hap") && !word_in(virt_caps, "shadow"))
		return xerr_set(e, XERR_FAIL,
				"Xen on this host cannot run %s guests: it has neither HAP nor "
				"shadow paging (xl info virt_caps: %s); the host's CPU needs nested "
				"paging (npt/ept): `xlab up --recreate` redefines the host with it",
				type, virt_caps);
	if (prefer_shadow && !word_in(virt_caps, "shadow"))
		return xerr_set(e, XERR_FAIL,
				"Xen on this host has no shadow paging (xl info virt_caps: %s), and "
				"under TCG a %s guest on QEMU's emulated nested paging triple-faults "
				"at random (measured with QEMU 7.2 on Xen 4.17 and 4.20): use KVM with "
				"nested virtualization, or a Xen with shadow paging (Debian's 4.17, "
				"or `xlab image build NAME --from xen-4.20 --xen-source SRC --kconfig "
				"SHADOW_PAGING=y`); `xl: {hap: 1}` on the guest runs it on HAP anyway",
				virt_caps, type);
	*hap_off = prefer_shadow && word_in(virt_caps, "hap");
	return 0;
}
