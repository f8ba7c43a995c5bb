/* Interactive sessions on a terminal (raw mode, a pty, window size) and TCP
 * forwarding over the session. */
#include "sshc.h"

#include <errno.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "sshc_int.h"

/* --------------------------------------------------------- interactive */

struct tty_state {
	bool raw;
	struct termios saved;
};

static void tty_raw(struct tty_state *t)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return;
	raw = t->saved;
	cfmakeraw(&raw);
	t->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static void tty_restore(struct tty_state *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

static bool winsize(struct winsize *ws)
{
	return isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, ws) == 0 && ws->ws_col;
}

static int pty_request(ssh_channel ch, struct winsize *ws)
{
	const char *term = getenv("TERM");

	if (!term || !*term)
		term = "xterm";
	if (!winsize(ws)) {
		ws->ws_col = 80;
		ws->ws_row = 24;
	}
	return ssh_channel_request_pty_size(ch, term, ws->ws_col, ws->ws_row);
}

/* Copies stdin to the channel and the channel to stdout/stderr until the
 * remote side is done. */
/* Copies in_fd to the channel and the channel to out_fd (its stderr to
 * err_fd) until the channel ends; ws, when given, follows the terminal. */
/* Copies in_fd to the channel and the channel to out_fd (its stderr to
 * err_fd) until the channel ends; ws, when given, follows the terminal.
 * -1: the SSH side failed (libssh says why); -2: the local side (errno). */
static int pump(struct sshc *c, ssh_channel ch, int in_fd, int out_fd, int err_fd,
		struct winsize *ws)
{
	char tmp[SSHC_CHUNK];
	bool in_open = true;

	while (ssh_channel_is_open(ch) && !ssh_channel_is_eof(ch)) {
		struct pollfd pf[2] = {
			{ .fd = in_fd, .events = POLLIN },
			{ .fd = ssh_get_fd(c->s), .events = POLLIN },
		};
		struct winsize now;
		int got = 0;

		for (int stream = 0; stream < 2; stream++) {
			int n;

			while ((n = ssh_channel_read_nonblocking(ch, tmp, sizeof(tmp), stream)) > 0) {
				if (fd_write_all(stream ? err_fd : out_fd, tmp, (size_t)n) < 0)
					return -2;
				got += n;
			}
			if (n == SSH_ERROR)
				return -1;
		}
		if (ws && winsize(&now) && (now.ws_col != ws->ws_col || now.ws_row != ws->ws_row)) {
			*ws = now;
			ssh_channel_change_pty_size(ch, ws->ws_col, ws->ws_row);
		}
		if (got)
			continue;
		if (poll(in_open ? pf : pf + 1, in_open ? 2 : 1, 100) < 0 && errno != EINTR)
			return -2;
		if (in_open && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(in_fd, tmp, sizeof(tmp));

			if (n > 0 && ssh_channel_write(ch, tmp, (uint32_t)n) < 0)
				return -1;
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				in_open = false;
				ssh_channel_send_eof(ch);
			}
		}
	}
	return 0;
}

int sshc_exec_interactive(struct sshc *c, const char *const *argv, int *status,
			  struct xerr *e)
{
	struct tty_state tty = { 0 };
	struct winsize ws = { 0 };
	_cleanup_free_ char *cmd = NULL;
	ssh_channel ch;
	int rc = -1;

	if (status)
		*status = -1;
	ch = ssh_channel_new(c->s);
	if (!ch || ssh_channel_open_session(ch) != SSH_OK)
		goto fail;
	/* A pty only for a person at a terminal, as ssh does: scripts get the
	 * command's own stdout and stderr, without CRs or merged streams. */
	if (isatty(STDIN_FILENO) && pty_request(ch, &ws) != SSH_OK)
		goto fail;
	if (argv && argv[0]) {
		cmd = sshc_argv_quote(argv);
		if (ssh_channel_request_exec(ch, cmd) != SSH_OK)
			goto fail;
	} else if (ssh_channel_request_shell(ch) != SSH_OK) {
		goto fail;
	}
	tty_raw(&tty);
	rc = pump(c, ch, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, &ws);
	tty_restore(&tty);
	if (rc < 0)
		goto fail;
	if (status)
		*status = ssh_channel_get_exit_status(ch);
	sshc_chan_end(ch);
	return 0;
fail:
	xerr_set(e, XERR_FAIL, "ssh %s: %s", c->addr, ssh_get_error(c->s));
	if (ch)
		sshc_chan_end(ch);
	return -1;
}

/* ---------------------------------------------------------- forwarding */

int sshc_forward(struct sshc *c, int fd, const char *host, int port, bool *opened,
		 struct xerr *e)
{
	ssh_channel ch = ssh_channel_new(c->s);
	int rc;

	*opened = false;
	if (!ch || ssh_channel_open_forward(ch, host, port, "127.0.0.1", 0) != SSH_OK) {
		xerr_set(e, XERR_FAIL, "ssh %s: cannot reach %s:%d from there: %s", c->addr,
			 host, port, ssh_get_error(c->s));
		if (ch)
			ssh_channel_free(ch);
		return -1;
	}
	*opened = true;
	rc = pump(c, ch, fd, fd, fd, NULL);
	if (rc < 0)
		xerr_set(e, XERR_FAIL, "ssh %s: forwarding to %s:%d: %s", c->addr, host, port,
			 rc == -2 ? strerror(errno) : ssh_get_error(c->s));
	rc = rc < 0 ? -1 : 0;
	sshc_chan_end(ch);
	return rc;
}

