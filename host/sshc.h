/* SSH to the lab's dom0s with libssh: key auth with the lab key, and the
 * server must present exactly the host key xlab generated for it (pinned;
 * never trust on first use). */
#ifndef XLAB_SSHC_H
#define XLAB_SSHC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct sshc;
struct sshc_chan;

struct sshc_target {
	const char *addr;
	int port;
	const char *user;
	const char *key_path;      /* private key (OpenSSH format) */
	const char *host_pub_path; /* the one host key accepted ("ssh-ed25519 AAAA... comment") */
	int connect_timeout_ms;    /* to get in; a session in waits SSHC_REPLY_TIMEOUT_MS */
	/* Reached through this server's sshd (a direct-tcpip channel from there
	 * to addr:port, as `ssh -J`), its own key pinned too; NULL: directly. */
	const struct sshc_target *via;
};

/* How long a blocking request on a session in (channel open, SFTP) may wait. */
#define SSHC_REPLY_TIMEOUT_MS 60000
/* How long a connection's peer may stay silent (unacknowledged data or
 * keepalive probes) before the connection is given up as dead. */
#define SSHC_DEAD_PEER_MS 60000

int sshc_connect(const struct sshc_target *t, struct sshc **out, struct xerr *e);
void sshc_free(struct sshc *c);
/* 1: sshd answered with the pinned key and accepted the lab key; 0: not yet
 * (refused, unreachable, timed out: keep waiting); -1: will never work
 * (wrong host key, auth refused) with e set. With keep, a 1 leaves the
 * authenticated session there for the caller: under TCG a handshake costs
 * seconds, and the caller's next step wants one. */
int sshc_probe(const struct sshc_target *t, int timeout_ms, struct sshc **keep,
	       struct xerr *e);

/* Runs argv (quoted for the remote shell by sshc, never by callers) and
 * collects its output; *status is the exit status (-1 if none). out/err may be NULL. */
int sshc_exec(struct sshc *c, const char *const *argv, const char *stdin_data, int *status,
	      char **out, char **err, struct xerr *e);
/* With a pty, wired to this terminal (ssh/console commands); argv NULL = login shell. */
int sshc_exec_interactive(struct sshc *c, const char *const *argv, int *status,
			  struct xerr *e);

/* A direct-tcpip channel to host:port as the server sees it (its
 * loopback, say), copied both ways to and from fd until either side ends.
 * *opened tells a channel the server refused from a copy that broke. */
int sshc_forward(struct sshc *c, int fd, const char *host, int port, bool *opened,
		 struct xerr *e);

/* A long-lived exec channel speaking lines (the agent protocol). */
int sshc_chan_open(struct sshc *c, const char *const *argv, struct sshc_chan **out,
		   struct xerr *e);
int sshc_chan_write(struct sshc_chan *ch, const char *data, size_t len, struct xerr *e);
/* Reads one line (without '\n') into a malloc'd string; timeout_ms < 0 waits forever. */
int sshc_chan_read_line(struct sshc_chan *ch, char **line, int timeout_ms, struct xerr *e);
/* on: a stop request (common/stop.h) ends a waiting read with
 * XERR_INTERRUPTED; the line it waited for is then lost to the caller. */
void sshc_chan_stop_abandons(struct sshc_chan *ch, bool on);
void sshc_chan_close(struct sshc_chan *ch);

/* SFTP: writes local file to remote path atomically (tmp + rename), with mode. */
int sshc_put(struct sshc *c, const char *local, const char *remote, int mode, struct xerr *e);
/* SFTP: streams a remote regular file to `local` (tmp + rename). The copy gets
 * 0666 or 0777 (when any x bit is set remotely) less the umask: never the
 * remote's set-id or sticky bits. */
int sshc_get(struct sshc *c, const char *remote, const char *local, struct xerr *e);

/* Keys: ed25519 pair in OpenSSH format (private 0600). */
int sshkey_generate_ed25519(const char *priv_path, const char *pub_path, const char *comment,
			    struct xerr *e);
/* "ssh-ed25519 AAAA..." (first two fields of the .pub file), malloc'd. */
int sshkey_public_line(const char *pub_path, char **line, struct xerr *e);
/* known_hosts with one line per host: "NAMES KEYLINE"; names[i] is "h1,10.80.0.10". */
int known_hosts_write(const char *path, const char *const *names, const char *const *pubs,
		      size_t n, struct xerr *e);
/* "SHA256:... (ssh-ed25519)" of the first key in a known_hosts file. */
int known_hosts_fingerprint(const char *path, char **fingerprint, struct xerr *e);
/* That key as a .pub line ("ssh-ed25519 AAAA...\n"), malloc'd. */
int known_hosts_first_key(const char *path, char **line, struct xerr *e);

#endif
