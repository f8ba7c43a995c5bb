#include "lab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "db.h"
#include "paths.h"
#include "serverspec.h"
#include "spec.h"
#include "util.h"

/* LABDIR/server: "NAME\naddr=...\nport=...\nuser=...\nkey=...\n", beside
 * LABDIR/server_host_key.pub. A lab without the file runs here. */
static int lab_server_load(struct lab_dirs *d, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/server", d->dir), *text = NULL;
	char *line, *save = NULL;
	size_t len;

	if (!path_exists(path))
		return 0;
	if (file_read_all(path, 64 * 1024, &text, &len, e) < 0)
		return -1;
	line = strtok_r(text, "\n", &save);
	if (!line || !*line)
		return xerr_set(e, XERR_FAIL, "%s: no server name in it (`xlab up` writes it for a "
				"lab on another server; remove it if the lab runs here)", path);
	d->server = xstrdup(line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "addr"))
			d->via.addr = xstrdup(v);
		else if (!strcmp(line, "user"))
			d->via.user = xstrdup(v);
		else if (!strcmp(line, "port"))
			d->via.port = atoi(v);
		else if (!strcmp(line, "key"))
			d->via.key = xstrdup(v);
	}
	if (!d->via.addr || !d->via.key)
		return xerr_set(e, XERR_FAIL, "%s: no addr= or key= in it (`xlab up` writes it for "
				"a lab on another server; remove it if the lab runs here)", path);
	d->via.host_pub = xasprintf("%s/server_host_key.pub", d->dir);
	return 0;
}

/* LABDIR/placement: "HOST SERVER" lines; absent for a lab on one server. */
static int lab_placement_load(struct lab_dirs *d, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/placement", d->dir), *text = NULL;
	char *line, *save = NULL;
	size_t len, n = 0;

	if (!path_exists(path))
		return 0;
	if (file_read_all(path, 64 * 1024, &text, &len, e) < 0)
		return -1;
	d->placement = xcalloc(2 * (len / 4 + 1) + 1, sizeof(char *));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp || sp == line || !sp[1] || strchr(sp + 1, ' '))
			return xerr_set(e, XERR_FAIL, "%s: '%s' is not \"HOST SERVER\" (`xlab up` "
					"writes it for a lab across servers)", path, line);
		*sp = '\0';
		d->placement[n++] = xstrdup(line);
		d->placement[n++] = xstrdup(sp + 1);
	}
	return 0;
}

int lab_placement_record(const struct lab_dirs *d, const char *const *hosts,
			 const char *const *servers, size_t n, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/placement", d->dir);
	struct buf b = { 0 };
	int rc;

	if (n == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			return xerr_errno(e, XERR_IO, "cannot remove %s", path);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s %s\n", hosts[i], servers[i] ? servers[i] : SERVER_LOCAL);
	rc = file_write_atomic(path, b.data, b.len, 0644, e);
	buf_free(&b);
	return rc;
}

const char *lab_host_server(const struct lab_dirs *d, const char *host)
{
	for (size_t i = 0; d->placement && d->placement[i]; i += 2)
		if (strcmp(d->placement[i], host) == 0)
			return strcmp(d->placement[i + 1], SERVER_LOCAL) != 0 ? d->placement[i + 1] : NULL;
	return d->server;
}

char **lab_servers(const struct lab_dirs *d)
{
	size_t n = 1;
	char **v = xcalloc(1 + strv_len(d->placement) / 2 + 1, sizeof(char *));

	v[0] = xstrdup(d->server ? d->server : SERVER_LOCAL);
	for (size_t i = 0; d->placement && d->placement[i]; i += 2) {
		bool seen = false;

		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(v[j], d->placement[i + 1]) == 0;
		if (!seen)
			v[n++] = xstrdup(d->placement[i + 1]);
	}
	return v;
}

int lab_dirs_get(const char *lab, struct lab_dirs *d, struct xerr *e)
{
	memset(d, 0, sizeof(*d));
	if (xlab_dir(&d->dir, e, "labs", lab, NULL) < 0)
		return -1;
	d->key = xasprintf("%s/id_ed25519", d->dir);
	d->pub = xasprintf("%s/id_ed25519.pub", d->dir);
	d->known_hosts = xasprintf("%s/known_hosts", d->dir);
	if (lab_server_load(d, e) < 0)
		return -1;
	return lab_placement_load(d, e);
}

void lab_dirs_free(struct lab_dirs *d)
{
	free(d->dir);
	free(d->key);
	free(d->pub);
	free(d->known_hosts);
	free(d->server);
	strv_free(d->placement);
	lab_via_free(&d->via);
	memset(d, 0, sizeof(*d));
}

void lab_via_free(struct lab_via *via)
{
	free(via->addr);
	free(via->user);
	free(via->key);
	free(via->host_pub);
	memset(via, 0, sizeof(*via));
}

int lab_server_record(const struct lab_dirs *d, const char *server, const struct lab_via *via,
		      struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/server", d->dir), *text = NULL;
	_cleanup_free_ char *pub = xasprintf("%s/server_host_key.pub", d->dir), *line = NULL;
	size_t len;

	if (!server) {
		if (unlink(path) < 0 && errno != ENOENT)
			return xerr_errno(e, XERR_IO, "cannot remove %s", path);
		return 0;
	}
	if (file_read_all(via->host_pub, 64 * 1024, &line, &len, e) < 0 ||
	    file_write_atomic(pub, line, len, 0644, e) < 0)
		return -1;
	text = xasprintf("%s\naddr=%s\nport=%d\nuser=%s\nkey=%s\n", server, via->addr,
			 via->port, via->user ? via->user : "root", via->key);
	return file_write_atomic(path, text, strlen(text), 0644, e);
}

int lab_accel_record(const struct lab_dirs *d, const char *accel, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/accel", d->dir);
	_cleanup_free_ char *text = xasprintf("%s\n", accel);

	return file_write_atomic(path, text, strlen(text), 0644, e);
}

const char *lab_accel(const struct lab_dirs *d)
{
	_cleanup_free_ char *path = xasprintf("%s/accel", d->dir), *text = NULL;
	struct xerr ignored = { 0 };
	size_t len;

	if (file_read_all(path, 64, &text, &len, &ignored) == 0 && text &&
	    !strcmp(text, "kvm\n"))
		return "kvm";
	return "qemu";
}

int lab_lock(const char *lab, const char *command, struct xerr *e)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	char who[256];
	int fd;

	if (xlab_dir(&dir, e, "locks", NULL) < 0)
		return -1;
	path = xasprintf("%s/%s.lock", dir, lab);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open lock %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int why = errno;
		ssize_t n = pread(fd, who, sizeof(who) - 1, 0);

		who[n > 0 ? n : 0] = '\0';
		who[strcspn(who, "\n")] = '\0';
		close(fd);
		if (why != EWOULDBLOCK) {
			errno = why;
			return xerr_errno(e, XERR_IO, "cannot lock %s", path);
		}
		return xerr_set(e, XERR_CONFLICT,
				"lab '%s' is busy: %s holds it; wait for it to finish "
				"(or stop that process)",
				lab, who[0] ? who : "another xlab process");
	}
	snprintf(who, sizeof(who), "pid %d (xlab %s)\n", (int)getpid(), command);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, who, strlen(who), 0) < 0) {
		close(fd);
		return xerr_errno(e, XERR_IO, "cannot write lock %s", path);
	}
	return fd;
}

