/* Servers: add (reached once, SSH host key pinned), list (each measured
 * over its own connection), rm (refused while a lab uses it). */
#include "servers.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lifecycle.h"
#include "names.h"
#include "paths.h"
#include "placement.h"
#include "server_images.h"
#include "serverspec.h"
#include "sshc.h"
#include "util.h"

const char *const server_pools[] = { "xlab", "default", NULL };

int server_open(const char *home, const struct db_server *row, struct virt **v,
		struct xerr *e)
{
	_cleanup_free_ char *kh = NULL, *uri = NULL;

	if (!row)
		return virt_open(virt_default_uri(NULL, NULL), v, e);
	kh = names_server_known_hosts(home, row->name);
	uri = server_connect_uri(row->uri, kh, false);
	return virt_open(uri, v, e);
}

/* Reaches the new server once: for SSH, libvirt's libssh accepts the key it
 * does not know yet and writes it to kh, pinning it. */
static int server_reach(const char *uri, const char *kh, struct xerr *e)
{
	_cleanup_free_ char *conn = server_connect_uri(uri, kh, true);
	struct virt_capacity cap;
	struct virt *v = NULL;
	int rc;

	if (virt_open(conn, &v, e) < 0)
		return -1;
	/* An answer to a real question, not only a handshake. */
	rc = virt_node_capacity(v, server_pools, &cap, e);
	virt_capacity_free(&cap);
	virt_close(v);
	return rc;
}

static int server_add_new(struct db *db, const char *home, const char *name, const char *uri,
			  char **fingerprint, struct xerr *e)
{
	_cleanup_free_ char *dir = names_server_dir(home, name);
	_cleanup_free_ char *kh = names_server_known_hosts(home, name);
	struct xerr ignore = { 0 };

	/* A directory without a row is what an add that died halfway left. */
	if (rm_rf(dir, e) < 0 || mkdir_p(dir, 0700, e) < 0)
		return -1;
	if (server_reach(uri, kh, e) < 0) {
		xerr_prefix(e, "server '%s' could not be reached, so it was not added", name);
		goto fail;
	}
	if (server_uri_is_ssh(uri) && known_hosts_fingerprint(kh, fingerprint, e) < 0)
		goto fail;
	if (db_server_add(db, name, uri, e) == 0)
		return 0;
fail:
	rm_rf(dir, &ignore);
	return -1;
}

int server_add(const char *name, const char *uri, char **fingerprint, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;
	struct db_server *row = NULL;
	struct db *db = NULL;
	int rc = -1, have;

	*fingerprint = NULL;
	if (server_name_check(name, e) < 0 || server_uri_check(uri, e) < 0)
		return -1;
	if (xlab_home(&home, e) < 0 || db_open_default(&db, e) < 0)
		return -1;
	have = db_server_get(db, name, &row, e);
	if (have > 0)
		xerr_set(e, XERR_CONFLICT,
			 "a server named '%s' is already in the store (%s); `xlab server rm %s` "
			 "first to change it",
			 name, row->uri, name);
	else if (have == 0)
		rc = server_add_new(db, home, name, uri, fingerprint, e);
	db_servers_free(row, row ? 1 : 0);
	db_close(db);
	return rc;
}

/* The free space of the image store's directory: where images live when
 * the server has no pool xlab measures (this machine only). */
static void server_measure_dir(struct server_view *s)
{
	struct xerr ignore = { 0 };
	struct statvfs sv;
	char *dir = NULL;

	if (xlab_images_dir(&dir, &ignore) < 0)
		return;
	if (statvfs(dir, &sv) < 0) {
		free(dir);
		return;
	}
	s->disk_dir = dir;
	s->dir_free = (unsigned long long)sv.f_bavail * sv.f_frsize;
	s->dir_total = (unsigned long long)sv.f_blocks * sv.f_frsize;
}

static void server_measure(const char *home, const struct db_server *row,
			   struct server_view *s)
{
	struct virt *v = NULL;
	struct xerr e = { 0 };

	if (server_open(home, row, &v, &e) == 0 &&
	    virt_node_capacity(v, server_pools, &s->cap, &e) == 0)
		s->reachable = true;
	else
		s->error = xstrdup(e.msg);
	virt_close(v);
	if (s->local && !s->cap.pool)
		server_measure_dir(s);
}

int servers_list(struct server_view **out, size_t *n, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;
	struct db_server *rows = NULL;
	struct server_view *v;
	struct db *db = NULL;
	size_t nr = 0;

	if (xlab_home(&home, e) < 0 || db_open_default(&db, e) < 0)
		return -1;
	if (db_servers_list(db, &rows, &nr, e) < 0) {
		db_close(db);
		return -1;
	}
	db_close(db);
	v = xcalloc(nr + 1, sizeof(*v));
	v[0].name = xstrdup(SERVER_LOCAL);
	v[0].uri = xstrdup(virt_default_uri(NULL, NULL));
	v[0].local = true;
	server_measure(home, NULL, &v[0]);
	for (size_t i = 0; i < nr; i++) {
		v[i + 1].name = xstrdup(rows[i].name);
		v[i + 1].uri = xstrdup(rows[i].uri);
		v[i + 1].added = xstrdup(rows[i].added);
		server_measure(home, &rows[i], &v[i + 1]);
	}
	db_servers_free(rows, nr);
	*out = v;
	*n = nr + 1;
	return 0;
}

