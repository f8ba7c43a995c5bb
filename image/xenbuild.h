/* A Xen hypervisor built from source (`image build --xen-source`), cached
 * in the image store by what went into it: the source's digest, the
 * Kconfig settings and the compiler. An unchanged rebuild is a lookup. */
#ifndef XLAB_XENBUILD_H
#define XLAB_XENBUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "sha256.h"

struct xenbuild_opts {
	const char *source;           /* a xen.git tree or a tarball of one */
	const char *const *kconfig;   /* "KEY=VALUE" (KEY without CONFIG_), NULL-terminated */
	const char *tools_version;    /* the base's Xen: the source must share major.minor */
	bool force;                   /* build a version that does not fit anyway */
};

/* Builds (or finds) the hypervisor; *xen_gz is its path in the cache, with
 * include/xen/compile.h and .config beside it as in a build tree. */
int xenbuild(const struct xenbuild_opts *o, char **xen_gz, struct xerr *e);

/* "KEY=VALUE" as a Kconfig line: "CONFIG_KEY=VALUE", or "# CONFIG_KEY is
 * not set" for n. -1 (usage) for a malformed setting. */
int kconfig_line(const char *setting, char *out, size_t n, struct xerr *e);
/* Sets each setting in .config text (replacing what it had), allocated. */
char *kconfig_apply(const char *config, const char *const *settings);
/* NULL when every setting holds in config, else the first that does not. */
const char *kconfig_unmet(const char *config, const char *const *settings);
/* XEN_VERSION.XEN_SUBVERSION from a source tree's xen/Makefile text. */
int xen_makefile_version(const char *text, char *out, size_t n, struct xerr *e);
/* The same, of a --xen-source (a tree or a tarball of one), read without
 * unpacking it (xensource.c); a usage error when it is no xen.git tree. */
int xen_source_version(const char *src, char *out, size_t n, struct xerr *e);
/* What a source is, cheaply: a tarball's sha256, or of a tree's paths,
 * sizes and mtimes (any edit changes it). out holds 65 bytes. */
int xen_source_digest(const char *src, char out[SHA256_HEX_LEN + 1], struct xerr *e);

#endif
