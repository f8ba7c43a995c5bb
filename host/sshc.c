/* libssh client: pinned host keys, key auth, exec with argv quoted here and
 * only here, long-lived line channels, SFTP file transfer, key generation. */
#include "sshc.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

/* Output nobody reads on a terminal: past this it is a runaway command. */
#define SSHC_OUTPUT_MAX (16u * 1024 * 1024)
#define SSHC_CHUNK 32768
/* OpenSSH's sftp-server takes packets up to 256 KiB; stay well below. */
#define SFTP_CHUNK (64 * 1024)

struct sshc {
	ssh_session s;
	char *addr;
};

struct sshc_chan {
	struct sshc *c;
	ssh_channel ch;
	struct buf in;      /* stdout bytes not yet returned as lines */
	struct buf errtail; /* last stderr bytes, for "it died" messages */
};

static void ssh_keyp(ssh_key *k)
{
	ssh_key_free(*k);
}
#define _cleanup_key_ _cleanup_(ssh_keyp)

/* ---------------------------------------------------------------- keys */

static char *key_fingerprint(ssh_key k)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp, *out;

	if (ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return xstrdup("(no fingerprint)");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	out = xstrdup(fp ? fp : "(no fingerprint)");
	ssh_string_free_char(fp);
	return out;
}

int sshkey_generate_ed25519(const char *priv_path, const char *pub_path, const char *comment,
			    struct xerr *e)
{
	_cleanup_key_ ssh_key key = NULL;
	_cleanup_key_ ssh_key pub = NULL;
	char *priv_b64 = NULL, *pub_b64 = NULL;
	_cleanup_free_ char *line = NULL;
	int rc = -1;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "cannot generate an ed25519 key");
	/* Exported to memory and written by us so the file is 0600 from birth. */
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv_b64) != SSH_OK ||
	    ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(pub, &pub_b64) != SSH_OK) {
		xerr_set(e, XERR_FAIL, "cannot export the ed25519 key for %s", priv_path);
		goto out;
	}
	if (file_write_atomic(priv_path, priv_b64, strlen(priv_b64), 0600, e) < 0)
		goto out;
	line = xasprintf("ssh-ed25519 %s %s\n", pub_b64, comment ? comment : "");
	rc = file_write_atomic(pub_path, line, strlen(line), 0644, e);
out:
	if (priv_b64) {
		explicit_bzero(priv_b64, strlen(priv_b64));
		ssh_string_free_char(priv_b64);
	}
	ssh_string_free_char(pub_b64);
	return rc;
}

int sshkey_public_line(const char *pub_path, char **line, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len, a, b;

	if (file_read_all(pub_path, 64 * 1024, &data, &len, e) < 0)
		return -1;
	a = strspn(data, " \t");
	b = strcspn(data + a, " \t\r\n");
	if (b == 0)
		return xerr_set(e, XERR_FAIL, "%s: not a public key", pub_path);
	b += strspn(data + a + b, " \t");
	b += strcspn(data + a + b, " \t\r\n");
	*line = xstrndup(data + a, b);
	if (!strchr(*line, ' ') && !strchr(*line, '\t')) {
		free(steal_ptr(*line));
		return xerr_set(e, XERR_FAIL, "%s: not a public key", pub_path);
	}
	return 0;
}

int known_hosts_write(const char *path, const char *const *names, const char *const *pubs,
		      size_t n, struct xerr *e)
{
	struct buf b = { 0 };
	int rc;

	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s %s\n", names[i], pubs[i]);
	rc = file_write_atomic(path, b.data ? b.data : "", b.len, 0644, e);
	buf_free(&b);
	return rc;
}

/* ---------------------------------------------------------- connecting */

enum conn_fail {
	CONN_OK,
	CONN_NOT_YET, /* refused, unreachable, timed out: may work later */
	CONN_NEVER,   /* wrong host key, auth refused, bad local files */
};

