/* Reading an image archive (tar, tar.gz) that nobody vouches for yet. */
#ifndef XLAB_IMAGE_ARCHIVE_H
#define XLAB_IMAGE_ARCHIVE_H

#include <stdint.h>

#include "err.h"

struct archive;

/* Unpacks every entry of `in` (opened by the caller, positioned at its first
 * header) below the directory `dirfd`, which should be fresh and empty.
 * Only plain files and directories with relative names are accepted: links
 * (hard or symbolic, whatever their type field says), devices, FIFOs, sparse
 * members and names with "..", "." or a leading '/' are refused, and nothing
 * is ever opened through a link, so no entry can write outside `dirfd`.
 * An entry larger than the free space below `dirfd`, or than what is left of
 * `max_bytes` (0: no limit but the free space), is refused before any of its
 * data is written. `label` names the archive in errors. */
int image_archive_unpack(struct archive *in, const char *label, int dirfd, uint64_t max_bytes,
			 struct xerr *e);
/* The same for the file `path`, into the directory `dir`. */
int image_archive_unpack_file(const char *path, const char *dir, struct xerr *e);

#endif
