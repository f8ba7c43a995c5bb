/* libssh client: pinned host keys, key auth, exec with argv quoted here and
 * only here, long-lived line channels. The terminal (sshc_tty.c), SFTP
 * (sshc_sftp.c) and key files (sshkeys.c) are beside it. */
#include "sshc.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshc_int.h"
#include "stop.h"

/* ---------------------------------------------------------- connecting */

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
	want_fp = sshc_key_fingerprint(pinned);
	got_fp = sshc_key_fingerprint(got);
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
			  enum sshc_conn_fail *fail, struct xerr *e)
{
	const char *why = ssh_get_error(s);

	if (strstr(why, "server host key algo")) {
		_cleanup_free_ char *want_fp = sshc_key_fingerprint(pinned);

		*fail = SSHC_CONN_NEVER;
		xerr_set(e, XERR_FAIL,
			 "host key mismatch for %s: expected %s from %s, got no %s key (%s)",
			 t->addr, want_fp, t->host_pub_path, ssh_key_type_to_char(ssh_key_type(pinned)),
			 why);
		return;
	}
	*fail = SSHC_CONN_NOT_YET;
	xerr_set(e, XERR_FAIL, "ssh to %s port %d: %s", t->addr, t->port > 0 ? t->port : 22,
		 why);
}

/* The timeout we connected with bounds how long to wait to get in (a boot
 * wait probes every few seconds); once in, a dom0 that has just booted
 * under TCG may take longer than that to answer a channel open. */
static int reply_timeout_set(ssh_session s, const struct sshc_target *t, struct xerr *e)
{
	long usec = (long)SSHC_REPLY_TIMEOUT_MS * 1000;

	if (ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec) < 0)
		return xerr_set(e, XERR_FAIL, "ssh options for %s: %s", t->addr,
				ssh_get_error(s));
	return 0;
}

/* A peer that vanishes without a word (a server switched off, its cable
 * pulled) never resets the connection: a reply we wait for would never
 * come. The kernel's keepalive asks an idle connection every few seconds,
 * and TCP_USER_TIMEOUT ends one whose data or probes go unacknowledged
 * that long, so the read waiting on it fails instead. For the TCP socket
 * libssh connected; a tunnel's socket pair is watched at its jump session. */
static void dead_peer_detect(ssh_session s)
{
	int fd = ssh_get_fd(s), on = 1, idle = SSHC_DEAD_PEER_MS / 4000;
	int intvl = SSHC_DEAD_PEER_MS / 4000, cnt = 4, user = SSHC_DEAD_PEER_MS;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user));
}

/* Over a tunnel through t->via when it is set. */
static int session_connect(ssh_session s, const struct sshc_target *t, ssh_key pinned,
			   int timeout_ms, struct sshc_via **via, enum sshc_conn_fail *fail,
			   struct xerr *e)
{
	bool never = false;
	int fd = -1;

	if (t->via) {
		if (sshc_via_open(t->via, t->addr, t->port > 0 ? t->port : 22, timeout_ms, via,
				  &fd, fail, e) < 0)
			return -1;
		/* fd stays the tunnel's to close (sshc_via_close). */
		if (ssh_options_set(s, SSH_OPTIONS_FD, &fd) < 0)
			return xerr_set(e, XERR_FAIL, "ssh options for %s: %s", t->addr,
					ssh_get_error(s));
	}
	if (ssh_connect(s) == SSH_OK) {
		if (!t->via)
			dead_peer_detect(s);
		return 0;
	}
	if (sshc_via_failed(*via, &never, e))
		*fail = never ? SSHC_CONN_NEVER : SSHC_CONN_NOT_YET;
	else
		connect_error(s, t, pinned, fail, e);
	return -1;
}

/* Connects, checks the pinned key and authenticates; *fail says whether a
 * failure is worth retrying. */
static int session_open(const struct sshc_target *t, int timeout_ms, ssh_session *out,
			struct sshc_via **via, enum sshc_conn_fail *fail, struct xerr *e)
{
	_cleanup_key_ ssh_key pinned = NULL;
	ssh_session s;

	*fail = SSHC_CONN_NEVER;
	*via = NULL;
	if (!t->addr || !t->key_path || !t->host_pub_path)
		return xerr_set(e, XERR_FAIL, "ssh target needs addr, key and host key");
	if (ssh_pki_import_pubkey_file(t->host_pub_path, &pinned) != SSH_OK)
		return xerr_set(e, XERR_FAIL, "cannot read host key %s", t->host_pub_path);
	s = ssh_new();
	if (!s)
		return xerr_set(e, XERR_FAIL, "out of memory for an ssh session");
	if (session_setup(s, t, timeout_ms, hostkey_alg_for(pinned), e) < 0 ||
	    session_connect(s, t, pinned, timeout_ms, via, fail, e) < 0)
		goto fail;
	if (hostkey_check(s, t, pinned, e) < 0 || user_auth(s, t, e) < 0 ||
	    reply_timeout_set(s, t, e) < 0)
		goto fail;
	*fail = SSHC_CONN_OK;
	*out = s;
	return 0;
fail:
	ssh_disconnect(s);
	ssh_free(s);
	sshc_via_close(*via);
	*via = NULL;
	return -1;
}

