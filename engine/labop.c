#include "labop.h"

#include <string.h>
#include <unistd.h>

#include "hostconn.h"
#include "servers.h"
#include "serverspec.h"
#include "util.h"

static int servers_open(struct labop *p, const char *connect, struct xerr *e)
{
	size_t n;

	p->server_names = lab_servers(&p->dirs);
	n = strv_len(p->server_names);
	p->servers = xcalloc(n + 1, sizeof(*p->servers));
	if (lab_virt_open(&p->dirs, connect, &p->servers[0], e) < 0)
		return -1;
	p->virt = p->servers[0];
	for (size_t i = 1; i < n; i++) {
		int rc = strcmp(p->server_names[i], SERVER_LOCAL) == 0
				 ? virt_open(virt_default_uri(connect, NULL), &p->servers[i], e)
				 : server_open_named(p->server_names[i], &p->servers[i], e);

		if (rc < 0)
			return -1;
	}
	return 0;
}

struct virt *labop_server_virt(const struct labop *p, size_t i)
{
	return p->server_names && i < strv_len(p->server_names) ? p->servers[i] : NULL;
}

struct virt *labop_host_virt(const struct labop *p, const char *host)
{
	const char *server = lab_host_server(&p->dirs, host);

	for (size_t i = 0; p->server_names[i]; i++)
		if (strcmp(p->server_names[i], server ? server : SERVER_LOCAL) == 0)
			return p->servers[i];
	return p->virt;
}

int labop_open(struct labop *p, const char *lab, const char *connect, enum lab_event ev,
	       const char *command, struct xerr *e)
{
	struct db_lab *l = NULL;
	enum lab_state to;
	int rc;

	*p = (struct labop){ .lab = lab, .lock = -1 };
	if (!command)
		command = lab_event_name(ev);
	if (db_open_default(&p->db, e) < 0 || lab_require(p->db, lab, &l, e) < 0)
		return -1;
	rc = lab_state_next(lab, lab_state_parse(l->state), ev, &to, e);
	db_lab_free(l);
	if (rc < 0)
		return -1;
	p->lock = lab_lock(lab, command, e);
	if (p->lock < 0 || db_runs_mark_interrupted(p->db, lab, e) < 0)
		return -1;
	if (run_begin(&p->run, p->db, lab, command, NULL, e) < 0)
		return -1;
	p->run_started = true;
	if (lab_owner(lab, &p->own, e) < 0 || lab_dirs_get(lab, &p->dirs, e) < 0 ||
	    servers_open(p, connect, e) < 0)
		return -1;
	if (db_hosts_list(p->db, lab, &p->hosts, &p->n_hosts, e) < 0 ||
	    db_guests_list(p->db, lab, &p->guests, &p->n_guests, e) < 0)
		return -1;
	return 0;
}

void labop_close(struct labop *p, int rc, const struct xerr *e)
{
	if (p->run_started)
		run_end(&p->run, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
	db_hosts_free(p->hosts, p->n_hosts);
	db_guests_free(p->guests, p->n_guests);
	lab_dirs_free(&p->dirs);
	for (size_t i = 0; p->servers && p->server_names[i]; i++)
		virt_close(p->servers[i]);
	free(p->servers);
	strv_free(p->server_names);
	if (p->db)
		db_close(p->db);
	lab_unlock(p->lock);
}

int labop_host_wait_ssh(struct labop *p, const struct db_host *h, int timeout_s, struct sshc **c,
			struct xerr *e)
{
	_cleanup_free_ char *dir = lab_host_dir(&p->dirs, h->name);
	_cleanup_free_ char *pub = lab_host_key_path(dir, ".pub");
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	struct lab_target t;

	lab_host_target(&p->dirs, h->ip, pub, &t);
	for (;;) {
		int r = sshc_probe(&t.t, 3000, c, e);

		if (r != 0)
			return r < 0 ? -1 : 0;
		if (now_ms() > deadline)
			return xerr_set(e, XERR_FAIL,
					"host '%s' did not answer on ssh (%s) within %d s; "
					"`xlab console %s %s --log` shows its serial console",
					h->name, h->ip, timeout_s, p->lab, h->name);
		usleep(500 * 1000);
	}
}
