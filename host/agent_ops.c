#include "agent_ops.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- reading an answer ---- */

static struct json_object *res_get(struct json_object *r, const char *key)
{
	struct json_object *v = NULL;

	return r && json_object_object_get_ex(r, key, &v) ? v : NULL;
}

static char *res_str(struct json_object *r, const char *key)
{
	struct json_object *v = res_get(r, key);

	return xstrdup(v && json_object_get_string(v) ? json_object_get_string(v) : "");
}

static char *res_str_or_null(struct json_object *r, const char *key)
{
	struct json_object *v = res_get(r, key);

	return v && json_object_is_type(v, json_type_string) ? xstrdup(json_object_get_string(v)) :
							       NULL;
}

static int64_t res_int(struct json_object *r, const char *key, int64_t def)
{
	struct json_object *v = res_get(r, key);

	return v ? json_object_get_int64(v) : def;
}

static bool res_bool(struct json_object *r, const char *key)
{
	struct json_object *v = res_get(r, key);

	return v && json_object_get_boolean(v);
}

static struct json_object *res_array(struct json_object *r, const char *key)
{
	struct json_object *v = res_get(r, key);

	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* An array of strings as a NULL-terminated list; empty when absent. */
static char **res_strv(struct json_object *r, const char *key)
{
	struct json_object *arr = res_array(r, key);
	size_t n = arr ? json_object_array_length(arr) : 0;
	char **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		v[i] = xstrdup(s ? s : "");
	}
	return v;
}

/* ---- writing a request ---- */

static void arg_str(struct json_object *a, const char *key, const char *v)
{
	json_object_object_add(a, key, json_object_new_string(v));
}

static void arg_int(struct json_object *a, const char *key, int64_t v)
{
	json_object_object_add(a, key, json_object_new_int64(v));
}

static void arg_bool(struct json_object *a, const char *key, bool v)
{
	json_object_object_add(a, key, json_object_new_boolean(v));
}