void servers_free(struct server_view *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].uri);
		free(v[i].added);
		free(v[i].error);
		free(v[i].disk_dir);
		virt_capacity_free(&v[i].cap);
	}
	free(v);
}

/* Whether a lab's directory records (`up` wrote it) hosts on server: the
 * lab's own, local when none, or one of a lab across servers. */
static bool lab_on_server(const char *lab, const char *server)
{
	struct lab_dirs d;
	struct xerr ignore = { 0 };
	bool on;

	if (lab_dirs_get(lab, &d, &ignore) < 0) {
		lab_dirs_free(&d);
		return false;
	}
	{
		_cleanup_strv_ char **all = lab_servers(&d);

		on = strv_has((const char *const *)all, server);
	}
	lab_dirs_free(&d);
	return on;
}

int server_users(struct db *db, const char *server, char ***labs, struct xerr *e)
{
	struct db_lab *l = NULL;
	size_t n = 0, k = 0;

	*labs = NULL;
	if (db_labs_list(db, &l, &n, e) < 0)
		return -1;
	*labs = xcalloc(n + 1, sizeof(**labs));
	for (size_t i = 0; i < n; i++) {
		enum lab_state st = lab_state_parse(l[i].state);

		if (st != LAB_DOWN && st != LAB_NONE && lab_on_server(l[i].name, server))
			(*labs)[k++] = xstrdup(l[i].name);
	}
	db_labs_free(l, n);
	return 0;
}

/* "a, b and c" of labs, for a refusal. */
static char *labs_text(char *const *labs)
{
	struct buf b = { 0 };
	size_t n = strv_len(labs);

	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", labs[i]);
	return buf_steal(&b);
}

static int server_rm_row(struct db *db, const char *name, struct xerr *e)
{
	_cleanup_strv_ char **labs = NULL;
	_cleanup_free_ char *home = NULL, *dir = NULL, *which = NULL;
	struct db_server *row = NULL;
	int have = db_server_get(db, name, &row, e);

	db_servers_free(row, row ? 1 : 0);
	if (have < 0)
		return -1;
	if (have == 0)
		return xerr_set(e, XERR_NOTFOUND,
				"no server '%s' in the store (`xlab server list` shows them)", name);
	if (server_users(db, name, &labs, e) < 0)
		return -1;
	if (labs[0]) {
		which = labs_text(labs);
		return xerr_set(e, XERR_CONFLICT,
				"server '%s' still has hosts of %s %s: take %s down first "
				"(`xlab down LAB`)",
				name, labs[1] ? "labs" : "lab", which, labs[1] ? "them" : "it");
	}
	if (db_server_delete(db, name, e) < 0 || xlab_home(&home, e) < 0)
		return -1;
	dir = names_server_dir(home, name);
	return rm_rf(dir, e);
}

int server_rm(const char *name, struct xerr *e)
{
	struct db *db = NULL;
	int rc;

	if (strcmp(name, SERVER_LOCAL) == 0)
		return xerr_set(e, XERR_USAGE,
				"'local' is this machine: it is always a server and cannot be removed");
	if (db_open_default(&db, e) < 0)
		return -1;
	rc = server_rm_row(db, name, e);
	db_close(db);
	return rc;
}

int server_get(struct db *db, const char *name, struct db_server **row, struct xerr *e)
{
	int have = db_server_get(db, name, row, e);

	if (have < 0)
		return -1;
	if (have == 0)
		return xerr_set(e, XERR_NOTFOUND,
				"no server '%s' in the store (`xlab server list` shows them, "
				"`xlab server add` adds one)", name);
	return 0;
}

int server_lab_via(const char *home, const struct db_server *row, struct lab_via *via,
		   struct xerr *e)
{
	_cleanup_free_ char *kh = names_server_known_hosts(home, row->name);
	_cleanup_free_ char *line = NULL;
	struct server_ssh ssh;

