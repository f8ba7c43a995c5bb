/* What host/sshc*.c share and nothing else sees: the session and channel
 * structures and the helpers every part of the client uses. */
#ifndef XLAB_SSHC_INT_H
#define XLAB_SSHC_INT_H

#include <libssh/libssh.h>

#include "sshc.h"
#include "util.h"

/* Output nobody reads on a terminal: past this it is a runaway command. */
#define SSHC_OUTPUT_MAX (16u * 1024 * 1024)
#define SSHC_CHUNK 32768

struct sshc_via;

struct sshc {
	ssh_session s;
	char *addr;
	struct sshc_via *via; /* the tunnel the session runs over, NULL: direct */
};

/* Whether a failed connect is worth retrying. */
enum sshc_conn_fail {
	SSHC_CONN_OK,
	SSHC_CONN_NOT_YET, /* refused, unreachable, timed out: may work later */
	SSHC_CONN_NEVER,   /* wrong host key, auth refused, bad local files */
};

/* sshc_connect with the timeout given and, on failure, whether to retry. */
int sshc_open(const struct sshc_target *t, int timeout_ms, struct sshc **out,
	      enum sshc_conn_fail *fail, struct xerr *e);

/* ---- through a server (sshc_via.c) ---- */
/* Connects to via (its host key pinned like any target's) and starts a
 * thread carrying a direct-tcpip channel to host:port from there over a
 * socket pair; *session_fd is the end a session speaks SSH over (closed
 * by sshc_via_close, after that session). */
int sshc_via_open(const struct sshc_target *via, const char *host, int port, int timeout_ms,
		  struct sshc_via **out, int *session_fd, enum sshc_conn_fail *fail,
		  struct xerr *e);
/* Ends the thread; true with e set when the channel was refused: the
 * reason a session over it failed (*never: the server forwards nothing). */
bool sshc_via_failed(struct sshc_via *v, bool *never, struct xerr *e);
/* Ends the thread and the jump session, and closes the session's end of
 * the pair: after the session over it is freed. */
void sshc_via_close(struct sshc_via *v);

struct sshc_chan {
	struct sshc *c;
	ssh_channel ch;
	struct buf in;      /* stdout bytes not yet returned as lines */
	struct buf errtail; /* last stderr bytes, for "it died" messages */
	bool stop_abandons; /* a stop request (SIGINT...) ends a read: XERR_INTERRUPTED */
};

static inline void ssh_keyp(ssh_key *k)
{
	ssh_key_free(*k);
}
#define _cleanup_key_ _cleanup_(ssh_keyp)

/* "SHA256:..." of a key (malloc'd), as ssh-keygen -l prints it. */
char *sshc_key_fingerprint(ssh_key k);
/* One command line from argv, each word quoted for the remote shell: the
 * only place xlab turns words into a command line. */
char *sshc_argv_quote(const char *const *argv);
/* An exec channel running argv, and its end (EOF, close, free). */
int sshc_chan_start(struct sshc *c, const char *const *argv, ssh_channel *out, struct xerr *e);
void sshc_chan_end(ssh_channel ch);

#endif
