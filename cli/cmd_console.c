/* xlab console LAB NAME [--log]: a host's serial console (live through
 * libvirt's console stream, or the captured log) or a guest's console (live
 * through `xl console` in its dom0, or the log the agent keeps). */
#include <getopt.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "agent_ops.h"
#include "cmd.h"
#include "hostconn.h"
#include "labstate.h"
#include "names.h"
#include "server_images.h"
#include "servers.h"
#include "util.h"
#include "virt.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-], as virsh console */

/* A lab on another server: the log is a file of that server's pool, named
 * after the host's domain (plan.c host_paths). */
static int host_log_there(const struct labstate *ls, const char *host, char **data,
			  size_t *len, struct xerr *e)
{
	_cleanup_free_ char *dom = NULL, *vol = NULL;
	struct virt *v = NULL;
	int rc;

	if (lab_domain_name(ls->lab, host, &dom, e) < 0 ||
	    lab_host_virt_open(&ls->dirs, host, NULL, &v, e) < 0)
		return -1;
	vol = xasprintf("%s.serial.log", dom);
	rc = virt_vol_tail(v, SERVER_POOL, vol, 64u << 20, data, len, e);
	virt_close(v);
	if (rc < 0)
		xerr_prefix(e, "host '%s' on server '%s'", host, lab_host_server(&ls->dirs, host));
	return rc;
}

static int host_log(const struct labstate *ls, const char *host, struct xerr *e)
{
	_cleanup_free_ char *dir = names_host_dir(ls->dirs.dir, host);
	_cleanup_free_ char *path = xasprintf("%s/serial.log", dir);
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (lab_host_server(&ls->dirs, host) ? host_log_there(ls, host, &data, &len, e) < 0
			    : file_read_all(path, 0, &data, &len, e) < 0)
		return -1;
	fwrite(data, 1, len, stdout);
	return 0;
}

/* Copies between the terminal and a libvirt console stream until Ctrl-]. */
static int stream_pump(virStreamPtr st, struct xerr *e)
{
	struct termios saved, raw;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	char buf[4096];
	int rc = 0;

	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int n = virStreamRecv(st, buf, sizeof(buf));

		if (n > 0) {
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
			continue;
		}
		if (n == 0)
			break; /* the domain went away */
		if (n != -2) {
			rc = xerr_set(e, XERR_FAIL, "console: %s", virGetLastErrorMessage());
			break;
		}
		if (poll(&pfd, 1, 50) > 0) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

			if (r <= 0 || memchr(buf, ESCAPE_CHAR, (size_t)r))
				break;
			if (virStreamSend(st, buf, (size_t)r) < 0)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	return rc;
}

static int host_live(const char *lab, const char *host, struct xerr *e)
{
	_cleanup_free_ char *dom_name = NULL;
	struct virt_dom_info info;
	struct virt_owner want;
	struct virt *v = NULL;
	virDomainPtr dom = NULL;
	virStreamPtr st = NULL;
	struct lab_dirs d;
	int rc = -1;

	/* A lab on another server: its console is a stream from there. */
	if (lab_domain_name(lab, host, &dom_name, e) < 0 || lab_owner(lab, &want, e) < 0 ||
	    lab_dirs_get(lab, &d, e) < 0)
		return -1;
	rc = lab_host_virt_open(&d, host, NULL, &v, e);
	lab_dirs_free(&d);
	if (rc < 0)
		return -1;
	rc = -1;
	/* Another store's domain of that name is not ours to type into. */
	if (virt_domain_info(v, dom_name, &info, e) < 0 ||
	    (info.exists && virt_owner_check("domain", dom_name, &info.owner, &want, e) < 0))
		goto out;
	/* Asked alone: virStreamNew would clear the lookup's error ("no error"). */
	dom = virDomainLookupByName(virt_conn(v), dom_name);
	if (!dom) {
		_cleanup_free_ char *uri = virConnectGetURI(virt_conn(v));

		xerr_set(e, XERR_FAIL,
			 "host '%s' of lab '%s' has no domain %s in libvirt (%s): it was removed "
			 "behind xlab's back; `xlab up %s` makes it again, `xlab console %s %s "
			 "--log` shows what it printed before",
			 host, lab, dom_name, uri ? uri : "?", lab, lab, host);
		goto out;
	}
	st = virStreamNew(virt_conn(v), VIR_STREAM_NONBLOCK);
	if (!st || virDomainOpenConsole(dom, NULL, st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
		xerr_set(e, XERR_FAIL, "cannot open the console of %s: %s", dom_name,
			 virGetLastErrorMessage());
		goto out;
	}
	fprintf(stderr, "console of %s (%s); Ctrl-] leaves\n", host, dom_name);
	rc = stream_pump(st, e);
out:
	if (st) {
		virStreamAbort(st);
		virStreamFree(st);
	}
	if (dom)
		virDomainFree(dom);
	virt_close(v);
	return rc;
}

static int guest_console(const struct labstate *ls, const struct db_guest *g, bool log,
			 struct xerr *e)
{
	const struct db_host *h = labstate_host(ls, g->host);
	struct sshc *c = NULL;
	struct agent *ag = NULL;
	_cleanup_free_ char *local = NULL;
	char *text = NULL;
	int status = 0, rc = -1;

	if (!h)
		return xerr_set(e, XERR_FAIL, "guest '%s' is on unknown host '%s'", g->name,
				g->host);
	if (lab_host_connect(&ls->dirs, h->name, h->ip, &c, e) < 0)
		return -1;
	if (!log) {
		const char *argv[] = { "xl", "console", "-t", "pv", g->name, NULL };

		fprintf(stderr, "console of guest %s on %s; Ctrl-] leaves\n", g->name, h->name);
		rc = sshc_exec_interactive(c, argv, &status, e);
		goto out;
	}
	if (agent_local_path(&local, e) < 0 || agent_open(c, local, &ag, NULL, e) < 0)
		goto out;
	if (agent_guest_console(ag, g->name, 1 << 20, &text, e) < 0)
		goto out;
	fputs(text, stdout);
	rc = 0;
out:
	free(text);
	agent_close(ag);
	sshc_free(c);
	return rc;
}

int cmd_console(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "log", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct labstate ls;
	const struct db_guest *g;
	bool log = false;
	int c, rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'l')
			return cmd_usage_error(e, "console", "unknown option");
		log = true;
	}
	if (argc - optind != 2)
		return cmd_usage_error(e, "console", "expected LAB and a host or guest name");
	if (labstate_load(argv[optind], &ls, e) < 0)
		goto out;
	if (labstate_host(&ls, argv[optind + 1]))
		rc = log ? host_log(&ls, argv[optind + 1], e) :
			   host_live(ls.lab, argv[optind + 1], e);
	else if ((g = labstate_guest(&ls, argv[optind + 1])))
		rc = guest_console(&ls, g, log, e);
	else
		labstate_no_such(&ls, "host or guest", argv[optind + 1], e);
out:
	labstate_free(&ls);
	return rc;
}
