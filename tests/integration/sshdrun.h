/* A real sshd on 127.0.0.1 for the sshc tests: each test gets its own
 * (own port, own keys) in a temporary directory, made by sshd_setup (the
 * suite's .init) and removed by sshd_teardown (its .fini), which also stops
 * the sshd a test started, whether or not the test got to its end. */
#ifndef XLAB_TEST_SSHDRUN_H
#define XLAB_TEST_SSHDRUN_H

#include <sys/types.h>

#include "sshc.h"

/* The sshd sshd_start started, or -1. */
extern pid_t sshd_pid;

/* The test directory: host keys hostkey and otherhost, client keys client
 * (authorized) and stranger, sshd_config; sshd is not running yet. */
void sshd_setup(void);
/* Stops sshd, removes the directory, frees what targets pointed to. */
void sshd_teardown(void);
/* Starts sshd and waits until it listens. */
void sshd_start(void);
/* Signals sshd and every process under it (each session is a process tree
 * of its own: sshd calls setsid, so a group kill misses it); how many. */
int sshd_signal_tree(int sig);

/* name in the test directory; free it. */
char *path_in(const char *name);
/* Writes text to name in the test directory. */
void write_text(const char *name, const char *text);
/* root@127.0.0.1 with client key `client`, host key pinned from `hostpub`
 * (both names in the test directory). */
struct sshc_target target(const char *client, const char *hostpub);
/* A session as client, pinned to hostkey. */
struct sshc *connect_ok(void);
/* Asserts the two files hold the same bytes. */
void files_equal(const char *a, const char *b);

#endif
