/* xlab up: make a lab match its spec. Every step is recorded before and after
 * it runs, and every step is idempotent, so a run cut anywhere (Ctrl-C, kill
 * -9, a crash) is finished by the next `up` or cleaned by `down`. */
#include "up.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_client.h"
#include "guest_agent.h"
#include "db.h"
#include "hostprep.h"
#include "image.h"
#include "hostconn.h"
#include "lab.h"
#include "lifecycle.h"
#include "reconcile.h"
#include "labtest.h"
#include "paths.h"
#include "plan.h"
#include "run.h"
#include "sha256.h"
#include "spec.h"
#include "sshc.h"
#include "stop.h"
#include "subnet.h"
#include "util.h"
#include "virt.h"


struct up_ctx {
	const struct up_opts *o;
	struct spec *spec;
	struct plan *plan;
	struct db *db;
	struct virt *virt;
	struct image *img;
	struct run run;
	struct lab_dirs dirs;
	char *accel;
	char subnet[20];
	char store_id[XLAB_STORE_ID_LEN + 1];
	struct virt_owner owner; /* this store's claim on the lab's libvirt objects */
	char *agent_path;
	struct up_result *res;
	/* The shared VG is made through the first host, then found by the
	 * others; its metadata changes (lvcreate) go one host at a time. */
	pthread_mutex_t shared_mu;
	pthread_cond_t shared_cv;
	int shared_state; /* 0 not yet, 1 made, -1 failed */
};

struct host_work {
	struct up_ctx *ctx;
	const struct plan_host *ph;
	char def_hash[65];
	char uuid[40];
	int rc;
	struct xerr err;
	pthread_t thread;
};

static void host_def_hash(const struct up_ctx *ctx, const struct plan_host *ph, char out[65])
{
	const struct host_inputs in = {
		.image = ctx->img->name,
		.image_manifest = ctx->img->manifest_sha256,
		.accel = ctx->accel,
		.shared_size = ctx->plan->shared_disk ? ctx->spec->shared_size : 0,
	};

	host_definition_hash(ph, &in, out);
}

static char *host_key_path(const struct plan_host *ph, const char *suffix)
{
	return lab_host_key_path(ph->dir, suffix);
}

static char *dom0_key_path(const struct up_ctx *ctx, const char *suffix)
{
	return xasprintf("%s/dom0_id_ed25519%s", ctx->dirs.dir, suffix);
}

/* The key root in one dom0 uses to reach another (`xl migrate` runs `ssh
 * HOST xl migrate-receive`): one per lab, accepted by every host. */
static int dom0_key_ensure(struct up_ctx *ctx, struct xerr *e)
{
	_cleanup_free_ char *priv = dom0_key_path(ctx, "");
	_cleanup_free_ char *pub = dom0_key_path(ctx, ".pub");
	_cleanup_free_ char *comment = xasprintf("%s-dom0", ctx->spec->lab);

	if (path_exists(priv))
		return 0;
	return sshkey_generate_ed25519(priv, pub, comment, e);
}

static int keys_ensure(struct up_ctx *ctx, struct xerr *e)
{
	const struct plan *p = ctx->plan;
	char **names = xcalloc(p->n_hosts + 1, sizeof(char *));
	char **pubs = xcalloc(p->n_hosts + 1, sizeof(char *));
	int rc = -1;

	if (!path_exists(ctx->dirs.key) &&
	    sshkey_generate_ed25519(ctx->dirs.key, ctx->dirs.pub, ctx->spec->lab, e) < 0)
		goto out;
	if (dom0_key_ensure(ctx, e) < 0)
		goto out;
	for (size_t i = 0; i < p->n_hosts; i++) {
		const struct plan_host *ph = &p->hosts[i];
		_cleanup_free_ char *priv = host_key_path(ph, "");
		_cleanup_free_ char *pub = host_key_path(ph, ".pub");

		if (mkdir_p(ph->dir, 0755, e) < 0)
			goto out;
		if (!path_exists(priv) && sshkey_generate_ed25519(priv, pub, ph->spec->name, e) < 0)
			goto out;
		if (sshkey_public_line(pub, &pubs[i], e) < 0)
			goto out;
		names[i] = xasprintf("%s,%s", ph->spec->name, ph->ip);
	}
	rc = known_hosts_write(ctx->dirs.known_hosts, (const char *const *)names,
			       (const char *const *)pubs, p->n_hosts, e);
out:
	strv_free(names);
	strv_free(pubs);
	return rc;
}

