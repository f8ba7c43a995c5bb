/* guest.check: osstest's guest checks, in the dom0 that runs the guest.
 * `save-restore` is `xl save` then `xl restore` (guest-saverestore);
 * `local-migrate` is `xl migrate` to this very host (guest-localmigrate);
 * `stop-start` is `xl shutdown -w` then `xl create` of the kept config
 * (guest-stop, guest-start).
 * One round per call (the controller repeats it; an agent call has a
 * time limit). After it the guest must answer ping at its address again. A
 * failed round is the check's result (passed false, what xl said), not an
 * agent error: the controller records it as a failed test. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "ops.h"
#include "sys.h"
#include "util.h"

#define CHECK_ROUNDS_MAX 100
#define CHECK_STEP_TIMEOUT_S 900
#define CHECK_OUTPUT_MAX 2048
#define SAVE_DIR AGENT_WORK_DIR "/save"
/* A PVH guest's teardown on shadow paging, with an HVM guest's device model
 * beside it, took over 30 s under TCG. */
#define REAP_WAIT_S 120

struct check {
	const char *name, *ip;
	int64_t timeout_s;
	int64_t round;
	struct buf log;
	struct json_object *steps; /* [{round, step, ok, ms}], for the report's figures */
};

static void step_record(struct check *c, const char *step, bool ok, int64_t ms)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, AGENT_RES_ROUND, json_object_new_int64(c->round));
	json_object_object_add(o, AGENT_RES_STEP, json_object_new_string(step));
	json_object_object_add(o, AGENT_RES_OK, json_object_new_boolean(ok));
	json_object_object_add(o, AGENT_RES_MS, json_object_new_int64(ms));
	json_object_array_add(c->steps, o);
}

/* The last lines of what xl said, into the log. */
static void log_tail(struct check *c, const struct spawn_result *r)
{
	const char *text = r->err && *r->err ? r->err : (r->out ? r->out : "");
	size_t len = strlen(text);

	if (len > CHECK_OUTPUT_MAX)
		text += len - CHECK_OUTPUT_MAX;
	buf_printf(&c->log, "%s%s", text, len && text[strlen(text) - 1] != '\n' ? "\n" : "");
}

/* libxl gives the disk hotplug script a fixed time; on a loaded TCG host
 * (an HVM guest's device model beside it) it can run out, and libxl then
 * destroys the half-made domain ("unable to add disk devices"). Nothing is
 * left of that try, so it is safe to run again, as domain_start does. */
#define DISK_HOTPLUG_TRIES 3

static bool disk_hotplug_timed_out(const struct spawn_result *r)
{
	return r->status > 0 && r->err && strstr(r->err, "unable to add disk devices");
}

/* One xl command of a round, given timeout_s: false (and the log says
 * why) when it failed or was still running then. With retry_hotplug, a
 * disk hotplug time-out is tried again (one step in the figures). */
static int xl_step_run(struct check *c, const char *what, char *const argv[],
		       int64_t timeout_s, bool retry_hotplug, bool *ok, struct xerr *e)
{
	struct spawn_result r;
	int64_t t0 = now_ms();

	*ok = false;
	for (int tries = 1;; tries++) {
		if (agent_cmd(argv, CMD_ANY_EXIT, (int)timeout_s, &r, e) < 0)
			return -1;
		if (!retry_hotplug || tries == DISK_HOTPLUG_TRIES || !disk_hotplug_timed_out(&r))
			break;
		buf_printf(&c->log, "  %s: the disk hotplug script timed out (try %d), again\n",
			   what, tries);
		spawn_result_free(&r);
		sleep(2);
	}
	*ok = r.status == 0;
	step_record(c, what, *ok, now_ms() - t0);
	if (r.status == -1)
		buf_printf(&c->log, "  %s: FAILED, still running after %" PRId64 " s\n", what,
			   timeout_s);
	else
		buf_printf(&c->log, "  %s: %s in %.1f s\n", what, *ok ? "done" : "FAILED",
			   (double)(now_ms() - t0) / 1000.0);
	if (!*ok)
		log_tail(c, &r);
	spawn_result_free(&r);
	return 0;
}

static int xl_step_within(struct check *c, const char *what, char *const argv[],
			  int64_t timeout_s, bool *ok, struct xerr *e)
{
	return xl_step_run(c, what, argv, timeout_s, false, ok, e);
}

static int xl_step(struct check *c, const char *what, char *const argv[], bool *ok,
		   struct xerr *e)
{
	return xl_step_within(c, what, argv, CHECK_STEP_TIMEOUT_S, ok, e);
}

/* ping from the dom0, once a second, until an answer or the timeout. */
static int answers(struct check *c, bool *ok, struct xerr *e)
{
	int64_t t0 = now_ms(), deadline = t0 + c->timeout_s * 1000;

	for (;;) {
		struct spawn_result r;

		if (agent_cmd((char *[]){ "ping", "-n", "-q", "-c", "1", "-W", "1", (char *)c->ip,
					  NULL },
			      CMD_ANY_EXIT, 10, &r, e) < 0)
			return -1;
		*ok = r.status == 0;
		spawn_result_free(&r);
		if (*ok || now_ms() >= deadline)
			break;
		sleep(1);
	}
	step_record(c, "ping", *ok, now_ms() - t0);
	buf_printf(&c->log, "  ping %s: %s after %.1f s\n", c->ip, *ok ? "answered" : "NO ANSWER",
		   (double)(now_ms() - t0) / 1000.0);
	return 0;
}