static struct sshc *sshc_wrap(ssh_session s, const char *addr, struct sshc_via *via)
{
	struct sshc *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->addr = xstrdup(addr);
	c->via = via;
	return c;
}

int sshc_open(const struct sshc_target *t, int timeout_ms, struct sshc **out,
	      enum sshc_conn_fail *fail, struct xerr *e)
{
	struct sshc_via *via;
	ssh_session s;

	if (session_open(t, timeout_ms, &s, &via, fail, e) < 0)
		return -1;
	*out = sshc_wrap(s, t->addr, via);
	return 0;
}

int sshc_connect(const struct sshc_target *t, struct sshc **out, struct xerr *e)
{
	struct sshc_via *via;
	enum sshc_conn_fail fail;
	ssh_session s;

	if (session_open(t, t->connect_timeout_ms, &s, &via, &fail, e) < 0)
		return -1;
	*out = sshc_wrap(s, t->addr, via);
	return 0;
}

void sshc_free(struct sshc *c)
{
	if (!c)
		return;
	ssh_disconnect(c->s);
	ssh_free(c->s);
	sshc_via_close(c->via);
	free(c->addr);
	free(c);
}

int sshc_probe(const struct sshc_target *t, int timeout_ms, struct sshc **keep,
	       struct xerr *e)
{
	enum sshc_conn_fail fail;
	struct xerr why = { 0 };
	struct sshc_via *via;
	ssh_session s;

	if (session_open(t, timeout_ms, &s, &via, &fail, &why) == 0) {
		if (keep) {
			*keep = sshc_wrap(s, t->addr, via);
		} else {
			ssh_disconnect(s);
			ssh_free(s);
			sshc_via_close(via);
		}
		return 1;
	}
	if (fail == SSHC_CONN_NOT_YET)
		return 0;
	*e = why;
	return -1;
}

/* ---------------------------------------------------------------- exec */

/* 'a b' -> "'a b'", and ' -> '\'' : the remote login shell sees each
 * element as one word, whatever it holds. */
char *sshc_argv_quote(const char *const *argv)
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

int sshc_chan_start(struct sshc *c, const char *const *argv, ssh_channel *out, struct xerr *e)
{
	_cleanup_free_ char *cmd = NULL;
	ssh_channel ch;
	int rc;

	if (!argv || !argv[0])
		return xerr_set(e, XERR_FAIL, "ssh exec: empty command");
	ch = ssh_channel_new(c->s);
	if (!ch)
		return xerr_set(e, XERR_FAIL, "ssh %s: cannot make a channel: %s", c->addr,
				ssh_get_error(c->s));
	cmd = sshc_argv_quote(argv);
	rc = ssh_channel_open_session(ch);
	if (rc == SSH_OK)
		rc = ssh_channel_request_exec(ch, cmd);
	if (rc != SSH_OK) {
		/* SSH_AGAIN: the reply timeout passed, and libssh says nothing. */
		xerr_set(e, XERR_FAIL, "ssh %s: cannot run %s: %s", c->addr, argv[0],
			 rc == SSH_AGAIN ? "sshd did not answer in time" : ssh_get_error(c->s));
		ssh_channel_free(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

void sshc_chan_end(ssh_channel ch)
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
	if (sshc_chan_start(c, argv, &ch, e) < 0)
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
	sshc_chan_end(ch);
	return rc;
}

/* ------------------------------------------------------- line channels */

int sshc_chan_open(struct sshc *c, const char *const *argv, struct sshc_chan **out,
		   struct xerr *e)
{
	ssh_channel ch;
	struct sshc_chan *lc;

	if (sshc_chan_start(c, argv, &ch, e) < 0)
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
			return xerr_set(e, XERR_IO, "ssh %s: write: %s", ch->c->addr,
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
	/* No exit status: a signal ended it, or the session itself went. */
	if (st < 0)
		return xerr_set(e, XERR_IO,
				"ssh %s: the remote command ended without an exit status (killed, "
				"or the connection was lost)%s%s",
				ch->c->addr, ch->errtail.len ? ": " : "",
				ch->errtail.len ? ch->errtail.data : "");
	return xerr_set(e, XERR_FAIL, "ssh %s: the remote command ended with status %d%s%s",
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
			return xerr_set(e, XERR_TIMEOUT, "ssh %s: no answer within %d s",
					ch->c->addr, timeout_ms / 1000);
		if (ch->stop_abandons && stop_requested())
			return xerr_set(e, XERR_INTERRUPTED, "interrupted");
		n = ssh_channel_read_timeout(ch->ch, tmp, sizeof(tmp), 0, 200);
		if (n == SSH_ERROR)
			return xerr_set(e, XERR_IO, "ssh %s: read: %s", ch->c->addr,
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

void sshc_chan_stop_abandons(struct sshc_chan *ch, bool on)
{
	ch->stop_abandons = on;
}

void sshc_chan_close(struct sshc_chan *ch)
{
	if (!ch)
		return;
	if (ssh_channel_is_open(ch->ch))
		ssh_channel_send_eof(ch->ch);
	sshc_chan_end(ch->ch);
	buf_free(&ch->in);
	buf_free(&ch->errtail);
	free(ch);
}