void lab_unlock(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) < 0) {
		/* The kernel drops the lock anyway; a stale pid is only text. */
	}
	close(fd);
}

int lab_name_from_arg(const char *arg, char **lab, struct xerr *e)
{
	struct stat st;

	if (strchr(arg, '/') || (stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
		struct spec *s = NULL;
		struct spec_diags d = { 0 };

		if (spec_load(arg, &s, &d, e) < 0) {
			spec_diags_report(&d, e, stderr);
			spec_diags_free(&d);
			return -1;
		}
		spec_diags_free(&d);
		*lab = xstrdup(s->lab);
		spec_free(s);
		return 0;
	}
	for (const char *p = arg; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return xerr_set(e, XERR_USAGE,
					"'%s' is neither a lab name nor a spec file", arg);
	if (!*arg || strlen(arg) > SPEC_NAME_MAX)
		return xerr_set(e, XERR_USAGE, "'%s' is not a valid lab name", arg);
	*lab = xstrdup(arg);
	return 0;
}

int lab_owner(const char *lab, struct virt_owner *o, struct xerr *e)
{
	char id[XLAB_STORE_ID_LEN + 1];

	if (xlab_store_id(id, e) < 0)
		return -1;
	/* virt_owner_set's work, without linking libvirt into every user of lab.c */
	snprintf(o->store, sizeof(o->store), "%s", id);
	snprintf(o->lab, sizeof(o->lab), "%s", lab);
	return 0;
}

int lab_domain_name(const char *lab, const char *host, char **out, struct xerr *e)
{
	char id[XLAB_STORE_ID_LEN + 1];

	if (xlab_store_id(id, e) < 0)
		return -1;
	*out = names_domain(id, lab, host);
	return 0;
}

int lab_network_name(const char *lab, char **out, struct xerr *e)
{
	char id[XLAB_STORE_ID_LEN + 1];

	if (xlab_store_id(id, e) < 0)
		return -1;
	*out = names_network(id, lab);
	return 0;
}

int lab_unknown(struct db *db, const char *lab, struct xerr *e)
{
	struct db_lab *labs = NULL;
	const char **names;
	struct buf b = { 0 };
	const char *near;
	size_t n = 0;
	int rc;

	if (db_labs_list(db, &labs, &n, e) < 0)
		return -1;
	names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		names[i] = labs[i].name;
		buf_printf(&b, "%s%s", i ? ", " : "", labs[i].name);
	}
	near = word_nearest(lab, names, n);
	if (!n)
		rc = xerr_set(e, XERR_NOTFOUND,
			      "no lab named '%s'; the store has no labs (`xlab up FILE` makes one)",
			      lab);
	else
		rc = xerr_set(e, XERR_NOTFOUND, "no lab named '%s'; labs: %s%s%s%s", lab, b.data,
			      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	buf_free(&b);
	free(names);
	db_labs_free(labs, n);
	return rc;
}

int lab_require(struct db *db, const char *lab, struct db_lab **out, struct xerr *e)
{
	struct db_lab *l = NULL;

	if (db_lab_get(db, lab, &l, e) < 0)
		return -1;
	if (!l)
		return lab_unknown(db, lab, e);
	if (out)
		*out = l;
	else
		db_lab_free(l);
	return 0;
}
