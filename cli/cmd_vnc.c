/* xlab vnc LAB HOST|GUEST: where a host's VNC display listens (127.0.0.1
 * only), or a tunnel to a `vnc: true` guest's display, which listens on its
 * dom0's loopback and is reached through SSH (direct-tcpip): no port is
 * opened on the lab network. A host of a lab on another server gets a
 * tunnel too, through that server's sshd to its loopback. A viewer is
 * started when one is installed and we have a display. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "hostconn.h"
#include "labstate.h"
#include "subnet.h"
#include "plan.h"
#include "servers.h"
#include "spawn.h"
#include "util.h"
#include "virt.h"

struct vnc_opts {
	int port; /* local port of a guest's tunnel; 0: any free one */
	bool once;
};

static bool want_viewer(void)
{
	return getenv("DISPLAY") && isatty(STDOUT_FILENO);
}

static int listen_loopback(int port, int *bound, struct xerr *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		xerr_errno(e, XERR_IO, "cannot listen on 127.0.0.1:%d", port);
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

static bool in_path(const char *name)
{
	_cleanup_free_ char *path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");

	for (char *save = NULL, *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = xasprintf("%s/%s", d, name);

		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

/* The viewer runs beside the tunnel, which ends with it. It gets no fd of
 * ours: the SSH session's socket is not close-on-exec. */
static pid_t viewer_start(int port)
{
	_cleanup_free_ char *addr = xasprintf("127.0.0.1::%d", port);
	char *argv[] = { "vncviewer", addr, NULL };
	pid_t pid;

	if (!in_path("vncviewer"))
		return -1;
	pid = fork();
	if (pid == 0) {
		close_range(3, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* A connection, or -1 with *done once the viewer (pid > 0) has exited. */
static int accept_or_viewer_gone(int lfd, pid_t viewer, bool *done, struct xerr *e)
{
	*done = false;
	for (;;) {
		struct pollfd pf = { .fd = lfd, .events = POLLIN };
		int n = poll(&pf, 1, viewer > 0 ? 500 : -1), cfd;

		if (viewer > 0 && waitpid(viewer, NULL, WNOHANG) == viewer) {
			*done = true;
			return -1;
		}
		if (n < 0 && errno != EINTR)
			return xerr_errno(e, XERR_IO, "poll");
		if (n <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd >= 0)
			return cfd;
		/* A client that gave up before we took it is no reason to stop. */
		if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN)
			return xerr_errno(e, XERR_IO, "accept");
	}
}

/* The display's port in the dom0, from the guest's address in the lab's subnet. */
static int guest_vnc_port(const struct labstate *ls, const struct db_guest *g, struct xerr *e)
{
	struct db_lab *l = NULL;
	struct cidr net;
	int port = -1;

	if (db_lab_get(ls->db, ls->lab, &l, e) < 0)
		return -1;
	if (l && l->subnet && cidr_parse(l->subnet, &net, e) == 0) {
		port = g->ip ? plan_vnc_port(g->ip, net.prefix) : -1;
		if (port < 0)
			xerr_set(e, XERR_FAIL, "guest '%s' (%s) has no display port in %s",
				 g->name, g->ip ? g->ip : "no address", l->subnet);
	} else if (!l || !l->subnet) {
		xerr_set(e, XERR_FAIL, "lab '%s' has no subnet in the store", ls->lab);
	}
	db_lab_free(l);
	return port;
}

/* 127.0.0.1:PORT here (o->port, or one the kernel picks), each connection
 * carried over c to 127.0.0.1:remote as c's machine sees it, until the
 * viewer ends (or after one, --once). what and through name the display and
 * the machine in between; no_display is the refusal when it is not there. */
static int display_tunnel(struct sshc *c, int remote, const struct vnc_opts *o,
			  const char *what, const char *through, const char *no_display,
			  struct xerr *e)
{
	int lfd, port = 0, rc = -1;
	pid_t viewer = -1;

	lfd = listen_loopback(o->port, &port, e);
	if (lfd < 0)
		return -1;
	/* A viewer that goes away must not take the tunnel with it. */
	signal(SIGPIPE, SIG_IGN);
	printf("127.0.0.1:%d (vncviewer 127.0.0.1::%d): %s, through %s's 127.0.0.1:%d over "
	       "SSH; Ctrl-C ends the tunnel\n",
	       port, port, what, through, remote);
	fflush(stdout);
	if (want_viewer())
		viewer = viewer_start(port);
	for (;;) {
		bool done, opened;
		int cfd = accept_or_viewer_gone(lfd, viewer, &done, e);

		if (cfd < 0 && done)
			break;
		if (cfd < 0)
			goto out;
		if (sshc_forward(c, cfd, "127.0.0.1", remote, &opened, e) < 0) {
			close(cfd);
			if (!opened) {
				xerr_prefix(e, "%s", no_display);
				goto out;
			}
			/* One viewer's broken connection ends that connection only. */
			xerr_print(e, "xlab: vnc");
			xerr_clear(e);
		} else {
			close(cfd);
		}
		if (o->once)
			break;
	}
	rc = 0;
out:
	close(lfd);
	return rc;
}

static int guest_vnc(struct labstate *ls, const struct db_guest *g, const struct vnc_opts *o,
		     struct xerr *e)
{
	const struct db_host *h = labstate_host(ls, g->host);
	int remote = guest_vnc_port(ls, g, e);
	_cleanup_free_ char *what = NULL, *through = NULL, *no_display = NULL;
	struct sshc *c = NULL;
	int rc;

	if (remote < 0)
		return -1;
	if (!h)
		return labstate_no_such(ls, "host", g->host, e);
	if (lab_host_connect(&ls->dirs, h->name, h->ip, &c, e) < 0)
		return -1;
	what = xasprintf("guest %s's display", g->name);
	through = xasprintf("host %s", h->name);
	no_display = xasprintf("guest '%s' has no display there (is it `vnc: true`?)", g->name);
	rc = display_tunnel(c, remote, o, what, through, no_display, e);
	sshc_free(c);
	return rc;
}

/* A host on another server: its display listens on that server's
 * loopback, reached through the server's sshd. */
static int host_vnc_there(const char *host, const char *server, int vnc_port,
			  const struct vnc_opts *o, struct xerr *e)
{
	_cleanup_free_ char *what = xasprintf("host %s's display", host);
	_cleanup_free_ char *through = xasprintf("server %s", server);
	_cleanup_free_ char *no_display = xasprintf("server %s did not open host %s's display",
						    server, host);
	struct lab_via via = { 0 };
	struct sshc_target t;
	struct sshc *c = NULL;
	int rc;

	if (server_via_named(server, &via, e) < 0)
		return -1;
	lab_via_target(&via, &t);
	rc = sshc_connect(&t, &c, e);
	lab_via_free(&via);
	if (rc < 0)
		return xerr_prefix(e, "server '%s'", server);
	rc = display_tunnel(c, vnc_port, o, what, through, no_display, e);
	sshc_free(c);
	return rc;
}

static int host_vnc(struct labstate *ls, const char *host, const struct vnc_opts *o,
		    struct xerr *e)
{
	struct virt *v = NULL;
	struct virt_dom_info info;
	struct virt_owner want;
	_cleanup_free_ char *dom = NULL;
	_cleanup_free_ char *addr = NULL;
	int rc = -1;

	if (lab_domain_name(ls->lab, host, &dom, e) < 0 || lab_owner(ls->lab, &want, e) < 0 ||
	    lab_host_virt_open(&ls->dirs, host, NULL, &v, e) < 0 ||
	    virt_domain_info(v, dom, &info, e) < 0 ||
	    (info.exists && virt_owner_check("domain", dom, &info.owner, &want, e) < 0))
		goto out;
	if (!info.running || info.vnc_port <= 0) {
		xerr_set(e, XERR_FAIL, "host '%s' is not running; `xlab up` starts it", host);
		goto out;
	}
	if (lab_host_server(&ls->dirs, host)) {
		rc = host_vnc_there(host, lab_host_server(&ls->dirs, host), info.vnc_port, o, e);
		goto out;
	}
	addr = xasprintf("127.0.0.1:%d", info.vnc_port);
	printf("%s (display :%d); from another machine: ssh -L %d:%s THIS-MACHINE\n", addr,
	       info.vnc_port - 5900, info.vnc_port, addr);
	if (want_viewer()) {
		char *viewer[] = { "vncviewer", addr, NULL };
		struct spawn_result res = { 0 };
		struct xerr ignore = { 0 };

		/* A viewer is a convenience: its absence is not an error. */
		spawn_run(viewer, NULL, &res, &ignore);
		spawn_result_free(&res);
	}
	rc = 0;
out:
	if (v)
		virt_close(v);
	return rc;
}

static int parse(int argc, char **argv, struct vnc_opts *o, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		long v;

		switch (ch) {
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 65535)
				return cmd_usage_error(e, "vnc", "--port wants 1-65535, not '%s'",
						       optarg);
			o->port = (int)v;
			break;
		case '1':
			o->once = true;
			break;
		default:
			return cmd_usage_error(e, "vnc", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(e, "vnc", "expected LAB and HOST or GUEST");
	return optind;
}

int cmd_vnc(int argc, char **argv, struct xerr *e)
{
	struct vnc_opts o = { 0 };
	struct labstate ls;
	const struct db_guest *g;
	int i, rc = -1;

	i = parse(argc, argv, &o, e);
	if (i < 0)
		return -1;
	if (labstate_load(argv[i], &ls, e) < 0) {
		labstate_free(&ls);
		return -1;
	}
	if (labstate_host(&ls, argv[i + 1]) && !lab_host_server(&ls.dirs, argv[i + 1]) &&
	    (o.port || o.once))
		cmd_usage_error(e, "vnc", "--port and --once are for a tunnel (a guest's, or a "
					  "host's on another server); a host's display here listens "
					  "on this machine already");
	else if (labstate_host(&ls, argv[i + 1]))
		rc = host_vnc(&ls, argv[i + 1], &o, e);
	else if ((g = labstate_guest(&ls, argv[i + 1])))
		rc = guest_vnc(&ls, g, &o, e);
	else
		labstate_no_such(&ls, "host or guest", argv[i + 1], e);
	labstate_free(&ls);
	return rc;
}