	memset(via, 0, sizeof(*via));
	if (!server_uri_is_ssh(row->uri))
		return xerr_set(e, XERR_USAGE,
				"server '%s' (%s) is not reached over SSH, and a lab's network on "
				"a server is reached through its sshd: add it as qemu+ssh://",
				row->name, row->uri);
	if (server_uri_ssh(row->uri, &ssh, e) < 0)
		return -1;
	if (!ssh.keyfile) {
		server_ssh_free(&ssh);
		return xerr_set(e, XERR_USAGE,
				"server '%s' (%s) names no keyfile= for xlab to log in with, to "
				"reach its labs' networks; `xlab server rm` and add it with one",
				row->name, row->uri);
	}
	via->addr = ssh.host;
	/* As libvirt logs in without a user in the URI: as this process's. */
	if (ssh.user) {
		via->user = ssh.user;
	} else {
		struct passwd *pw = getpwuid(geteuid());

		via->user = xstrdup(pw ? pw->pw_name : "root");
	}
	via->port = ssh.port;
	via->key = ssh.keyfile;
	/* The pin libvirt checks is the one the tunnel checks. */
	via->host_pub = xasprintf("%s.pub", kh);
	if (known_hosts_first_key(kh, &line, e) < 0 ||
	    file_write_atomic(via->host_pub, line, strlen(line), 0644, e) < 0) {
		lab_via_free(via);
		return -1;
	}
	return 0;
}

/* The store's home and row of server name, the store closed again. */
static int server_row_named(const char *name, char **home, struct db_server **row,
			    struct xerr *e)
{
	struct db *db = NULL;
	int rc;

	*row = NULL;
	if (xlab_home(home, e) < 0 || db_open_default(&db, e) < 0)
		return -1;
	rc = server_get(db, name, row, e);
	db_close(db);
	return rc;
}

int server_open_named(const char *name, struct virt **v, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;
	struct db_server *row = NULL;
	int rc = server_row_named(name, &home, &row, e);

	if (rc == 0 && (rc = server_open(home, row, v, e)) < 0)
		xerr_prefix(e, "server '%s'", name);
	db_servers_free(row, row ? 1 : 0);
	return rc;
}

int server_via_named(const char *name, struct lab_via *via, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;
	struct db_server *row = NULL;
	int rc = server_row_named(name, &home, &row, e);

	if (rc == 0)
		rc = server_lab_via(home, row, via, e);
	db_servers_free(row, row ? 1 : 0);
	return rc;
}

int lab_host_virt_open(const struct lab_dirs *d, const char *host, const char *connect,
		       struct virt **v, struct xerr *e)
{
	const char *server = lab_host_server(d, host);

	if (!server)
		return virt_open(virt_default_uri(connect, NULL), v, e);
	return server_open_named(server, v, e);
}

int lab_virt_open(const struct lab_dirs *d, const char *connect, struct virt **v,
		  struct xerr *e)
{
	if (!d->server)
		return virt_open(virt_default_uri(connect, NULL), v, e);
	return server_open_named(d->server, v, e);
}

int servers_parse_list(const char *csv, char ***names, struct xerr *e)
{
	_cleanup_free_ char *copy = xstrdup(csv);
	char *save = NULL;

	*names = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, SERVER_LOCAL) != 0 && server_name_check(t, e) < 0)
			goto fail;
		if (strv_has((const char *const *)*names, t)) {
			xerr_set(e, XERR_USAGE, "--servers names '%s' twice", t);
			goto fail;
		}
		strv_add(names, xstrdup(t));
	}
	if (*names)
		return 0;
	xerr_set(e, XERR_USAGE, "--servers wants names like local,box2, not '%s'", csv);
fail:
	strv_free(*names);
	*names = NULL;
	return -1;
}

static int measure_one(const char *home, struct db *db, const char *name,
		       struct place_server *out, struct xerr *e)
{
	static const char *const pools[] = { SERVER_POOL, "default", NULL };
	struct db_server *row = NULL;
	struct virt_capacity cap;
	struct virt *v = NULL;
	struct statvfs sv;
	bool here = strcmp(name, SERVER_LOCAL) == 0;
	int rc;

	out->name = name;
	if (!here && server_get(db, name, &row, e) < 0)
		return -1;
	rc = server_open(home, row, &v, e);
	db_servers_free(row, row ? 1 : 0);
	if (rc < 0)
		return xerr_prefix(e, "server '%s'", name);
	rc = virt_node_capacity(v, pools, &cap, e);
	virt_close(v);
	if (rc < 0)
		return xerr_prefix(e, "server '%s'", name);
	out->mem_free = cap.available_memory_bytes;
	/* A server without the pool yet gets it at the first push: its
	 * disk is not what stops a placement then. */
	out->disk_free = cap.pool ? cap.pool_available : UINT64_MAX / 4;
	virt_capacity_free(&cap);
	if (here) {
		if (statvfs(home, &sv) < 0)
			return xerr_errno(e, XERR_IO, "statvfs %s", home);
		out->disk_free = (uint64_t)sv.f_bavail * sv.f_frsize;
	}
	return 0;
}

int servers_measure(char *const *names, struct place_server **out, struct xerr *e)
{
	_cleanup_free_ char *home = NULL;
	size_t n = strv_len(names);
	struct db *db = NULL;
	int rc = 0;

	*out = xcalloc(n + 1, sizeof(**out));
	if (xlab_home(&home, e) < 0 || db_open_default(&db, e) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = measure_one(home, db, names[i], &(*out)[i], e);
	db_close(db);
	return rc;
}

void servers_measure_free(struct place_server *v, size_t n)
{
	(void)n;
	free(v);
}
