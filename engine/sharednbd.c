#include "sharednbd.h"

#include <stdio.h>
#include <string.h>

#include "paths.h"
#include "plan.h"
#include "server_sh.h"
#include "servers.h"
#include "serverspec.h"
#include "util.h"

#define SHAREDNBD_DIR "/run/xlab"

/* qemu-nbd --fork keeps the descriptors it was given: a constant script
 * gives it /dev/null and its log instead, so neither the SSH channel nor
 * spawn's pipes wait for the daemon. Values reach it as arguments only. */
static const char daemon_script[] = "log=$1; shift; exec \"$@\" </dev/null >/dev/null 2>>\"$log\"";

int sharednbd_serve(const struct sharednbd *s, const char *image, const char *addr, int port,
		    struct xerr *e)
{
	_cleanup_free_ char *pid = xasprintf(SHAREDNBD_DIR "/%s.nbd.pid", s->network);
	_cleanup_free_ char *log = xasprintf(SHAREDNBD_DIR "/%s.nbd.log", s->network);
	_cleanup_free_ char *bind = xasprintf("--bind=%s", addr);
	_cleanup_free_ char *portarg = xasprintf("--port=%d", port);
	_cleanup_free_ char *pidarg = xasprintf("--pid-file=%s", pid);
	/* The pid in the file, and that process the lab's own qemu-nbd: a pid
	 * reused since (a reboot, another lab's daemon) is not taken for it. */
	_cleanup_free_ char *ours = xasprintf("^qemu-nbd .*--pid-file=%s ", pid);
	const char *mkdir[] = { "mkdir", "-p", SHAREDNBD_DIR, NULL };
	const char *alive[] = { "pgrep", "-F", pid, "-f", ours, NULL };
	const char *start[] = { "sh", "-c", daemon_script, "sh", log, "qemu-nbd", "--fork",
				"--persistent", "--shared=64", "--format=raw", "--cache=none",
				bind, portarg, pidarg, "--export-name=" PLAN_NBD_EXPORT, image,
				NULL };
	const char *tail[] = { "tail", "-n", "3", log, NULL };
	struct server_sh sh;
	int rc, st = 1;

	if (server_sh_open(s->server, s->via, &sh, e) < 0)
		return -1;
	rc = server_sh_run(&sh, mkdir, NULL, e);
	if (rc == 0)
		rc = server_sh_run(&sh, alive, &st, e);
	if (rc == 0 && st != 0) {
		rc = server_sh_run(&sh, start, &st, e);
		if (rc == 0 && st != 0) {
			struct xerr why = { 0 };

			/* Its log says why (a port in use, an address not there). */
			server_sh_run(&sh, tail, NULL, &why);
			rc = xerr_set(e, XERR_FAIL,
				      "server '%s': qemu-nbd could not serve the shared disk %s on "
				      "%s:%d (exit %d); its log %s says:\n%s",
				      s->server, image, addr, port, st, log,
				      why.msg[0] ? why.msg : "(nothing)");
		}
	}
	server_sh_close(&sh);
	return rc;
}

int sharednbd_record(const char *lab_dir, const char *image, const char *addr, int port,
		     struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/shared-nbd", lab_dir);
	_cleanup_free_ char *text = xasprintf("%s\n%s\n%d\n", image, addr, port);

	return file_write_atomic(path, text, strlen(text), 0644, e);
}

int sharednbd_recorded(const char *lab_dir, char **image, char **addr, int *port,
		       struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/shared-nbd", lab_dir), *text = NULL;
	char *save = NULL, *a, *b, *c;
	size_t len;

	*image = *addr = NULL;
	if (!path_exists(path))
		return 1;
	if (file_read_all(path, 8192, &text, &len, e) < 0)
		return -1;
	a = strtok_r(text, "\n", &save);
	b = strtok_r(NULL, "\n", &save);
	c = strtok_r(NULL, "\n", &save);
	if (!a || !b || !c || atoi(c) <= 0)
		return xerr_set(e, XERR_FAIL, "%s: not \"IMAGE\\nADDRESS\\nPORT\" (`xlab up` "
				"writes it for a lab across servers with a shared disk)", path);
	*image = xstrdup(a);
	*addr = xstrdup(b);
	*port = atoi(c);
	return 0;
}

int sharednbd_stop(const struct sharednbd *s, struct xerr *e)
{
	_cleanup_free_ char *pid = xasprintf(SHAREDNBD_DIR "/%s.nbd.pid", s->network);
	_cleanup_free_ char *log = xasprintf(SHAREDNBD_DIR "/%s.nbd.log", s->network);
	_cleanup_free_ char *ours = xasprintf("^qemu-nbd .*--pid-file=%s ", pid);
	const char *kill[] = { "pkill", "-F", pid, "-f", ours, NULL };
	const char *rm[] = { "rm", "-f", pid, log, NULL };
	struct server_sh sh;
	int rc, st;

	if (server_sh_open(s->server, s->via, &sh, e) < 0)
		return -1;
	/* 1: none matched (gone with a reboot); more: pkill itself failed. */
	rc = server_sh_run(&sh, kill, &st, e);
	if (rc == 0 && st > 1)
		rc = xerr_set(e, XERR_FAIL, "server '%s': pkill -F %s exited with %d", s->server,
			      pid, st);
	if (rc == 0)
		rc = server_sh_run(&sh, rm, NULL, e);
	server_sh_close(&sh);
	return rc;
}

/* The lab's own server as a sharednbd, its via filled from the store. */
static int own_server(const struct lab_dirs *d, const char *network, char **name,
		      struct lab_via *via, struct sharednbd *s, struct xerr *e)
{
	_cleanup_strv_ char **servers = lab_servers(d);

	*name = xstrdup(servers[0]);
	*s = (struct sharednbd){ .server = *name, .network = network };
	if (strcmp(*name, SERVER_LOCAL) == 0)
		return 0;
	if (server_via_named(*name, via, e) < 0)
		return -1;
	s->via = via;
	return 0;
}

int sharednbd_lab_serve(const struct lab_dirs *d, const char *network, struct xerr *e)
{
	_cleanup_free_ char *image = NULL, *addr = NULL, *name = NULL;
	struct lab_via via = { 0 };
	struct sharednbd s;
	int port = 0, rc;

	rc = sharednbd_recorded(d->dir, &image, &addr, &port, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = own_server(d, network, &name, &via, &s, e);
	if (rc == 0)
		rc = sharednbd_serve(&s, image, addr, port, e);
	lab_via_free(&via);
	return rc;
}

int sharednbd_lab_stop(const struct lab_dirs *d, const char *network, struct xerr *e)
{
	_cleanup_free_ char *name = NULL, *rec = xasprintf("%s/shared-nbd", d->dir);
	struct lab_via via = { 0 };
	struct sharednbd s;
	int rc;

	if (!path_exists(rec))
		return 0;
	rc = own_server(d, network, &name, &via, &s, e);
	if (rc == 0)
		rc = sharednbd_stop(&s, e);
	lab_via_free(&via);
	return rc;
}
