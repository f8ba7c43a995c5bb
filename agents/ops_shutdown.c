/* guests.shutdown: every guest of a dom0 asked to shut down, waited for,
 * and destroyed only when it ignores the request (`xlab stop`). */
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "ops.h"
#include "parse.h"
#include "sys.h"
#include "util.h"

/* Names of the guests running (or stuck) in this dom0: every domain but 0. */
static int guests_running(struct json_object **names, struct xerr *e)
{
	struct spawn_result r;
	struct json_object *list;
	size_t n;

	if (agent_cmd((char *[]){ "xl", "list", NULL }, 0, 60, &r, e) < 0)
		return -1;
	if (xl_list_parse(r.out ? r.out : "", &list, e) < 0) {
		spawn_result_free(&r);
		return -1;
	}
	spawn_result_free(&r);
	*names = json_object_new_array();
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		const char *name = row_str(json_object_array_get_idx(list, i), AGENT_RES_NAME);

		if (name && strcmp(name, "Domain-0") != 0)
			json_object_array_add(*names, json_object_new_string(name));
	}
	json_object_put(list);
	return 0;
}

/* Whether NAME is in the list of names. */
static bool names_have(struct json_object *names, const char *name)
{
	for (size_t k = 0; k < json_object_array_length(names); k++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(names, k)), name))
			return true;
	return false;
}

/* The guests still in `xl list` after up to wait_s seconds of waiting for
 * them to leave it: `xl shutdown -w` returns when a domain has shut down,
 * and the toolstack reaps it a moment later (longer under TCG). */
static int guests_left_after(int wait_s, struct json_object **left, struct xerr *e)
{
	for (int t = 0;; t++) {
		if (guests_running(left, e) < 0)
			return -1;
		if (json_object_array_length(*left) == 0 || t >= wait_s)
			return 0;
		json_object_put(*left);
		*left = NULL;
		sleep(1);
	}
}

bool guest_gone_within(const char *name, int wait_s)
{
	for (int t = 0; t < wait_s; t++) {
		struct json_object *now = NULL;
		struct xerr ignore = { 0 };
		bool there;

		if (guests_running(&now, &ignore) < 0)
			return false;
		there = names_have(now, name);
		json_object_put(now);
		if (!there)
			return true;
		sleep(1);
	}
	return false;
}

/* guests.shutdown: every guest of this dom0 shut down cleanly (`xl shutdown
 * -a -w`, which waits), for `xlab stop` before its host goes down. A guest
 * still there after timeout_s (a root filesystem without poweroff(8) ignores
 * the request) gets its buffers synced through sysrq and is destroyed; its
 * name is in the answer's "destroyed". The LVs and kept configs stay. */
int op_guests_shutdown(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct json_object *left = NULL, *destroyed;
	struct spawn_result r;
	int64_t timeout_s;
	char said[512] = "";
	int grace;
	size_t n;

	if (arg_int(args, AGENT_ARG_TIMEOUT_S, false, 120, 1, 3600, &timeout_s, e) < 0)
		return -1;
	if (agent_cmd((char *[]){ "xl", "shutdown", "-a", "-w", NULL }, CMD_ANY_EXIT,
		      (int)timeout_s, &r, e) < 0)
		return -1;
	/* What xl said when it did not simply wait: why a guest was not asked. */
	if (r.status == -1)
		snprintf(said, sizeof(said), "xl shutdown -w still waiting after %lld s",
			 (long long)timeout_s);
	else if (r.status != 0)
		snprintf(said, sizeof(said), "xl shutdown exited %d: %.400s", r.status,
			 r.err ? r.err : "");
	/* Honoured but not yet reaped is honoured: give them the grace, unless
	 * xl waited the whole time already. */
	grace = r.status == -1 ? 0 : timeout_s < 30 ? (int)timeout_s : 30;
	spawn_result_free(&r);
	if (guests_left_after(grace, &left, e) < 0)
		return -1;
	destroyed = json_object_new_array();
	n = json_object_array_length(left);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(left, i));
		struct xerr ignore = { 0 };

		/* Best effort: a guest without sysrq is destroyed all the same. */
		if (agent_cmd((char *[]){ "xl", "sysrq", (char *)name, "s", NULL }, CMD_ANY_EXIT, 30,
			      &r, &ignore) == 0)
			spawn_result_free(&r);
	}
	if (n)
		sleep(1);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(left, i));

		/* One that was already going (shut down just after `xl shutdown -w`
		 * returned, as a guest that honours the request does) cannot be
		 * destroyed: gone a moment later is shut down, not an error. */
		if (domain_destroy(name, e) < 0) {
			if (guest_gone_within(name, 10))
				continue; /* it went by itself after all */
			json_object_put(left);
			json_object_put(destroyed);
			return xerr_prefix(e, "guest '%s' did not shut down", name);
		}
		json_object_array_add(destroyed, json_object_new_string(name));
	}
	json_object_put(left);
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_DESTROYED, destroyed);
	if (said[0])
		json_object_object_add(*result, AGENT_RES_XL_SAID, json_object_new_string(said));
	return 0;
}
