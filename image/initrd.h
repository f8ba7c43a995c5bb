/* Busybox trees as archives: initrds and the built-in guest rootfs. */
#ifndef XLAB_INITRD_H
#define XLAB_INITRD_H

#include <stddef.h>

#include "err.h"

/* What they are made from, all inside the image tree being built. */
struct initrd_src {
	const char *tree;     /* the root filesystem being made */
	const char *kver;     /* its kernel (lib/modules/KVER) */
	const char *busybox;  /* busybox-static, a path in the tree */
	char *const *applets; /* NULL-terminated: one bin/ symlink each */
};

/* A script the archive carries besides the skeleton (mode 0755). */
struct initrd_file {
	const char *name; /* "init", "sbin/init" */
	const char *text;
};

enum initrd_kind { INITRD_CPIO_GZ, INITRD_TAR };

/* Writes out: the busybox skeleton (directories, /dev/console, busybox and
 * its applets), the named modules with their dependencies in load order
 * (lib/modules/NAME.ko, lib/modules/order), and files. */
int initrd_write(const struct initrd_src *s, const char *out, enum initrd_kind kind,
		 const char *const *modules, size_t n_modules, const struct initrd_file *files,
		 size_t n_files, struct xerr *e);

#endif
