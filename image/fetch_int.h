/* What image/image_import.c and image_fetch.c share: the arguments both
 * take, and the one way an image enters the store. */
#ifndef XLAB_FETCH_INT_H
#define XLAB_FETCH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Bytes read and written at a time when copying or hashing. */
#define CHUNK (1 << 20)

struct src_opts {
	const char *src;  /* URL, directory or archive */
	const char *sha;  /* fetch only */
	const char *name; /* --name */
	bool force;
};

/* SOURCE [--sha256 HEX (want_sha)] [--name NAME] [--force], usage on error. */
int src_args_parse(int argc, char **argv, bool want_sha, struct src_opts *o,
		   const char *usage, struct xerr *e);
/* Unpacks (archive) or copies (is_dir) src into a hidden work directory,
 * checks it against its manifest (named want, or as it says), then renames
 * it into the store; force replaces an image of that name. */
int image_install_from(const char *src, bool is_dir, const char *want, bool force,
		       struct xerr *e);

#endif
