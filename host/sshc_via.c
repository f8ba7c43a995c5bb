/* A session to an address only a server can reach (a dom0 on a lab network
 * of another libvirt server): a direct-tcpip channel through that server's
 * sshd, carried by a thread to one end of a socket pair whose other end the
 * session speaks SSH over, as `ssh -J` does. libssh 0.10 has no ProxyJump,
 * and a pair keeps the session's own code the same for both paths. The
 * jump session belongs to the thread once it starts: libssh sessions are
 * not shared between threads. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sshc_int.h"

struct sshc_via {
	struct sshc *jump;
	char *host;
	int port;
	int fd; /* the thread's end of the pair */
	pthread_t th;
	bool joined;
	atomic_bool quit;
	/* Set by the thread before it ends, read after the join or once
	 * `failed` is seen. */
	atomic_bool failed;
	struct xerr err;
};

/* send(), not write(): the session's end may be closed already, and that
 * is an end of the tunnel, not a SIGPIPE. */
static int fd_write_all(int fd, const char *p, size_t n)
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
			if (fd_write_all(v->fd, buf, (size_t)n) < 0)
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
		if (fd_write_all(v->fd, buf, (size_t)n) < 0)
			return;
}

static void *via_thread(void *arg)
{
	struct sshc_via *v = arg;
	ssh_channel ch = ssh_channel_new(v->jump->s);

	if (!ch || ssh_channel_open_forward(ch, v->host, v->port, "127.0.0.1", 0) != SSH_OK) {
		xerr_set(&v->err, XERR_FAIL, "cannot reach %s port %d from %s: %s", v->host,
			 v->port, v->jump->addr, ssh_get_error(v->jump->s));
		atomic_store(&v->failed, true);
		if (ch)
			ssh_channel_free(ch);
	} else {
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
	int pair[2], rc;

	if (sshc_open(via, timeout_ms, &jump, fail, e) < 0)
		return xerr_prefix(e, "through %s", via->addr);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		sshc_free(jump);
		return xerr_errno(e, XERR_IO, "socketpair");
	}
	v = xcalloc(1, sizeof(*v));
	v->jump = jump;
	v->host = xstrdup(host);
	v->port = port;
	v->fd = pair[1];
	rc = pthread_create(&v->th, NULL, via_thread, v);
	if (rc != 0) {
		close(pair[0]);
		close(pair[1]);
		sshc_free(jump);
		free(v->host);
		free(v);
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
bool sshc_via_failed(struct sshc_via *v, struct xerr *e)
{
	if (!v)
		return false;
	atomic_store(&v->quit, true);
	if (!v->joined)
		pthread_join(v->th, NULL);
	v->joined = true;
	if (!atomic_load(&v->failed))
		return false;
	*e = v->err;
	return true;
}

void sshc_via_close(struct sshc_via *v)
{
	if (!v)
		return;
	atomic_store(&v->quit, true);
	if (!v->joined)
		pthread_join(v->th, NULL);
	close(v->fd);
	sshc_free(v->jump);
	free(v->host);
	free(v);
}