static struct json_object *strv_json(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

/* ---- the ops ---- */

int agent_facts(struct agent *ag, struct agent_facts *f, struct xerr *e)
{
	struct json_object *r = NULL;

	memset(f, 0, sizeof(*f));
	if (agent_call(ag, AGENT_OP_FACTS, NULL, &r, e) < 0)
		return -1;
	f->xen_version = res_str_or_null(r, AGENT_RES_XEN_VERSION);
	f->kernel_version = res_str_or_null(r, AGENT_RES_KERNEL_VERSION);
	f->pvs = json_object_get(res_array(r, AGENT_RES_PVS));
	f->vgs = json_object_get(res_array(r, AGENT_RES_VGS));
	f->lvs = json_object_get(res_array(r, AGENT_RES_LVS));
	json_object_put(r);
	return 0;
}

void agent_facts_free(struct agent_facts *f)
{
	free(f->xen_version);
	free(f->kernel_version);
	json_object_put(f->pvs);
	json_object_put(f->vgs);
	json_object_put(f->lvs);
	memset(f, 0, sizeof(*f));
}

int agent_run(struct agent *ag, const char *const *argv, int timeout_s, struct agent_run_out *o,
	      struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	memset(o, 0, sizeof(*o));
	json_object_object_add(a, AGENT_ARG_ARGV, strv_json(argv));
	if (timeout_s > 0)
		arg_int(a, AGENT_ARG_TIMEOUT_S, timeout_s);
	if (agent_call(ag, AGENT_OP_RUN, a, &r, e) < 0)
		return -1;
	o->status = res_bool(r, AGENT_RES_TIMED_OUT) ? -1 : (int)res_int(r, AGENT_RES_STATUS, -1);
	o->out = res_str(r, AGENT_RES_STDOUT);
	o->err = res_str(r, AGENT_RES_STDERR);
	json_object_put(r);
	return 0;
}

void agent_run_out_free(struct agent_run_out *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

int agent_storage_init(struct agent *ag, const struct agent_storage *s, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;
	int rc;

	arg_str(a, AGENT_ARG_VG, s->vg);
	arg_str(a, AGENT_ARG_DATA_SERIAL, s->data_serial);
	if (s->extra_serials)
		json_object_object_add(a, AGENT_ARG_EXTRA_SERIALS, strv_json(s->extra_serials));
	if (s->shared_vg) {
		arg_str(a, AGENT_ARG_SHARED_VG, s->shared_vg);
		arg_str(a, AGENT_ARG_SHARED_SERIAL, s->shared_serial);
		arg_bool(a, AGENT_ARG_SHARED_CREATE, s->shared_create);
	}
	rc = agent_call(ag, AGENT_OP_STORAGE_INIT, a, &r, e);
	json_object_put(r);
	return rc;
}

static int disk_op(struct agent *ag, enum agent_op_id op, const char *vg, const char *serial,
		   struct agent_disk_out *o, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	memset(o, 0, sizeof(*o));
	arg_str(a, AGENT_ARG_VG, vg);
	arg_str(a, AGENT_ARG_SERIAL, serial);
	if (agent_call(ag, op, a, &r, e) < 0)
		return -1;
	o->device = res_str(r, AGENT_RES_DEVICE);
	o->moved_bytes = res_int(r, AGENT_RES_MOVED_BYTES, 0);
	o->vg = res_str(r, AGENT_RES_VG);
	o->vg_size_bytes = res_int(r, AGENT_RES_SIZE_BYTES, -1);
	o->vg_free_bytes = res_int(r, AGENT_RES_FREE_BYTES, -1);
	o->n_pvs = res_array(r, AGENT_RES_PVS) ? json_object_array_length(res_array(r, AGENT_RES_PVS)) : 0;
	json_object_put(r);
	return 0;
}

int agent_disk_add(struct agent *ag, const char *vg, const char *serial, struct agent_disk_out *o,
		   struct xerr *e)
{
	return disk_op(ag, AGENT_OP_STORAGE_DISK_ADD, vg, serial, o, e);
}

int agent_disk_remove(struct agent *ag, const char *vg, const char *serial,
		      struct agent_disk_out *o, struct xerr *e)
{
	return disk_op(ag, AGENT_OP_STORAGE_DISK_REMOVE, vg, serial, o, e);
}

void agent_disk_out_free(struct agent_disk_out *o)
{
	free(o->device);
	free(o->vg);
	memset(o, 0, sizeof(*o));
}

int agent_lv_extend(struct agent *ag, const char *vg, const char *guest, uint64_t size_bytes,
		    struct agent_lv_extend_out *o, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	memset(o, 0, sizeof(*o));
	arg_str(a, AGENT_ARG_VG, vg);
	arg_str(a, AGENT_ARG_NAME, guest);
	arg_int(a, AGENT_ARG_SIZE_BYTES, (int64_t)size_bytes);
	if (agent_call(ag, AGENT_OP_STORAGE_LV_EXTEND, a, &r, e) < 0)
		return -1;
	o->lv_path = res_str(r, AGENT_RES_LV_PATH);
	o->size_before = res_int(r, AGENT_RES_SIZE_BEFORE, -1);
	o->size_bytes = res_int(r, AGENT_RES_SIZE_BYTES, -1);
	o->guest_sees_bytes = res_int(r, AGENT_RES_GUEST_SEES_BYTES, -1);
	json_object_put(r);
	return 0;
}

void agent_lv_extend_out_free(struct agent_lv_extend_out *o)
{
	free(o->lv_path);
	memset(o, 0, sizeof(*o));
}

int agent_guest_create(struct agent *ag, const struct agent_guest_req *g, char **ssh_host_key,
		       struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	*ssh_host_key = NULL;
	arg_str(a, AGENT_ARG_NAME, g->name);
	arg_str(a, AGENT_ARG_VG, g->vg);
	arg_int(a, AGENT_ARG_SIZE_BYTES, (int64_t)g->size_bytes);
	arg_str(a, AGENT_ARG_ROOTFS, g->rootfs);
	arg_str(a, AGENT_ARG_XL_CFG, g->xl_cfg);
	if (g->type)
		arg_str(a, AGENT_ARG_TYPE, g->type);
	if (g->prefer_shadow)
		arg_bool(a, AGENT_ARG_PREFER_SHADOW, true);
	if (g->swap_bytes)
		arg_int(a, AGENT_ARG_SWAP_BYTES, (int64_t)g->swap_bytes);
	if (agent_call(ag, AGENT_OP_GUEST_CREATE, a, &r, e) < 0)
		return -1;
	*ssh_host_key = res_str_or_null(r, AGENT_RES_SSH_HOST_KEY);
	json_object_put(r);
	return 0;
}

int agent_guest_console(struct agent *ag, const char *name, int64_t max_bytes, char **text,
			struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	*text = NULL;
	arg_str(a, AGENT_ARG_NAME, name);
	if (max_bytes > 0)
		arg_int(a, AGENT_ARG_MAX_BYTES, max_bytes);
	if (agent_call(ag, AGENT_OP_GUEST_CONSOLE, a, &r, e) < 0)
		return -1;
	*text = res_str(r, AGENT_RES_TEXT);
	json_object_put(r);
	return 0;
}

int agent_guest_wait_console(struct agent *ag, const char *name, const char *text,
			     int timeout_s, bool abandonable, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;
	int rc;

	arg_str(a, AGENT_ARG_NAME, name);
	arg_str(a, AGENT_ARG_TEXT, text);
	arg_int(a, AGENT_ARG_TIMEOUT_S, timeout_s);
	rc = abandonable ? agent_call_abandonable(ag, AGENT_OP_GUEST_WAIT_CONSOLE, a, &r, e) :
			   agent_call(ag, AGENT_OP_GUEST_WAIT_CONSOLE, a, &r, e);
	json_object_put(r);
	return rc;
}

int agent_guest_destroy(struct agent *ag, const char *name, const char *vg, bool remove_lv,
			struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;
	int rc;

	arg_str(a, AGENT_ARG_NAME, name);
	arg_bool(a, AGENT_ARG_REMOVE_LV, remove_lv);
	if (vg)
		arg_str(a, AGENT_ARG_VG, vg);
	rc = agent_call(ag, AGENT_OP_GUEST_DESTROY, a, &r, e);
	json_object_put(r);
	return rc;
}

int agent_guest_start(struct agent *ag, const char *name, bool *hvm, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	arg_str(a, AGENT_ARG_NAME, name);
	if (agent_call(ag, AGENT_OP_GUEST_START, a, &r, e) < 0)
		return -1;
	if (hvm)
		*hvm = res_bool(r, AGENT_RES_HVM);
	json_object_put(r);
	return 0;
}

int agent_guest_list(struct agent *ag, struct agent_domain **out, size_t *n, struct xerr *e)
{
	struct json_object *r = NULL, *rows;
	size_t len;

	*out = NULL;
	*n = 0;
	if (agent_call(ag, AGENT_OP_GUEST_LIST, NULL, &r, e) < 0)
		return -1;
	rows = res_array(r, AGENT_RES_GUESTS);
	if (!rows) {
		json_object_put(r);
		return xerr_set(e, XERR_PROTO, "the agent's guest.list has no guests");
	}
	len = json_object_array_length(rows);
	*out = xcalloc(len ? len : 1, sizeof(**out));
	for (size_t i = 0; i < len; i++) {
		struct json_object *g = json_object_array_get_idx(rows, i), *t;
		struct agent_domain *d = &(*out)[i];

		d->name = res_str(g, AGENT_RES_NAME);
		d->state = res_str(g, AGENT_RES_STATE);
		d->type = res_str(g, AGENT_RES_TYPE);
		d->domid = res_int(g, AGENT_RES_DOMID, 0);
		d->memory_kib = res_int(g, AGENT_RES_MEMORY_KIB, 0);
		d->vcpus = res_int(g, AGENT_RES_VCPUS, 0);
		t = res_get(g, AGENT_RES_TIME_S);
		d->time_s = t ? json_object_get_double(t) : 0.0;
	}
	*n = len;
	json_object_put(r);
	return 0;
}

void agent_domains_free(struct agent_domain *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		free(d[i].name);
		free(d[i].state);
		free(d[i].type);
	}
	free(d);
}

int agent_guests_shutdown(struct agent *ag, int timeout_s, struct agent_shutdown_out *o,
			  struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	memset(o, 0, sizeof(*o));
	arg_int(a, AGENT_ARG_TIMEOUT_S, timeout_s);
	if (agent_call(ag, AGENT_OP_GUESTS_SHUTDOWN, a, &r, e) < 0)
		return -1;
	o->destroyed = res_strv(r, AGENT_RES_DESTROYED);
	o->xl_said = res_str_or_null(r, AGENT_RES_XL_SAID);
	json_object_put(r);
	return 0;
}

void agent_shutdown_out_free(struct agent_shutdown_out *o)
{
	strv_free(o->destroyed);
	free(o->xl_said);
	memset(o, 0, sizeof(*o));
}

int agent_guest_migrate(struct agent *ag, const char *name, const char *to,
			struct agent_migration *m, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	memset(m, 0, sizeof(*m));
	arg_str(a, AGENT_ARG_NAME, name);
	arg_str(a, AGENT_ARG_TO, to);
	if (agent_call(ag, AGENT_OP_GUEST_MIGRATE, a, &r, e) < 0)
		return -1;
	m->status = (int)res_int(r, AGENT_RES_STATUS, -1);
	m->wall_ms = res_int(r, AGENT_RES_WALL_MS, 0);
	m->output = res_str(r, AGENT_RES_OUTPUT);
	json_object_put(r);
	return 0;
}

void agent_migration_free(struct agent_migration *m)
{
	free(m->output);
	memset(m, 0, sizeof(*m));
}

int agent_guest_check(struct agent *ag, const struct agent_check_req *q,
		      struct agent_check_out *o, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL, *steps;

	memset(o, 0, sizeof(*o));
	arg_str(a, AGENT_ARG_NAME, q->name);
	arg_str(a, AGENT_ARG_ACTION, q->action);
	arg_str(a, AGENT_ARG_IP, q->ip);
	arg_int(a, AGENT_ARG_ROUND, q->round);
	arg_int(a, AGENT_ARG_ROUNDS_OF, q->rounds_of);
	arg_int(a, AGENT_ARG_TIMEOUT_S, q->timeout_s);
	if (agent_call(ag, AGENT_OP_GUEST_CHECK, a, &r, e) < 0)
		return -1;
	o->passed = res_bool(r, AGENT_RES_PASSED);
	o->output = res_str(r, AGENT_RES_OUTPUT);
	steps = res_array(r, AGENT_RES_STEPS);
	o->n_steps = steps ? json_object_array_length(steps) : 0;
	o->steps = xcalloc(o->n_steps ? o->n_steps : 1, sizeof(*o->steps));
	for (size_t i = 0; i < o->n_steps; i++) {
		struct json_object *s = json_object_array_get_idx(steps, i);

		o->steps[i] = (struct agent_check_step){
			.round = (int)res_int(s, AGENT_RES_ROUND, 0),
			.step = res_str(s, AGENT_RES_STEP),
			.ok = res_bool(s, AGENT_RES_OK),
			.ms = res_int(s, AGENT_RES_MS, 0),
		};
	}
	json_object_put(r);
	return 0;
}

void agent_check_out_free(struct agent_check_out *o)
{
	for (size_t i = 0; o->steps && i < o->n_steps; i++)
		free(o->steps[i].step);
	free(o->steps);
	free(o->output);
	memset(o, 0, sizeof(*o));
}

void agent_host_check_out_free(struct agent_host_check_out *o)
{
	free(o->output);
	strv_free(o->findings);
	*o = (struct agent_host_check_out){ 0 };
}

int agent_host_check(struct agent *ag, const struct agent_host_check_req *q,
		     struct agent_host_check_out *o, struct xerr *e)
{
	struct json_object *a = json_object_new_object(), *r = NULL;

	*o = (struct agent_host_check_out){ 0 };
	arg_str(a, AGENT_ARG_ACTION, q->action);
	if (q->domains)
		json_object_object_add(a, AGENT_ARG_DOMAINS, strv_json(q->domains));
	if (q->vgs)
		json_object_object_add(a, AGENT_ARG_VGS, strv_json(q->vgs));
	if (q->lvs)
		json_object_object_add(a, AGENT_ARG_LVS, strv_json(q->lvs));
	if (q->timeout_s > 0)
		arg_int(a, AGENT_ARG_TIMEOUT_S, q->timeout_s);
	if (agent_call(ag, AGENT_OP_HOST_CHECK, a, &r, e) < 0)
		return -1;
	o->passed = res_bool(r, AGENT_RES_PASSED);
	o->output = res_str(r, AGENT_RES_OUTPUT);
	o->findings = res_strv(r, AGENT_RES_FINDINGS);
	json_object_put(r);
	return 0;
}
