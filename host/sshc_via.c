/* A session to an address only a server can reach (a dom0 on a lab network
 * of another libvirt server): a direct-tcpip channel through that server's
 * sshd, carried by a thread to one end of a socket pair whose other end the
 * session speaks SSH over, as `ssh -J` does. libssh 0.10 has no ProxyJump,
 * and a pair keeps the session's own code the same for both paths. The
 * jump session belongs to the thread once it starts: libssh sessions are
 * not shared between threads. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshc_int.h"

struct sshc_via {
	struct sshc *jump;
	char *host;
	int port;
	int timeout_ms; /* for the channel to open, then SSHC_REPLY_TIMEOUT_MS */
	int fd;         /* the thread's end of the pair */
	/* The session's end, and a copy of it held here: libssh 0.10 leaves a
	 * given fd to its owner on disconnect but closes it on some errors, so
	 * the end is closed here only while it is still this socket. */
	int session_fd, keep;
	pthread_t th;
	bool joined;
	atomic_bool quit;
	/* Set by the thread before it ends, read after the join or once
	 * `failed` is seen. */
	atomic_bool failed;
	bool never; /* the server refuses forwarding: waiting will not help */
	struct xerr err;
};

/* send(), not write(): the session's end may be closed already, and that
 * is an end of the tunnel, not a SIGPIPE. */
static int sock_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Both ways until either side ends or the owner asks: an end on either
 * side ends the whole tunnel, since an SSH session over it is over. */
static void via_copy(struct sshc_via *v, ssh_channel ch)
{
	ssh_session s = v->jump->s;
	char buf[SSHC_CHUNK];
	int n;

	while (!atomic_load(&v->quit) && ssh_channel_is_open(ch) && !ssh_channel_is_eof(ch)) {
		struct pollfd pf[2] = {
			{ .fd = v->fd, .events = POLLIN },
			{ .fd = ssh_get_fd(s), .events = POLLIN },
		};

		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 0)) > 0)
			if (sock_send_all(v->fd, buf, (size_t)n) < 0)
				return;
		if (n == SSH_ERROR)
			return;
		if (poll(pf, 2, 100) < 0 && errno != EINTR)
			return;
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t got = read(v->fd, buf, sizeof(buf));

			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
				return;
			if (got > 0 && ssh_channel_write(ch, buf, (uint32_t)got) < 0)
				return;
		}
	}
	/* What came with the far end's EOF still belongs to the session. */
	while (!atomic_load(&v->quit) && (n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 0)) > 0)
		if (sock_send_all(v->fd, buf, (size_t)n) < 0)
			return;
}

static void *via_thread(void *arg)
{
	struct sshc_via *v = arg;
	ssh_session s = v->jump->s;
	ssh_channel ch = ssh_channel_new(s);
	long usec = (long)v->timeout_ms * 1000;

	/* The open waits as long as the caller would for the session over it
	 * (a probe's seconds), not a whole reply time-out. */
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
	if (!ch || ssh_channel_open_forward(ch, v->host, v->port, "127.0.0.1", 0) != SSH_OK) {
		const char *why = ssh_get_error(s);

		/* libssh gives the reason only in its text: "channel N error (1)",
		 * 1 being RFC 4254's SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (2 is
		 * "connect failed": a dom0 not up yet). */
		v->never = strstr(why, " error (1)") != NULL;
		xerr_set(&v->err, XERR_FAIL, "cannot reach %s port %d from %s: %s%s", v->host,
			 v->port, v->jump->addr, why,
			 v->never ? " (its sshd forwards nothing: AllowTcpForwarding)" : "");
		atomic_store(&v->failed, true);
		if (ch)
			ssh_channel_free(ch);
	} else {
		usec = (long)SSHC_REPLY_TIMEOUT_MS * 1000;
		ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
		via_copy(v, ch);
		sshc_chan_end(ch);
	}
	/* The session on the other end sees the tunnel end. */
	shutdown(v->fd, SHUT_RDWR);
	return NULL;
}

int sshc_via_open(const struct sshc_target *via, const char *host, int port, int timeout_ms,
		  struct sshc_via **out, int *session_fd, enum sshc_conn_fail *fail,
		  struct xerr *e)
{
	struct sshc_via *v;
	struct sshc *jump = NULL;
	sigset_t stops, old;
	int pair[2], keep, rc;

	if (sshc_open(via, timeout_ms, &jump, fail, e) < 0)
		return xerr_prefix(e, "through %s", via->addr);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		sshc_free(jump);
		return xerr_errno(e, XERR_IO, "socketpair");
	}
	keep = fcntl(pair[0], F_DUPFD_CLOEXEC, 0);
	if (keep < 0) {
		close(pair[0]);
		close(pair[1]);
		sshc_free(jump);
		return xerr_errno(e, XERR_IO, "dup");
	}
	v = xcalloc(1, sizeof(*v));
	v->jump = jump;
	v->host = xstrdup(host);
	v->port = port;
	v->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	v->fd = pair[1];
	v->session_fd = pair[0];
	v->keep = keep;
	/* Ctrl-C is the main thread's to see (common/stop.h). */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	rc = pthread_create(&v->th, NULL, via_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		v->joined = true;
		sshc_via_close(v);
		errno = rc;
		return xerr_errno(e, XERR_IO, "cannot start the tunnel through %s", via->addr);
	}
	*out = v;
	*session_fd = pair[0];
	return 0;
}

/* Why the session over the tunnel did not come up, when the tunnel knows:
 * its channel was refused (the address is not up yet, or forwarding is
 * off on the server). Joins the thread. */
/* Ends the thread: told to, and woken from a send or poll on its end. */
static void via_join(struct sshc_via *v)
{
	atomic_store(&v->quit, true);
	shutdown(v->fd, SHUT_RDWR);
	if (!v->joined)
		pthread_join(v->th, NULL);
	v->joined = true;
}

bool sshc_via_failed(struct sshc_via *v, bool *never, struct xerr *e)
{
	if (!v)
		return false;
	via_join(v);
	if (!atomic_load(&v->failed))
		return false;
	*never = v->never;
	*e = v->err;
	return true;
}

/* The session's end, unless libssh closed it already (then that number may
 * be another file by now): it is ours while it is still keep's socket. */
static void session_end_close(struct sshc_via *v)
{
	struct stat a, b;

	if (fstat(v->session_fd, &a) == 0 && fstat(v->keep, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		close(v->session_fd);
	close(v->keep);
}

void sshc_via_close(struct sshc_via *v)
{
	if (!v)
		return;
	via_join(v);
	session_end_close(v);
	close(v->fd);
	sshc_free(v->jump);
	free(v->host);
	free(v);
}