static int session_setup(ssh_session s, const struct sshc_target *t, int timeout_ms,
			 const char *hostkey_alg, struct xerr *e)
{
	int port = t->port > 0 ? t->port : 22;
	int verbosity = SSH_LOG_NOLOG;
	long usec = (long)(timeout_ms > 0 ? timeout_ms : 10000) * 1000;
	bool no = false;
	/* Request/response traffic (SFTP, agent lines) stalls on Nagle otherwise. */
	int nodelay = 1;

	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, t->addr) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, t->user ? t->user : "root") < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_NODELAY, &nodelay) < 0 ||
	    /* Nothing from ~/.ssh may change what we accept. */
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0)
		return xerr_set(e, XERR_FAIL, "ssh options for %s: %s", t->addr,
				ssh_get_error(s));
	/* Ask for the type we pinned, so a server with several keys shows that one. */
	if (hostkey_alg && ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, hostkey_alg) < 0)
		return xerr_set(e, XERR_FAIL, "ssh host key algorithm %s: %s", hostkey_alg,
				ssh_get_error(s));
	return 0;
}

static int hostkey_check(ssh_session s, const struct sshc_target *t, ssh_key pinned,
			 struct xerr *e)
{
	_cleanup_key_ ssh_key got = NULL;
	_cleanup_free_ char *want_fp = NULL, *got_fp = NULL;

	if (ssh_get_server_publickey(s, &got) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "%s sent no host key", t->addr);
	if (ssh_key_cmp(got, pinned, SSH_KEY_CMP_PUBLIC) == 0)
		return 0;
	want_fp = key_fingerprint(pinned);
	got_fp = key_fingerprint(got);
	return xerr_set(e, XERR_FAIL, "host key mismatch for %s: expected %s from %s, got %s",
			t->addr, want_fp, t->host_pub_path, got_fp);
}

static int user_auth(ssh_session s, const struct sshc_target *t, struct xerr *e)
{
	_cleanup_key_ ssh_key key = NULL;
	int rc;

	if (ssh_pki_import_privkey_file(t->key_path, NULL, NULL, NULL, &key) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "cannot read private key %s", t->key_path);
	rc = ssh_userauth_publickey(s, NULL, key);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR)
		return xerr_set(e, XERR_FAIL, "ssh authentication with %s at %s failed: %s",
				t->key_path, t->addr, ssh_get_error(s));
	return xerr_set(e, XERR_FAIL, "%s@%s refused the key %s", t->user ? t->user : "root",
			t->addr, t->key_path);
}

static const char *hostkey_alg_for(ssh_key k)
{
	switch (ssh_key_type(k)) {
	case SSH_KEYTYPE_ED25519:
		return "ssh-ed25519";
	case SSH_KEYTYPE_ECDSA_P256:
		return "ecdsa-sha2-nistp256";
	case SSH_KEYTYPE_ECDSA_P384:
		return "ecdsa-sha2-nistp384";
	case SSH_KEYTYPE_ECDSA_P521:
		return "ecdsa-sha2-nistp521";
	case SSH_KEYTYPE_RSA:
		return "rsa-sha2-512,rsa-sha2-256";
	default:
		return NULL;
	}
}

/* A server that has no key of the pinned type fails key exchange; that is
 * a wrong host key too, not a server still booting. */
static void connect_error(ssh_session s, const struct sshc_target *t, ssh_key pinned,
			  enum conn_fail *fail, struct xerr *e)
{
	const char *why = ssh_get_error(s);

	if (strstr(why, "server host key algo")) {
		_cleanup_free_ char *want_fp = key_fingerprint(pinned);

		*fail = CONN_NEVER;
		xerr_set(e, XERR_FAIL,
			 "host key mismatch for %s: expected %s from %s, got no %s key (%s)",
			 t->addr, want_fp, t->host_pub_path, ssh_key_type_to_char(ssh_key_type(pinned)),
			 why);
		return;
	}
	*fail = CONN_NOT_YET;
	xerr_set(e, XERR_FAIL, "ssh to %s port %d: %s", t->addr, t->port > 0 ? t->port : 22,
		 why);
}

