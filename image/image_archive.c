/* Unpacking an image archive without trusting it. libarchive's disk writer
 * follows the archive's own idea of what an entry is (a "regular file" can
 * carry a hard-link target, which it then links and writes through), so
 * entries are written here by hand: every path component is opened relative
 * to the staging directory with O_NOFOLLOW, files are created with O_EXCL,
 * and no link of any kind is ever made. */
#include "image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util.h"

#define CHUNK (1 << 20)
/* An image is a manifest and a handful of files; more entries than this is
 * not an image, whatever else it is. */
#define MAX_ENTRIES 4096
#define MAX_NAME 1024

/* The name as it may be shown: control characters (a terminal escape in a
 * hostile name) become '?'. */
static char *shown(const char *s)
{
	char *out = xstrndup(s, 200);

	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static int refuse(struct xerr *e, const char *label, const char *name, const char *why)
{
	_cleanup_free_ char *n = shown(name ? name : "");

	return xerr_set(e, XERR_FAIL, "%s: entry '%s' %s; the store is unchanged", label, n,
			why);
}

/* A relative name of non-empty components, none "." or "..", no control
 * characters. Leading "./" and one trailing '/' (directories) are dropped. */
static const char *name_clean(const char *name, char out[MAX_NAME + 1])
{
	size_t n;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	n = strlen(name);
	if (n > MAX_NAME)
		return NULL;
	memcpy(out, name, n + 1);
	if (n && out[n - 1] == '/')
		out[--n] = '\0';
	if (n == 0 || out[0] == '/')
		return n == 0 ? out : NULL;
	for (const char *s = out; *s;) {
		const char *end = strchrnul(s, '/');
		size_t len = (size_t)(end - s);

		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return NULL;
		for (const char *p = s; p < end; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return NULL;
		s = *end ? end + 1 : end;
	}
	return out;
}

/* Opens (creating) each directory of `path` up to its last component, never
 * through a symlink; *leaf points at that last component of `path`. */
static int parent_open(int root, char *path, char **leaf, bool create_leaf_dir)
{
	int fd = dup(root);
	char *s = path;

	for (;;) {
		char *slash = strchr(s, '/');
		int next;

		if (!slash && !create_leaf_dir)
			break;
		if (slash)
			*slash = '\0';
		if (mkdirat(fd, s, 0755) < 0 && errno != EEXIST) {
			close(fd);
			return -1;
		}
		next = openat(fd, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	*leaf = s;
	return fd;
}

static uint64_t space_free(int dirfd)
{
	struct statvfs sv;

	if (fstatvfs(dirfd, &sv) < 0)
		return UINT64_MAX; /* unknown: the writes will tell */
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static int write_fail(struct xerr *e, const char *label, const char *name)
{
	_cleanup_free_ char *n = shown(name);

	if (errno == ENOSPC || errno == EDQUOT)
		return xerr_set(e, XERR_FAIL,
				"disk full while unpacking %s (entry '%s'): free some space and run "
				"the command again", label, n);
	return xerr_errno(e, XERR_IO, "unpacking %s: cannot write '%s'", label, n);
}

/* The data of one entry, in order: a block at any other offset is a hole
 * (a sparse member), which the header did not own up to. */
static int copy_data(struct archive *in, int fd, int64_t size, const char *label,
		     const char *name, struct xerr *e)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int64_t done = 0;
	int r;

	while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK) {
		if (off != done || (int64_t)len > size - done)
			return refuse(e, label, name, "has holes or more data than its header says");
		if (fd_write_all(fd, buf, len) < 0)
			return write_fail(e, label, name);
		done += (int64_t)len;
	}
	if (r != ARCHIVE_EOF)
		return xerr_set(e, XERR_FAIL, "%s is not a valid image archive: %s", label,
				archive_error_string(in));
	if (done != size)
		return refuse(e, label, name, "has less data than its header says");
	return 0;
}

/* What kind of entry this is, judged by everything the header carries, not
 * by its type field alone. NULL when it may be unpacked. */
static const char *entry_refusal(struct archive_entry *ent)
{
	mode_t type = archive_entry_filetype(ent);

	if (archive_entry_hardlink(ent))
		return "is a hard link (an image holds plain files only)";
	if (archive_entry_symlink(ent) || type == AE_IFLNK)
		return "is a symbolic link (an image holds plain files only)";
	if (type != AE_IFREG && type != AE_IFDIR)
		return "is not a plain file or directory (devices, FIFOs and sockets have no "
		       "place in an image)";
	if (archive_entry_sparse_count(ent) > 0)
		return "is a sparse member (re-create the archive without --sparse)";
	if (type == AE_IFREG && (!archive_entry_size_is_set(ent) || archive_entry_size(ent) < 0))
		return "has no size";
	return NULL;
}

static int unpack_file(struct archive *in, int dirfd, char *name, int64_t size,
		       uint64_t *budget, const char *label, struct xerr *e)
{
	_cleanup_free_ char *full = xstrdup(name);
	_cleanup_close_ int parent = -1, fd = -1;
	char *leaf;
	uint64_t avail = space_free(dirfd);

	if ((uint64_t)size > *budget)
		return refuse(e, label, full, "is larger than an image archive may unpack to");
	if ((uint64_t)size > avail) {
		_cleanup_free_ char *n = shown(full);

		return xerr_set(e, XERR_FAIL,
				"disk full while unpacking %s: entry '%s' is %" PRId64 " bytes and "
				"the store has %" PRIu64 " free: free some space and run the command "
				"again", label, n, size, avail);
	}
	*budget -= (uint64_t)size;
	parent = parent_open(dirfd, name, &leaf, false);
	if (parent < 0)
		return refuse(e, label, full, "goes through something that is not a directory");
	fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return refuse(e, label, full, "appears twice");
	if (fd < 0)
		return write_fail(e, label, full);
	return copy_data(in, fd, size, label, full, e);
}

static int unpack_entry(struct archive *in, struct archive_entry *ent, int dirfd,
			uint64_t *budget, const char *label, struct xerr *e)
{
	const char *raw = archive_entry_pathname(ent);
	const char *why = entry_refusal(ent);
	char clean[MAX_NAME + 1];
	char *name, *leaf;
	int fd;

	if (!raw)
		return refuse(e, label, "", "has no name");
	name = (char *)name_clean(raw, clean);
	if (!name)
		return refuse(e, label, raw, "points outside the image");
	if (why)
		return refuse(e, label, raw, why);
	if (!*name)
		return 0; /* "./" itself */
	if (archive_entry_filetype(ent) == AE_IFREG)
		return unpack_file(in, dirfd, name, archive_entry_size(ent), budget, label, e);
	fd = parent_open(dirfd, name, &leaf, true);
	if (fd < 0)
		return refuse(e, label, raw, "goes through something that is not a directory");
	close(fd);
	return 0;
}

int image_archive_unpack(struct archive *in, const char *label, int dirfd, uint64_t max_bytes,
			 struct xerr *e)
{
	struct archive_entry *ent;
	uint64_t budget = max_bytes ? max_bytes : UINT64_MAX;
	int n = 0, r;

	while ((r = archive_read_next_header(in, &ent)) == ARCHIVE_OK) {
		if (++n > MAX_ENTRIES)
			return xerr_set(e, XERR_FAIL,
					"%s has more than %d entries: not an image archive", label,
					MAX_ENTRIES);
		if (unpack_entry(in, ent, dirfd, &budget, label, e) < 0)
			return -1;
	}
	if (r != ARCHIVE_EOF)
		return xerr_set(e, XERR_FAIL, "%s is not a valid image archive (tar or tar.gz): %s",
				label, archive_error_string(in));
	return 0;
}

int image_archive_unpack_file(const char *path, const char *dir, struct xerr *e)
{
	struct archive *in = archive_read_new();
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (dirfd < 0) {
		archive_read_free(in);
		return xerr_errno(e, XERR_IO, "cannot open %s", dir);
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	if (archive_read_open_filename(in, path, CHUNK) != ARCHIVE_OK)
		rc = xerr_set(e, XERR_FAIL,
			      "cannot open %s as an image archive (tar or tar.gz): %s", path,
			      archive_error_string(in));
	else
		rc = image_archive_unpack(in, path, dirfd, 0, e);
	archive_read_free(in);
	return rc;
}
