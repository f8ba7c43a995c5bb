/* A Debian root to build Xen's tools in: mmdebstrap of the base image's
 * suite with the tools' build dependencies, kept in the image store
 * (.xen-builds/root-SUITE-HASH) so that tools built in it link the very
 * libraries, and that glibc, the dom0 of that suite has. Commands run in it
 * through unshare(1): their own mount and pid namespaces and /proc, so
 * nothing stays mounted when they end, however they end. */
#ifndef XLAB_BUILDROOT_H
#define XLAB_BUILDROOT_H

#include "err.h"
#include "sha256.h"

struct buildroot {
	char *dir;      /* store/.xen-builds/root-SUITE-HASH */
	char *suite;
	char hash[65];  /* of the suite, the package list and the recipe version */
	char *compiler; /* `gcc --version` inside it, first line */
	int lock_fd;    /* shared while in use: nobody rebuilds it under a build */
};

/* The packages a build root of Xen's tools carries (NULL-terminated). */
extern const char *const buildroot_packages[];

/* What a build root of suite is made of (suite, packages, how), as a
 * sha256: it names the root, and builds in it are keyed by it. */
void buildroot_id(const char *suite, char out[SHA256_HEX_LEN + 1]);
/* Finds or makes (mmdebstrap, logged to log_fd) the build root of suite in
 * cache (the store's .xen-builds); br is filled and holds its lock. */
int buildroot_get(const char *cache, const char *suite, int log_fd, struct buildroot *br,
		  struct xerr *e);
/* argv inside the root, in cwd (a path inside it), env added, output to
 * log_fd; an error names argv[0], not the launcher. */
int buildroot_run(const struct buildroot *br, const char *cwd, char *const argv[],
		  char *const env[], int log_fd, struct xerr *e);
void buildroot_release(struct buildroot *br);

/* The same in any Debian root (the dom0 tree being changed). */
int root_run(const char *dir, const char *cwd, char *const argv[], char *const env[],
	     int log_fd, struct xerr *e);
/* argv in root dir, stdout and stderr together into *out (allocated);
 * returns its exit status, or -1 when it could not be run. */
int root_capture(const char *dir, char *const argv[], char **out, struct xerr *e);

#endif