/* Connects, checks the pinned key and authenticates; *fail says whether a
 * failure is worth retrying. */
static int session_open(const struct sshc_target *t, int timeout_ms, ssh_session *out,
			enum conn_fail *fail, struct xerr *e)
{
	_cleanup_key_ ssh_key pinned = NULL;
	ssh_session s;

	*fail = CONN_NEVER;
	if (!t->addr || !t->key_path || !t->host_pub_path)
		return xerr_set(e, XERR_FAIL, "ssh target needs addr, key and host key");
	if (ssh_pki_import_pubkey_file(t->host_pub_path, &pinned) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "cannot read host key %s", t->host_pub_path);
	s = ssh_new();
	if (!s)
		return xerr_set(e, XERR_FAIL, "out of memory for an ssh session");
	if (session_setup(s, t, timeout_ms, hostkey_alg_for(pinned), e) < 0)
		goto fail;
	if (ssh_connect(s) != SSH_OK) {
		connect_error(s, t, pinned, fail, e);
		goto fail;
	}
	if (hostkey_check(s, t, pinned, e) < 0 || user_auth(s, t, e) < 0)
		goto fail;
	*fail = CONN_OK;
	*out = s;
	return 0;
fail:
	ssh_disconnect(s);
	ssh_free(s);
	return -1;
}

static struct sshc *sshc_wrap(ssh_session s, const char *addr)
{
	struct sshc *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->addr = xstrdup(addr);
	return c;
}

int sshc_connect(const struct sshc_target *t, struct sshc **out, struct xerr *e)
{
	enum conn_fail fail;
	ssh_session s;

	if (session_open(t, t->connect_timeout_ms, &s, &fail, e) < 0)
		return -1;
	*out = sshc_wrap(s, t->addr);
	return 0;
}

void sshc_free(struct sshc *c)
{
	if (!c)
		return;
	ssh_disconnect(c->s);
	ssh_free(c->s);
	free(c->addr);
	free(c);
}

int sshc_probe(const struct sshc_target *t, int timeout_ms, struct sshc **keep,
	       struct xerr *e)
{
	enum conn_fail fail;
	struct xerr why = { 0 };
	ssh_session s;

	if (session_open(t, timeout_ms, &s, &fail, &why) == 0) {
		if (keep) {
			*keep = sshc_wrap(s, t->addr);
		} else {
			ssh_disconnect(s);
			ssh_free(s);
		}
		return 1;
	}
	if (fail == CONN_NOT_YET)
		return 0;
	*e = why;
	return -1;
}

/* ---------------------------------------------------------------- exec */

/* 'a b' -> "'a b'", and ' -> '\'' : the remote login shell sees each
 * element as one word, whatever it holds. */
static char *argv_quote(const char *const *argv)
{
	struct buf b = { 0 };

	for (size_t i = 0; argv[i]; i++) {
		if (i)
			buf_puts(&b, " ");
		buf_puts(&b, "'");
		for (const char *p = argv[i]; *p; p++) {
			if (*p == '\'')
				buf_puts(&b, "'\\''");
			else
				buf_append(&b, p, 1);
		}
		buf_puts(&b, "'");
	}
	if (!b.data)
		buf_puts(&b, "");
	return buf_steal(&b);
}