static int host_config_write(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	_cleanup_free_ char *priv = NULL, *pub = NULL, *auth = NULL, *hostname = NULL,
			    *network = NULL, *dom0_priv = NULL, *dom0_pub = NULL, *known = NULL;
	_cleanup_free_ char *priv_path = host_key_path(ph, "");
	_cleanup_free_ char *pub_path = host_key_path(ph, ".pub");
	_cleanup_free_ char *dom0_priv_path = dom0_key_path(ctx, "");
	_cleanup_free_ char *dom0_pub_path = dom0_key_path(ctx, ".pub");
	size_t priv_len, pub_len, auth_len, dom0_priv_len, dom0_pub_len, known_len;
	struct buf keys = { 0 };
	int rc;

	if (file_read_all(priv_path, 65536, &priv, &priv_len, e) < 0 ||
	    file_read_all(pub_path, 65536, &pub, &pub_len, e) < 0 ||
	    file_read_all(ctx->dirs.pub, 65536, &auth, &auth_len, e) < 0 ||
	    file_read_all(dom0_priv_path, 65536, &dom0_priv, &dom0_priv_len, e) < 0 ||
	    file_read_all(dom0_pub_path, 65536, &dom0_pub, &dom0_pub_len, e) < 0 ||
	    file_read_all(ctx->dirs.known_hosts, 1 << 20, &known, &known_len, e) < 0)
		return -1;
	/* The controller's key and the other dom0s' key. */
	buf_append(&keys, auth, auth_len);
	if (auth_len && auth[auth_len - 1] != '\n')
		buf_puts(&keys, "\n");
	buf_append(&keys, dom0_pub, dom0_pub_len);
	hostname = xasprintf("%s\n", ph->spec->name);
	network = xasprintf("ADDRESS=%s/%d\nGATEWAY=%s\nLAB=%s\n", ph->ip, ctx->plan->prefix,
			    ctx->plan->gateway, ctx->spec->lab);
	{
		const struct config_entry entries[] = {
			{ "hostname", hostname, strlen(hostname), 0644 },
			{ "network", network, strlen(network), 0644 },
			{ "hosts", ctx->plan->hosts_file, strlen(ctx->plan->hosts_file), 0644 },
			{ "authorized_keys", keys.data, keys.len, 0600 },
			{ "ssh_host_ed25519_key", priv, priv_len, 0600 },
			{ "ssh_host_ed25519_key.pub", pub, pub_len, 0644 },
			{ "dom0_id_ed25519", dom0_priv, dom0_priv_len, 0600 },
			{ "dom0_id_ed25519.pub", dom0_pub, dom0_pub_len, 0644 },
			{ "known_hosts", known, known_len, 0644 },
		};

		rc = config_disk_write(ph->config_disk, entries, ARRAY_SIZE(entries), e);
	}
	buf_free(&keys);
	return rc;
}

/* The shared disk: a sparse raw file, made once and kept across `up`s (it
 * holds the shared VG); `down` removes it with the lab's directory. */