static int save_restore(struct check *c, bool *ok, struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(SAVE_DIR);
	_cleanup_free_ char *file = agent_path(SAVE_DIR "/%s", c->name);
	int rc;

	if (mkdir_p(dir, 0700, e) < 0)
		return -1;
	rc = xl_step(c, "xl save", (char *[]){ "xl", "save", (char *)c->name, file, NULL }, ok, e);
	if (rc == 0 && *ok)
		rc = xl_step_run(c, "xl restore", (char *[]){ "xl", "restore", file, NULL },
				 CHECK_STEP_TIMEOUT_S, true, ok, e);
	unlink(file);
	/* The domain is new: its console needs a new copier (the log goes on). */
	if (rc == 0 && *ok)
		rc = console_capture_start(c->name, -1, false, NULL, e);
	return rc;
}

/* To this host by its own name: the lab's known_hosts pins it, and the
 * lab's dom0 key is in its authorized_keys, as for a migration elsewhere. */
static int local_migrate(struct check *c, bool *ok, struct xerr *e)
{
	char self[256];

	if (gethostname(self, sizeof(self)) < 0)
		return xerr_errno(e, XERR_IO, "cannot read this host's name");
	self[sizeof(self) - 1] = '\0';
	/* The receiving side's disk hotplug can run out of time too; xl then
	 * resumes the guest at the sender, so trying again is safe. */
	if (xl_step_run(c, "xl migrate to itself",
			(char *[]){ "xl", "migrate", (char *)c->name, self, NULL },
			CHECK_STEP_TIMEOUT_S, true, ok, e) < 0)
		return -1;
	return *ok ? console_capture_start(c->name, -1, false, NULL, e) : 0;
}

/* A clean shutdown the guest honours, then a boot from its kept config
 * (as `xlab stop` and `xlab start` do it, one guest at a time). */
static int stop_start(struct check *c, bool *ok, struct xerr *e)
{
	_cleanup_free_ char *cfg = agent_path(AGENT_CFG_DIR "/%s.cfg", c->name);
	struct xerr why = { 0 };
	int64_t t0, domid;

	if (!path_exists(cfg))
		return xerr_set(e, XERR_NOTFOUND, "guest '%s' has no kept config %s in this dom0",
				c->name, cfg);
	/* A guest that ignores the request fails the check within timeout_s. */
	if (xl_step_within(c, "xl shutdown -w",
			   (char *[]){ "xl", "shutdown", "-w", (char *)c->name, NULL },
			   c->timeout_s, ok, e) < 0)
		return -1;
	if (!*ok)
		return 0;
	if (!(*ok = guest_gone_within(c->name, REAP_WAIT_S))) {
		buf_printf(&c->log, "  still in xl list %d s after it shut down\n", REAP_WAIT_S);
		return 0;
	}
	t0 = now_ms();
	*ok = domain_start(c->name, cfg, &domid, &why) == 0;
	step_record(c, "xl create", *ok, now_ms() - t0);
	if (*ok)
		buf_printf(&c->log, "  xl create: done in %.1f s\n",
			   (double)(now_ms() - t0) / 1000.0);
	else
		buf_printf(&c->log, "  xl create: FAILED\n%s\n", why.msg);
	return 0;
}

static const struct {
	const char *name;
	int (*round)(struct check *c, bool *ok, struct xerr *e);
} checks[] = {
	{ "save-restore", save_restore },
	{ "local-migrate", local_migrate },
	{ "stop-start", stop_start },
};

int op_guest_check(struct json_object *args, struct json_object **result, struct xerr *e)
{
	struct check c = { 0 };
	const char *kind;
	int64_t of;
	size_t k;
	bool ok;
	struct in_addr addr;
	int rc = -1;

	/* round of rounds_of: numbered as in the whole test, for the log. */
	if (arg_name(args, AGENT_ARG_NAME, &c.name, e) < 0 ||
	    arg_str(args, AGENT_ARG_ACTION, true, &kind, e) < 0 ||
	    arg_str(args, AGENT_ARG_IP, true, &c.ip, e) < 0 ||
	    arg_int(args, AGENT_ARG_ROUND, false, 1, 1, CHECK_ROUNDS_MAX, &c.round, e) < 0 ||
	    arg_int(args, AGENT_ARG_ROUNDS_OF, false, c.round, c.round, CHECK_ROUNDS_MAX, &of,
		    e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, 120, 1, 86400, &c.timeout_s, e) < 0)
		return -1;
	if (inet_pton(AF_INET, c.ip, &addr) != 1)
		return xerr_set(e, XERR_USAGE, "'%s' is not an IPv4 address", c.ip);
	for (k = 0; k < ARRAY_SIZE(checks) && strcmp(checks[k].name, kind); k++)
		;
	if (k == ARRAY_SIZE(checks))
		return xerr_set(e, XERR_USAGE,
				"no action '%s' (save-restore, local-migrate, stop-start)", kind);
	c.steps = json_object_new_array();
	buf_printf(&c.log, "%s %" PRId64 "/%" PRId64 ":\n", kind, c.round, of);
	if (checks[k].round(&c, &ok, e) < 0 || (ok && answers(&c, &ok, e) < 0))
		goto out;
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_PASSED, json_object_new_boolean(ok));
	json_object_object_add(*result, AGENT_RES_OUTPUT,
			       json_object_new_string(c.log.data ? c.log.data : ""));
	json_object_object_add(*result, AGENT_RES_STEPS, json_object_get(c.steps));
	rc = 0;
out:
	json_object_put(c.steps);
	buf_free(&c.log);
	return rc;
}