static int chan_start(struct sshc *c, const char *const *argv, ssh_channel *out, struct xerr *e)
{
	_cleanup_free_ char *cmd = NULL;
	ssh_channel ch;

	if (!argv || !argv[0])
		return xerr_set(e, XERR_FAIL, "ssh exec: empty command");
	ch = ssh_channel_new(c->s);
	if (!ch)
		return xerr_set(e, XERR_FAIL, "ssh %s: cannot make a channel: %s", c->addr,
				ssh_get_error(c->s));
	cmd = argv_quote(argv);
	if (ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		xerr_set(e, XERR_FAIL, "ssh %s: cannot run %s: %s", c->addr, argv[0],
			 ssh_get_error(c->s));
		ssh_channel_free(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

static void chan_end(ssh_channel ch)
{
	ssh_channel_close(ch);
	ssh_channel_free(ch);
}

struct sink {
	struct buf b;
	bool keep;
	bool overflow;
};

static void sink_add(struct sink *k, const char *p, size_t n)
{
	if (!k->keep || n == 0)
		return;
	if (k->b.len + n > SSHC_OUTPUT_MAX) {
		k->overflow = true;
		return;
	}
	buf_append(&k->b, p, n);
}

/* Reads what is buffered on both streams; returns bytes read or -1. */
static int drain(ssh_channel ch, struct sink *out, struct sink *err)
{
	char tmp[SSHC_CHUNK];
	int total = 0;

	for (int stream = 0; stream < 2; stream++) {
		int n;

		while ((n = ssh_channel_read_nonblocking(ch, tmp, sizeof(tmp), stream)) > 0) {
			sink_add(stream ? err : out, tmp, (size_t)n);
			total += n;
		}
		if (n == SSH_ERROR)
			return -1;
	}
	return total;
}

/* Writes stdin only as far as the peer's window allows, so a command that
 * answers while reading (cat) cannot deadlock us. */
static int feed(ssh_channel ch, const char **p, size_t *left)
{
	uint32_t win = ssh_channel_window_size(ch);
	size_t n = *left < win ? *left : win;
	int w;

	if (n == 0)
		return 0;
	if (n > SSHC_CHUNK)
		n = SSHC_CHUNK;
	w = ssh_channel_write(ch, *p, (uint32_t)n);
	if (w < 0)
		return -1;
	*p += w;
	*left -= (size_t)w;
	return w;
}

int sshc_exec(struct sshc *c, const char *const *argv, const char *stdin_data, int *status,
	      char **out, char **err, struct xerr *e)
{
	struct sink so = { .keep = out != NULL }, se = { .keep = err != NULL };
	const char *in = stdin_data ? stdin_data : "";
	size_t left = strlen(in);
	bool eof_sent = false;
	ssh_channel ch;
	int rc = -1;

	if (status)
		*status = -1;
	if (chan_start(c, argv, &ch, e) < 0)
		return -1;
	for (;;) {
		int got, put = 0;

		if (!eof_sent && left > 0 && (put = feed(ch, &in, &left)) < 0)
			break;
		if (!eof_sent && left == 0) {
			ssh_channel_send_eof(ch);
			eof_sent = true;
		}
		if ((got = drain(ch, &so, &se)) < 0)
			break;
		if (ssh_channel_is_eof(ch) || !ssh_channel_is_open(ch)) {
			rc = 0;
			break;
		}
		if (got == 0 && put == 0)
			ssh_channel_poll_timeout(ch, 50, 0);
	}
	if (rc < 0) {
		xerr_set(e, XERR_FAIL, "ssh %s: %s: %s", c->addr, argv[0], ssh_get_error(c->s));
		goto out;
	}
	drain(ch, &so, &se);
	if (status)
		*status = ssh_channel_get_exit_status(ch);
	if (so.overflow || se.overflow) {
		rc = xerr_set(e, XERR_FAIL, "ssh %s: %s wrote more than %u MiB", c->addr,
			      argv[0], SSHC_OUTPUT_MAX >> 20);
		goto out;
	}
	if (out)
		*out = so.b.data ? buf_steal(&so.b) : xstrdup("");
	if (err)
		*err = se.b.data ? buf_steal(&se.b) : xstrdup("");
out:
	buf_free(&so.b);
	buf_free(&se.b);
	chan_end(ch);
	return rc;
}

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

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
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
				if (write_all(stream ? err_fd : out_fd, tmp, (size_t)n) < 0)
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
		cmd = argv_quote(argv);
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
	chan_end(ch);
	return 0;
fail:
	xerr_set(e, XERR_FAIL, "ssh %s: %s", c->addr, ssh_get_error(c->s));
	if (ch)
		chan_end(ch);
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
	chan_end(ch);
	return rc;
}

/* ------------------------------------------------------- line channels */

int sshc_chan_open(struct sshc *c, const char *const *argv, struct sshc_chan **out,
		   struct xerr *e)
{
	ssh_channel ch;
	struct sshc_chan *lc;

	if (chan_start(c, argv, &ch, e) < 0)
		return -1;
	lc = xcalloc(1, sizeof(*lc));
	lc->c = c;
	lc->ch = ch;
	*out = lc;
	return 0;
}

int sshc_chan_write(struct sshc_chan *ch, const char *data, size_t len, struct xerr *e)
{
	while (len) {
		uint32_t n = len > SSHC_CHUNK ? SSHC_CHUNK : (uint32_t)len;
		int w = ssh_channel_write(ch->ch, data, n);

		if (w < 0)
			return xerr_set(e, XERR_FAIL, "ssh %s: write: %s", ch->c->addr,
					ssh_get_error(ch->c->s));
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Keeps the last 2 KiB of stderr so a dying command can say why. */
static void errtail_add(struct buf *t, const char *p, size_t n)
{
	const size_t keep = 2048;

	buf_append(t, p, n);
	if (t->len > keep) {
		memmove(t->data, t->data + t->len - keep, keep);
		t->len = keep;
		t->data[keep] = '\0';
	}
}

static int chan_closed_error(struct sshc_chan *ch, struct xerr *e)
{
	char tmp[SSHC_CHUNK];
	int n, st;

	while ((n = ssh_channel_read_nonblocking(ch->ch, tmp, sizeof(tmp), 1)) > 0)
		errtail_add(&ch->errtail, tmp, (size_t)n);
	st = ssh_channel_get_exit_status(ch->ch);
	while (ch->errtail.len && strchr("\r\n", ch->errtail.data[ch->errtail.len - 1]))
		ch->errtail.data[--ch->errtail.len] = '\0';
	return xerr_set(e, XERR_FAIL, "ssh %s: remote command ended (exit status %d)%s%s",
			ch->c->addr, st, ch->errtail.len ? ": " : "",
			ch->errtail.len ? ch->errtail.data : "");
}

static bool line_take(struct sshc_chan *ch, char **line)
{
	char *nl = ch->in.data ? memchr(ch->in.data, '\n', ch->in.len) : NULL;
	size_t n;

	if (!nl)
		return false;
	n = (size_t)(nl - ch->in.data);
	*line = xstrndup(ch->in.data, n);
	memmove(ch->in.data, nl + 1, ch->in.len - n - 1);
	ch->in.len -= n + 1;
	ch->in.data[ch->in.len] = '\0';
	return true;
}

int sshc_chan_read_line(struct sshc_chan *ch, char **line, int timeout_ms, struct xerr *e)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char tmp[SSHC_CHUNK];

	*line = NULL;
	while (!line_take(ch, line)) {
		int n;

		/* stderr shares the channel window: drain it or the command stalls. */
		while ((n = ssh_channel_read_nonblocking(ch->ch, tmp, sizeof(tmp), 1)) > 0)
			errtail_add(&ch->errtail, tmp, (size_t)n);
		if (deadline >= 0 && now_ms() >= deadline)
			return xerr_set(e, XERR_FAIL, "ssh %s: no answer within %d s",
					ch->c->addr, timeout_ms / 1000);
		n = ssh_channel_read_timeout(ch->ch, tmp, sizeof(tmp), 0, 200);
		if (n == SSH_ERROR)
			return xerr_set(e, XERR_FAIL, "ssh %s: read: %s", ch->c->addr,
					ssh_get_error(ch->c->s));
		if (n > 0) {
			if (ch->in.len + (size_t)n > SSHC_OUTPUT_MAX)
				return xerr_set(e, XERR_FAIL, "ssh %s: line longer than %u MiB",
						ch->c->addr, SSHC_OUTPUT_MAX >> 20);
			buf_append(&ch->in, tmp, (size_t)n);
		} else if (ssh_channel_is_eof(ch->ch) || !ssh_channel_is_open(ch->ch)) {
			return chan_closed_error(ch, e);
		}
	}
	return 0;
}

void sshc_chan_close(struct sshc_chan *ch)
{
	if (!ch)
		return;
	if (ssh_channel_is_open(ch->ch))
		ssh_channel_send_eof(ch->ch);
	chan_end(ch->ch);
	buf_free(&ch->in);
	buf_free(&ch->errtail);
	free(ch);
}

/* ---------------------------------------------------------------- SFTP */

static void sftp_sessionp(sftp_session *p)
{
	if (*p)
		sftp_free(*p);
}
#define _cleanup_sftp_ _cleanup_(sftp_sessionp)

static int sftp_start(struct sshc *c, sftp_session *out, struct xerr *e)
{
	sftp_session sf = sftp_new(c->s);

	if (!sf)
		return xerr_set(e, XERR_FAIL, "sftp %s: %s", c->addr, ssh_get_error(c->s));
	if (sftp_init(sf) != SSH_OK) {
		xerr_set(e, XERR_FAIL, "sftp %s: cannot start (error %d): %s", c->addr,
			 sftp_get_error(sf), ssh_get_error(c->s));
		sftp_free(sf);
		return -1;
	}
	*out = sf;
	return 0;
}

static int sftp_fail(struct sshc *c, sftp_session sf, const char *what, const char *path,
		     struct xerr *e)
{
	return xerr_set(e, XERR_FAIL, "sftp %s: cannot %s %s (sftp error %d): %s", c->addr,
			what, path, sftp_get_error(sf), ssh_get_error(c->s));
}

static bool sftp_is_dir(sftp_session sf, const char *path)
{
	sftp_attributes a = sftp_stat(sf, path);
	bool dir = a && a->type == SSH_FILEXFER_TYPE_DIRECTORY;

	sftp_attributes_free(a);
	return dir;
}

/* mkdir -p of the parent of `path`. */
static int sftp_mkdir_parent(struct sshc *c, sftp_session sf, const char *path, struct xerr *e)
{
	_cleanup_free_ char *p = xstrdup(path);
	char *slash = strrchr(p, '/');

	if (!slash || slash == p)
		return 0;
	*slash = '\0';
	for (char *s = p + 1;; s++) {
		bool last = *s == '\0';

		if (*s != '/' && !last)
			continue;
		*s = '\0';
		/* sftp-server reports an existing directory as a plain failure. */
		if (!sftp_is_dir(sf, p) && sftp_mkdir(sf, p, 0755) < 0 && !sftp_is_dir(sf, p))
			return sftp_fail(c, sf, "mkdir", p, e);
		if (last)
			break;
		*s = '/';
	}
	return 0;
}

static int sftp_write_file(struct sshc *c, sftp_session sf, int fd, const char *remote,
			   struct xerr *e)
{
	sftp_file f = sftp_open(sf, remote, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *chunk;
	int rc = 0;

	if (!f)
		return sftp_fail(c, sf, "create", remote, e);
	chunk = xmalloc(SFTP_CHUNK);
	for (;;) {
		ssize_t n = read(fd, chunk, SFTP_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = xerr_errno(e, XERR_IO, "cannot read the file for %s", remote);
			break;
		}
		if (n == 0)
			break;
		if (sftp_write(f, chunk, (size_t)n) != n) {
			rc = sftp_fail(c, sf, "write", remote, e);
			break;
		}
	}
	free(chunk);
	if (sftp_close(f) != SSH_NO_ERROR && rc == 0)
		rc = sftp_fail(c, sf, "close", remote, e);
	return rc;
}

int sshc_put(struct sshc *c, const char *local, const char *remote, int mode, struct xerr *e)
{
	_cleanup_sftp_ sftp_session sf = NULL;
	_cleanup_close_ int fd = open(local, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", remote);

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", local);
	if (sftp_start(c, &sf, e) < 0 || sftp_mkdir_parent(c, sf, remote, e) < 0)
		return -1;
	if (sftp_write_file(c, sf, fd, tmp, e) < 0)
		goto fail;
	if (sftp_chmod(sf, tmp, (mode_t)mode) < 0) {
		sftp_fail(c, sf, "chmod", tmp, e);
		goto fail;
	}
	/* SFTP v3 rename refuses an existing target. */
	if (sftp_rename(sf, tmp, remote) < 0 &&
	    (sftp_unlink(sf, remote) < 0 || sftp_rename(sf, tmp, remote) < 0)) {
		sftp_fail(c, sf, "rename onto", remote, e);
		goto fail;
	}
	return 0;
fail:
	sftp_unlink(sf, tmp);
	return -1;
}

/* What a copy from a dom0 may be: 0666 or 0777 less the umask, as cp(1)
 * gives a new file. Never the remote's own bits: a set-id or sticky bit set
 * by root in a dom0 (a student) must not reach the controller. */
static mode_t local_mode(uint32_t remote_perms)
{
	mode_t mask = umask(0);

	umask(mask);
	return (remote_perms & 0111 ? 0777 : 0666) & ~mask;
}

static int sftp_read_to(struct sshc *c, sftp_session sf, sftp_file f, int fd,
			const char *remote, const char *tmp, struct xerr *e)
{
	_cleanup_free_ char *chunk = xmalloc(SFTP_CHUNK);

	for (;;) {
		ssize_t n = sftp_read(f, chunk, SFTP_CHUNK);

		if (n < 0)
			return sftp_fail(c, sf, "read", remote, e);
		if (n == 0)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, chunk + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return xerr_errno(e, XERR_IO, "cannot write %s", tmp);
			done += w;
		}
	}
}

/* Streams the file into a fresh temporary next to `local` (O_EXCL: no planted
 * link is followed), then renames it into place. */
int sshc_get(struct sshc *c, const char *remote, const char *local, struct xerr *e)
{
	_cleanup_sftp_ sftp_session sf = NULL;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", local);
	_cleanup_close_ int fd = -1;
	sftp_attributes a;
	sftp_file f;
	mode_t mode;
	int rc;

	if (sftp_start(c, &sf, e) < 0)
		return -1;
	/* By name first: opening a FIFO would block the remote sftp-server. */
	a = sftp_stat(sf, remote);
	if (!a)
		return sftp_fail(c, sf, "stat", remote, e);
	rc = a->type == SSH_FILEXFER_TYPE_REGULAR ? 0 :
		xerr_set(e, XERR_FAIL, "%s: %s is not a regular file; only regular files "
			 "are copied", c->addr, remote);
	sftp_attributes_free(a);
	if (rc < 0)
		return -1;
	f = sftp_open(sf, remote, O_RDONLY, 0);
	if (!f)
		return sftp_fail(c, sf, "open", remote, e);
	/* What was opened, not what the name was a moment before: a dom0's root
	 * could swap the path for a link to /dev/zero between a stat and an open. */
	a = sftp_fstat(f);
	if (!a) {
		sftp_close(f);
		return sftp_fail(c, sf, "stat", remote, e);
	}
	mode = local_mode(a->permissions);
	rc = a->type == SSH_FILEXFER_TYPE_REGULAR ? 0 :
		xerr_set(e, XERR_FAIL, "%s: %s is not a regular file; only regular files "
			 "are copied", c->addr, remote);
	sftp_attributes_free(a);
	if (rc < 0) {
		sftp_close(f);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		sftp_close(f);
		return xerr_errno(e, XERR_IO, "cannot create %s", tmp);
	}
	rc = sftp_read_to(c, sf, f, fd, remote, tmp, e);
	sftp_close(f);
	if (rc == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		rc = xerr_errno(e, XERR_IO, "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, local) < 0)
		rc = xerr_errno(e, XERR_IO, "cannot write %s", local);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
