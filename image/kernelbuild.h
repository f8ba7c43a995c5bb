/* xlab's lean kernel: Linux built once from Debian's linux-source package
 * with everything a nested dom0 and its guests need built in (no modules,
 * nothing else), cached in the image store by what went into it: the
 * source's digest, the configuration fragment and the compiler. Under TCG
 * it reaches its init in a fraction of the time Debian's kernel takes. */
#ifndef XLAB_KERNELBUILD_H
#define XLAB_KERNELBUILD_H

#include "err.h"
#include "sha256.h"

/* Where Debian's linux-source-6.12 package puts its tarball; the
 * environment's XLAB_LINUX_SOURCE names another. */
#define KERNEL_SOURCE_DEFAULT "/usr/src/linux-source-6.12.tar.xz"
#define KERNEL_SOURCE_PACKAGE "linux-source-6.12"

/* The end of the lean kernel's release (its fragment's CONFIG_LOCALVERSION):
 * how an image's manifest tells xlab's kernel from Debian's. */
#define KERNEL_RELEASE_SUFFIX "-xlab"

/* The source tarball to build from: $XLAB_LINUX_SOURCE or the default. */
const char *kernel_source(void);

/* The "CONFIG_KEY=VALUE" lines of a fragment (comments and blank lines
 * skipped), NULL-terminated (strv_free). A line that is neither is a
 * usage error naming the fragment's line. */
int kconfig_fragment(const char *text, const char *name, char ***settings, struct xerr *e);

/* What the kernel of fragment (text of the file named name) from source
 * would be cached as: checks the source is there and the fragment is well
 * formed, and hashes them with the toolchain. Cheap next to a build (the
 * source's sha256), so an up-to-date image is known before any compile. */
int kernelbuild_key(const char *source, const char *fragment, const char *name,
		    char key[SHA256_HEX_LEN + 1], struct xerr *e);

/* Builds (or finds) that kernel; *bzimage is its path in the cache and
 * *release its `make kernelrelease`. Progress goes to stderr, the build's
 * output to a log beside the cache entry. */
int kernelbuild(const char *source, const char *fragment, const char *name, char **bzimage,
		char **release, struct xerr *e);

#endif