static int shared_disk_make(const char *path, uint64_t size, struct xerr *e)
{
	_cleanup_close_ int fd = -1;

	if (path_exists(path))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot create %s", path);
	if (ftruncate(fd, (off_t)size) < 0) {
		xerr_errno(e, XERR_IO, "cannot size %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* Disks, config disk, boot ISO: all made before the domain is defined, so a
 * defined domain always has everything it boots from. */
static int host_files_make(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	_cleanup_free_ char *base = image_path(ctx->img, "root.qcow2");
	const struct spec_host *h = ph->spec;

	if (mkdir_p(ph->dir, 0755, e) < 0)
		return -1;
	if (qcow2_create(ph->root_overlay, base, 0, e) < 0 ||
	    qcow2_create(ph->data_disk, NULL, h->data_disk, e) < 0)
		return -1;
	for (size_t i = 0; i < h->n_disks; i++)
		if (qcow2_create(ph->extra_disks[i], NULL, h->disks[i], e) < 0)
			return -1;
	if (host_config_write(ctx, ph, e) < 0)
		return -1;
	return boot_iso_make(ph->boot_iso, ctx->img->dir, ph->grub_cfg, e);
}

static int host_record(struct up_ctx *ctx, struct host_work *w, const char *state,
		       struct xerr *e)
{
	struct db_host h = {
		.lab = ctx->spec->lab,
		.name = w->ph->spec->name,
		.mac = w->ph->mac,
		.ip = w->ph->ip,
		.libvirt_uuid = w->uuid,
		.image = ctx->img->name,
		.image_sha256 = ctx->img->manifest_sha256,
		.state = state,
		.definition_sha256 = w->def_hash,
	};
	int rc;

	pthread_mutex_lock(&ctx->run.mu);
	rc = db_host_upsert(ctx->db, &h, e);
	pthread_mutex_unlock(&ctx->run.mu);
	return rc;
}

/* The recorded definition of a host that libvirt has, or NULL. */
static char *host_hash_stored(struct up_ctx *ctx, const char *name)
{
	struct db_host *hosts = NULL;
	size_t n = 0;
	const char *h;
	char *hash;
	struct xerr e = { 0 };

	if (db_hosts_list(ctx->db, ctx->spec->lab, &hosts, &n, &e) < 0)
		return NULL;
	h = host_recorded_hash(hosts, n, name);
	hash = h ? xstrdup(h) : NULL;
	db_hosts_free(hosts, n);
	return hash;
}

static int host_remove(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	if (virt_domain_remove(ctx->virt, ph->domain, &ctx->owner, e) < 0)
		return -1;
	return rm_rf(ph->dir, e);
}

static int guests_forget(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	int rc;

	pthread_mutex_lock(&ctx->run.mu);
	rc = db_guests_set_state(ctx->db, ctx->spec->lab, ph->spec->name, "removed", e);
	pthread_mutex_unlock(&ctx->run.mu);
	return rc;
}

/* Defines (if needed) and starts one host. Sequential: all of it is local and
 * quick; the slow part, booting, runs in parallel afterwards. */
static int host_ensure(struct up_ctx *ctx, struct host_work *w, struct xerr *e)
{
	const struct plan_host *ph = w->ph;
	struct virt_dom_info info;
	struct step s;

	host_def_hash(ctx, ph, w->def_hash);
	if (virt_domain_info(ctx->virt, ph->domain, &info, e) < 0)
		return -1;
	/* Never adopt, restart or rebuild a domain this store did not make for
	 * this lab, whatever its name. */
	if (info.exists && virt_owner_check("domain", ph->domain, &info.owner, &ctx->owner, e) < 0)
		return -1;
	if (info.exists) {
		_cleanup_free_ char *old = host_hash_stored(ctx, ph->spec->name);

		switch (host_action_decide(true, old, w->def_hash, ctx->o->recreate)) {
		case HOST_REFUSE:
			return xerr_set(e, XERR_CONFLICT,
					"host '%s' changed in the spec (memory, disks, address or "
					"image) and would have to be rebuilt, losing what is on it; "
					"run `xlab up --recreate` to rebuild it",
					ph->spec->name);
		case HOST_REBUILD:
			step_begin(&s, &ctx->run, "host.remove", ph->spec->name);
			if (step_end(&s, host_remove(ctx, ph, e), e) < 0)
				return -1;
			info.exists = false;
			break;
		default:
			break;
		}
	}
	if (!info.exists) {
		/* A new domain has none of the guests the store may remember. */
		if (guests_forget(ctx, ph, e) < 0)
			return -1;
		/* Files first, then the domain: a domain never exists without them. */
		step_begin(&s, &ctx->run, "host.prepare", ph->spec->name);
		if (step_end(&s, host_files_make(ctx, ph, e), e) < 0)
			return -1;
		step_begin(&s, &ctx->run, "host.define", ph->spec->name);
		if (step_end(&s, virt_domain_define(ctx->virt, ph->domain_xml, w->uuid, e), e) < 0)
			return -1;
	} else {
		snprintf(w->uuid, sizeof(w->uuid), "%s", info.uuid);
	}
	if (host_record(ctx, w, "defined", e) < 0)
		return -1;
	step_begin(&s, &ctx->run, "host.start", ph->spec->name);
	if (info.exists && info.running) {
		step_skip(&s, "already running");
		return 0;
	}
	return step_end(&s, virt_domain_start(ctx->virt, ph->domain, e), e);
}

static void serial_tail(const char *path, char *out, size_t outsz)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return;
	n = pread(fd, out, outsz - 1, size > (off_t)outsz - 1 ? size - (off_t)outsz + 1 : 0);
	out[n > 0 ? n : 0] = '\0';
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Under TCG a nested dom0 kernel now and then stops for good early in its
 * boot (seen in CI: the console's last line "registered taskstats", the
 * other host of the lab fine). A console silent for this long before sshd
 * answers gets the host one power cycle; a real boot prints every few
 * seconds. */
static int64_t boot_stall_ms(void)
{
	const char *env = getenv("XLAB_BOOT_STALL_S");
	long v = env && *env ? strtol(env, NULL, 10) : 0;

	return (v > 0 ? v : 180) * 1000;
}

/* 1 when the host was restarted now, 0 when it needs nothing, -1 on error. */
static int boot_watchdog(struct up_ctx *ctx, const struct plan_host *ph, off_t *seen,
			 int64_t *quiet_since, bool *reset_done, struct xerr *e)
{
	off_t size = file_size(ph->serial_log);
	char tail[160];
	char *nl;

	if (size != *seen) {
		*seen = size;
		*quiet_since = now_ms();
		return 0;
	}
	if (*reset_done || now_ms() - *quiet_since < boot_stall_ms())
		return 0;
	serial_tail(ph->serial_log, tail, sizeof(tail));
	/* The console ends its lines with \r\n: keep the text only. */
	for (char *r = tail, *w = tail;; r++)
		if (*r != '\r' && !(*w++ = *r))
			break;
	nl = strrchr(tail, '\n');
	if (nl && !nl[1]) {
		*nl = '\0';
		nl = strrchr(tail, '\n');
	}
	run_say(&ctx->run, ph->spec->name,
		"no console output for %" PRId64 " s (last: \"%s\"): restarting it, once",
		boot_stall_ms() / 1000, nl ? nl + 1 : tail);
	*reset_done = true;
	*quiet_since = now_ms();
	if (virt_domain_power_cycle(ctx->virt, ph->domain, e) < 0)
		return xerr_prefix(e, "host '%s' stalled while booting", ph->spec->name);
	return 1;
}

static int host_wait_ready(struct up_ctx *ctx, struct host_work *w, struct sshc **conn,
			   struct xerr *e)
{
	const struct plan_host *ph = w->ph;
	_cleanup_free_ char *pub = host_key_path(ph, ".pub");
	int64_t start = now_ms(), last_say = start, quiet_since = start;
	int64_t deadline = start + (int64_t)ctx->o->boot_timeout_s * 1000;
	off_t seen = -2;
	bool reset_done = false;
	struct sshc_target t;

	lab_host_target(&ctx->dirs, ph->ip, pub, &t);
	while (!stop_requested()) {
		int r = sshc_probe(&t, 3000, conn, e);

		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
		r = boot_watchdog(ctx, ph, &seen, &quiet_since, &reset_done, e);
		if (r < 0)
			return -1;
		/* The restart begins the boot again: so does its time allowance. */
		if (r == 1)
			deadline = now_ms() + (int64_t)ctx->o->boot_timeout_s * 1000;
		if (now_ms() > deadline) {
			char tail[2048];

			serial_tail(ph->serial_log, tail, sizeof(tail));
			return xerr_set(e, XERR_FAIL,
					"host '%s' did not answer on ssh (%s) within %d s; last "
					"lines of its serial console (%s):\n%s",
					ph->spec->name, ph->ip, ctx->o->boot_timeout_s,
					ph->serial_log, tail);
		}
		if (now_ms() - last_say >= 15000) {
			last_say = now_ms();
			run_say(&ctx->run, ph->spec->name, "booting (%" PRId64 " s)...",
				(last_say - start) / 1000);
		}
		/* Probing is cheap; a short pause keeps the wait close to the boot. */
		usleep(500 * 1000);
	}
	return xerr_set(e, XERR_INTERRUPTED, "interrupted");
}

static struct json_object *storage_args(const struct up_ctx *ctx, const struct plan_host *ph)
{
	struct json_object *a = json_object_new_object();
	struct json_object *extras = json_object_new_array();

	json_object_object_add(a, AGENT_ARG_VG, json_object_new_string(ctx->spec->vg));
	json_object_object_add(a, AGENT_ARG_DATA_SERIAL, json_object_new_string("xlab-data"));
	for (size_t i = 0; i < ph->spec->n_disks; i++) {
		char serial[32];

		snprintf(serial, sizeof(serial), "xlab-extra%zu", i + 1);
		json_object_array_add(extras, json_object_new_string(serial));
	}
	json_object_object_add(a, AGENT_ARG_EXTRA_SERIALS, extras);
	if (ctx->spec->shared_vg) {
		json_object_object_add(a, AGENT_ARG_SHARED_VG, json_object_new_string(ctx->spec->shared_vg));
		json_object_object_add(a, AGENT_ARG_SHARED_SERIAL, json_object_new_string(PLAN_SHARED_SERIAL));
		json_object_object_add(a, AGENT_ARG_SHARED_CREATE, json_object_new_boolean(
			ph == &ctx->plan->hosts[0]));
	}
	return a;
}

static void shared_state_set(struct up_ctx *ctx, int state)
{
	pthread_mutex_lock(&ctx->shared_mu);
	if (ctx->shared_state == 0)
		ctx->shared_state = state;
	pthread_cond_broadcast(&ctx->shared_cv);
	pthread_mutex_unlock(&ctx->shared_mu);
}

/* Hosts after the first find the shared VG only once the first made it. */
static int shared_wait(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e)
{
	int state;

	if (!ctx->spec->shared_vg || ph == &ctx->plan->hosts[0])
		return 0;
	pthread_mutex_lock(&ctx->shared_mu);
	while (ctx->shared_state == 0 && !stop_requested()) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ctx->shared_cv, &ctx->shared_mu, &ts);
	}
	state = ctx->shared_state;
	pthread_mutex_unlock(&ctx->shared_mu);
	if (state < 0 || stop_requested())
		return xerr_set(e, XERR_FAIL,
				"the shared volume group '%s' was not made through host '%s'",
				ctx->spec->shared_vg, ctx->plan->hosts[0].spec->name);
	return 0;
}

static int guest_create(struct up_ctx *ctx, struct agent *ag, const struct plan_guest *pg,
			struct xerr *e)
{
	int rc;

	/* No cluster locking: one host at a time changes the shared VG. */
	if (pg->spec->shared)
		pthread_mutex_lock(&ctx->shared_mu);
	rc = guest_agent_create(ag, pg, pg->spec->shared ? ctx->spec->shared_vg : ctx->spec->vg,
				&ctx->dirs, e);
	if (pg->spec->shared)
		pthread_mutex_unlock(&ctx->shared_mu);
	return rc;
}

static void guest_record(struct up_ctx *ctx, const struct plan_guest *pg, const char *state)
{
	struct db_guest g = {
		.lab = ctx->spec->lab,
		.host = pg->host->spec->name,
		.name = pg->spec->name,
		.mac = pg->mac,
		.ip = pg->ip,
		.state = state,
		.made_by = "spec",
	};
	struct xerr e = { 0 };

	pthread_mutex_lock(&ctx->run.mu);
	if (db_guest_upsert(ctx->db, &g, &e) < 0)
		xerr_print(&e, "xlab: warning");
	pthread_mutex_unlock(&ctx->run.mu);
}

/* Agent, storage and guests of one host, over one SSH session: the boot
 * wait's, when it left one (taken over and freed here). */
static int host_guests(struct up_ctx *ctx, struct host_work *w, struct sshc *c,
		       struct xerr *e)
{
	const struct plan_host *ph = w->ph;
	const char *name = ph->spec->name;
	struct agent *ag = NULL;
	struct json_object *res = NULL;
	struct step s;
	bool pushed = false;
	int rc = -1;

	/* The step is the agent's start: its hello says whether a push was needed. */
	step_begin(&s, &ctx->run, "agent.push", name);
	rc = !c && lab_host_connect(&ctx->dirs, name, ph->ip, &c, e) < 0 ? -1 :
		agent_open(c, ctx->agent_path, &ag, &pushed, e);
	if (rc == 0 && !pushed) {
		_cleanup_free_ char *why = xasprintf(
			"the agent there is ours (same sha256, checked in %" PRId64 " ms in the dom0)",
			agent_check_ms(ag));

		step_skip(&s, why);
	} else if (step_end(&s, rc, e) < 0)
		goto out;
	rc = -1;
	if (shared_wait(ctx, ph, e) < 0)
		goto out;
	step_begin(&s, &ctx->run, "storage.init", name);
	rc = step_end(&s, agent_call(ag, AGENT_OP_STORAGE_INIT, storage_args(ctx, ph), &res, e), e);
	if (ctx->spec->shared_vg && ph == &ctx->plan->hosts[0])
		shared_state_set(ctx, rc == 0 ? 1 : -1);
	if (rc < 0)
		goto out;
	rc = -1;
	for (size_t i = 0; i < ctx->plan->n_guests; i++) {
		const struct plan_guest *pg = &ctx->plan->guests[i];

		if (pg->host != ph)
			continue;
		step_begin(&s, &ctx->run, "guest.create", pg->spec->name);
		if (step_end(&s, guest_create(ctx, ag, pg, e), e) < 0)
			goto out;
		guest_record(ctx, pg, "created");
	}
	for (size_t i = 0; i < ctx->plan->n_guests; i++) {
		const struct plan_guest *pg = &ctx->plan->guests[i];

		if (pg->host != ph)
			continue;
		step_begin(&s, &ctx->run, "guest.boot", pg->spec->name);
		if (step_end(&s, guest_agent_wait(ag, pg->spec->name, e), e) < 0) {
			guest_record(ctx, pg, "failed");
			goto out;
		}
		guest_record(ctx, pg, "up");
		run_say(&ctx->run, pg->spec->name, "up on %s at %s", name, pg->ip);
	}
	rc = 0;
out:
	json_object_put(res);
	agent_close(ag);
	sshc_free(c);
	return rc;
}

static void *host_thread(void *arg)
{
	struct host_work *w = arg;
	struct up_ctx *ctx = w->ctx;
	struct sshc *conn = NULL;
	struct step s;

	step_begin(&s, &ctx->run, "host.boot", w->ph->spec->name);
	w->rc = step_end(&s, host_wait_ready(ctx, w, &conn, &w->err), &w->err);
	if (w->rc == 0) {
		struct xerr ignore = { 0 };

		run_say(&ctx->run, w->ph->spec->name, "Xen dom0 ready at %s", w->ph->ip);
		host_record(ctx, w, "up", &ignore);
		if (!ctx->o->no_guests) {
			w->rc = host_guests(ctx, w, conn, &w->err);
			conn = NULL;
		}
	}
	sshc_free(conn);
	/* A first host that never got to the shared VG must not leave the
	 * others waiting for it. */
	if (w->ph == &ctx->plan->hosts[0])
		shared_state_set(ctx, -1);
	return NULL;
}

static int hosts_bring_up(struct up_ctx *ctx, struct xerr *e)
{
	size_t n = ctx->plan->n_hosts, failed = 0;
	struct host_work *w = xcalloc(n, sizeof(*w));
	struct buf msg = { 0 };
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		w[i].ctx = ctx;
		w[i].ph = &ctx->plan->hosts[i];
		if (host_ensure(ctx, &w[i], e) < 0) {
			free(w);
			return xerr_prefix(e, "host '%s'", ctx->plan->hosts[i].spec->name);
		}
	}
	for (size_t i = 0; i < n; i++)
		pthread_create(&w[i].thread, NULL, host_thread, &w[i]);
	for (size_t i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].rc < 0) {
			buf_printf(&msg, "%s%s: %s", failed++ ? "\n" : "",
				   w[i].ph->spec->name, w[i].err.msg);
		}
	}
	if (failed) {
		rc = xerr_set(e, XERR_FAIL, "%zu of %zu host(s) failed:\n%s", failed, n,
			      msg.data);
	}
	buf_free(&msg);
	free(w);
	return rc;
}

/* Two labs on one subnet would share addresses and routes; libvirt
 * refuses the second network with a message naming neither lab. */
static int subnet_clash(struct db *db, const struct spec *spec, struct xerr *e)
{
	struct db_lab *labs = NULL;
	struct cidr mine, theirs;
	size_t n = 0;
	int rc = 0;

	if (cidr_parse(spec->subnet, &mine, e) < 0 || db_labs_list(db, &labs, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct xerr ignore = { 0 };

		/* A lab that is down holds no network; the pool still avoids its
		 * subnet, but an explicit one may take it. */
		if (strcmp(labs[i].name, spec->lab) == 0 || !labs[i].subnet ||
		    lab_state_parse(labs[i].state) == LAB_DOWN ||
		    cidr_parse(labs[i].subnet, &theirs, &ignore) < 0 || !cidr_overlap(&mine, &theirs))
			continue;
		rc = xerr_set(e, XERR_FAIL,
			      "subnet %s of lab '%s' (%s) overlaps %s of lab '%s' (%s, %s); give one "
			      "of them another network.subnet, or take '%s' down",
			      spec->subnet, spec->lab, spec->path, labs[i].subnet, labs[i].name,
			      labs[i].spec_path ? labs[i].spec_path : "no spec", labs[i].state,
			      labs[i].name);
	}
	db_labs_free(labs, n);
	return rc;
}

static int subnet_choose(struct up_ctx *ctx, struct xerr *e)
{
	struct db_lab *lab = NULL;
	char **used = NULL;
	int rc;

	if (ctx->spec->subnet) {
		snprintf(ctx->subnet, sizeof(ctx->subnet), "%s", ctx->spec->subnet);
		return 0;
	}
	/* A lab keeps the subnet it was given first. */
	if (db_lab_get(ctx->db, ctx->spec->lab, &lab, e) < 0)
		return -1;
	if (lab && lab->subnet && *lab->subnet) {
		snprintf(ctx->subnet, sizeof(ctx->subnet), "%s", lab->subnet);
		db_lab_free(lab);
		return 0;
	}
	db_lab_free(lab);
	if (db_subnets_in_use(ctx->db, &used, e) < 0)
		return -1;
	rc = subnet_allocate(ctx->spec->lab, used, strv_len(used), ctx->subnet, e);
	strv_free(used);
	return rc;
}

/* `up` on a lab that is already what the spec says: answer from libvirt and
 * the store, without touching the hosts. */
static bool lab_already_up(struct up_ctx *ctx)
{
	size_t n = ctx->plan->n_hosts;
	char (*want)[65] = xcalloc(n + 1, sizeof(*want));
	bool *running = xcalloc(n + 1, sizeof(*running));
	struct db_host *hosts = NULL;
	struct db_guest *guests = NULL;
	size_t nh = 0, ng = 0;
	struct xerr e = { 0 };
	bool up = false;

	for (size_t i = 0; i < n; i++) {
		struct virt_dom_info info;

		host_def_hash(ctx, &ctx->plan->hosts[i], want[i]);
		running[i] = virt_domain_info(ctx->virt, ctx->plan->hosts[i].domain, &info, &e) == 0 &&
			     info.exists && info.running;
	}
	if (db_hosts_list(ctx->db, ctx->spec->lab, &hosts, &nh, &e) == 0 &&
	    db_guests_list(ctx->db, ctx->spec->lab, &guests, &ng, &e) == 0)
		up = lab_matches_plan(ctx->plan, (const char (*)[65])want, running, hosts, nh,
				      guests, ng, ctx->o->no_guests);
	db_hosts_free(hosts, nh);
	db_guests_free(guests, ng);
	free(running);
	free(want);
	return up;
}

static int up_steps(struct up_ctx *ctx, struct xerr *e)
{
	struct plan_env env = { 0 };
	struct step s;
	bool created = false;
	_cleanup_free_ char *image = image_name_for_xen(ctx->spec->xen);

	if (xlab_store_id(ctx->store_id, e) < 0)
		return -1;
	virt_owner_set(&ctx->owner, ctx->store_id, ctx->spec->lab);
	if (image_open(image, &ctx->img, e) < 0)
		return -1;
	if (virt_open(virt_default_uri(ctx->o->connect, ctx->spec->libvirt_uri), &ctx->virt,
		      e) < 0)
		return -1;
	if (virt_check_daemon_state(ctx->virt, e) < 0 ||
	    virt_detect_accel(ctx->virt, ctx->o->accel, &ctx->accel, e) < 0)
		return -1;
	if (subnet_choose(ctx, e) < 0)
		return -1;
	if (lab_dirs_get(ctx->spec->lab, &ctx->dirs, e) < 0)
		return -1;
	env.state_dir = ctx->dirs.dir;
	env.image_dir = ctx->img->dir;
	env.accel = ctx->accel;
	env.subnet = ctx->subnet;
	env.store_id = ctx->store_id;
	if (plan_build(ctx->spec, &env, &ctx->plan, e) < 0)
		return -1;
	if (db_lab_claim(ctx->db, ctx->spec->lab, ctx->o->made_by ? ctx->o->made_by : "spec",
			 e) < 0)
		return -1;
	if (db_lab_upsert(ctx->db, ctx->spec->lab, ctx->spec->path, ctx->spec->sha256,
			  ctx->subnet, lab_state_name(LAB_PARTIAL), e) < 0)
		return -1;
	if (!ctx->o->recreate && lab_already_up(ctx)) {
		run_say(&ctx->run, NULL, "lab '%s' is up and matches %s: nothing to do",
			ctx->spec->lab, ctx->spec->path);
		ctx->res->up = true;
		ctx->res->bringup_ms = now_ms() - ctx->run.t0_ms;
		return db_lab_upsert(ctx->db, ctx->spec->lab, ctx->spec->path, ctx->spec->sha256,
				     ctx->subnet, lab_state_name(LAB_UP), e);
	}
	run_say(&ctx->run, NULL, "lab '%s': %zu host(s), %zu guest(s), subnet %s, %s, image %s",
		ctx->spec->lab, ctx->plan->n_hosts, ctx->plan->n_guests, ctx->subnet,
		strcmp(ctx->accel, "kvm") == 0 ? "KVM" : "TCG (no hardware virtualization)",
		ctx->img->name);
	step_begin(&s, &ctx->run, "image.verify", ctx->img->name);
	if (step_end(&s, image_verify(ctx->img, e), e) < 0)
		return -1;
	if (!ctx->o->no_guests && agent_local_path(&ctx->agent_path, e) < 0)
		return -1;
	step_begin(&s, &ctx->run, "keys", NULL);
	if (step_end(&s, keys_ensure(ctx, e), e) < 0)
		return -1;
	if (ctx->plan->shared_disk) {
		step_begin(&s, &ctx->run, "shared.prepare", ctx->plan->shared_disk);
		if (step_end(&s, shared_disk_make(ctx->plan->shared_disk, ctx->spec->shared_size, e),
			     e) < 0)
			return -1;
	}
	step_begin(&s, &ctx->run, "network.ensure", ctx->plan->network);
	if (step_end(&s, virt_network_ensure(ctx->virt, ctx->plan->network,
					     ctx->plan->network_xml, &ctx->owner, &created, e),
		     e) < 0)
		return -1;
	if (hosts_bring_up(ctx, e) < 0)
		return -1;
	if (db_lab_upsert(ctx->db, ctx->spec->lab, ctx->spec->path, ctx->spec->sha256,
			  ctx->subnet, lab_state_name(LAB_UP), e) < 0)
		return -1;
	ctx->res->up = true;
	ctx->res->bringup_ms = now_ms() - ctx->run.t0_ms;
	if (ctx->o->no_guests || ctx->o->no_tests || !ctx->spec->n_tests)
		return 0;
	return labtest_run_all(ctx->spec, ctx->plan, &ctx->dirs, &ctx->run, e);
}

/* A stopped lab is started, not brought up: `up` would boot its hosts and
 * find the spec's guests, but not the guests made by hand, and would then
 * call the lab up with them missing. Say which command does it. */
static int up_allowed(struct db *db, const char *lab, struct xerr *e)
{
	enum lab_state from, to;

	if (lab_state_get(db, lab, &from, e) < 0)
		return -1;
	return lab_state_next(lab, from, LAB_EV_UP, &to, e);
}

int lab_up_spec(struct spec *spec, const struct up_opts *o, struct up_result *res,
		struct xerr *e)
{
	struct up_result ignore_res;
	struct up_ctx ctx = { .o = o, .spec = spec, .res = res ? res : &ignore_res,
			      .shared_mu = PTHREAD_MUTEX_INITIALIZER,
			      .shared_cv = PTHREAD_COND_INITIALIZER };
	int lock = -1, rc = -1;
	bool run_started = false;

	*ctx.res = (struct up_result){ 0 };
	lock = lab_lock(ctx.spec->lab, "up", e);
	if (lock < 0)
		goto out;
	if (db_open_default(&ctx.db, e) < 0)
		goto out;
	/* Refused before a run is recorded: nothing was tried. */
	if (up_allowed(ctx.db, ctx.spec->lab, e) < 0)
		goto out;
	if (ctx.spec->subnet && subnet_clash(ctx.db, ctx.spec, e) < 0)
		goto out;
	if (db_runs_mark_interrupted(ctx.db, ctx.spec->lab, e) < 0)
		goto out;
	if (run_begin(&ctx.run, ctx.db, ctx.spec->lab, "up", ctx.spec->sha256, e) < 0)
		goto out;
	run_started = true;
	ctx.res->run_id = ctx.run.id;
	/* A stop asked before the first step: nothing is made. */
	rc = stop_requested() ? -1 : up_steps(&ctx, e);
	if (rc == 0)
		run_say(&ctx.run, NULL, "lab '%s' is up (run %" PRId64 "); `xlab list %s` shows it",
			ctx.spec->lab, ctx.run.id, ctx.spec->lab);
out:
	if (run_started) {
		if (stop_requested()) {
			xerr_set(e, XERR_INTERRUPTED,
				 "interrupted; run `xlab up %s` to finish or `xlab down %s` to clean up",
				 ctx.spec->path, ctx.spec->lab);
			run_end(&ctx.run, "interrupted", e->msg);
		} else {
			run_end(&ctx.run, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
		}
	}
	if (ctx.plan)
		plan_free(ctx.plan);
	if (ctx.img)
		image_free(ctx.img);
	if (ctx.virt)
		virt_close(ctx.virt);
	if (ctx.db)
		db_close(ctx.db);
	lab_dirs_free(&ctx.dirs);
	free(ctx.accel);
	free(ctx.agent_path);
	lab_unlock(lock);
	return rc;
}

int lab_up(const char *spec_path, const struct up_opts *o, struct xerr *e)
{
	struct spec *spec = NULL;
	struct spec_diags diags = { 0 };
	int rc;

	if (spec_load(spec_path, &spec, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		spec_diags_free(&diags);
		return -1;
	}
	spec_diags_free(&diags);
	rc = lab_up_spec(spec, o, NULL, e);
	spec_free(spec);
	return rc;
}
