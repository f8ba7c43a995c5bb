/* Which Xen a --xen-source is, read before anything is built: the kind of
 * derive (hypervisor only, or the tools too) depends on it, and a source
 * that is no xen.git tree must change nothing in the store. */
#include "xenbuild.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define MAKEFILE_MAX (1u << 20)

/* "xen/Makefile" at the top of the archive, or under its one top directory
 * (what `git archive --prefix` and release tarballs have). */
static bool is_top_makefile(const char *path)
{
	const char *slash;

	if (!strncmp(path, "./", 2))
		path += 2;
	if (!strcmp(path, "xen/Makefile"))
		return true;
	slash = strchr(path, '/');
	return slash && slash != path && !strcmp(slash + 1, "xen/Makefile");
}

static int tarball_makefile(const char *src, char **text, struct xerr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int rc = -1, r;

	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_filename(a, src, 1 << 16) != ARCHIVE_OK) {
		xerr_set(e, XERR_USAGE, "--xen-source %s: not a tarball: %s", src,
			 archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		la_int64_t size = archive_entry_size(ent);
		la_ssize_t got;

		if (!is_top_makefile(archive_entry_pathname(ent)))
			continue;
		if (archive_entry_filetype(ent) != AE_IFREG || size < 0 || size > MAKEFILE_MAX) {
			xerr_set(e, XERR_USAGE, "--xen-source %s: its xen/Makefile is not a file",
				 src);
			goto out;
		}
		*text = xcalloc(1, (size_t)size + 1);
		got = archive_read_data(a, *text, (size_t)size);
		if (got != size) {
			xerr_set(e, XERR_USAGE, "--xen-source %s: cannot read its xen/Makefile: %s",
				 src, archive_error_string(a));
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (r == ARCHIVE_EOF)
		xerr_set(e, XERR_USAGE,
			 "--xen-source %s holds no xen.git tree (no xen/Makefile at its top)", src);
	else
		xerr_set(e, XERR_USAGE, "--xen-source %s: cannot read it: %s", src,
			 archive_error_string(a));
out:
	archive_read_free(a);
	return rc;
}

int xen_source_version(const char *src, char *out, size_t n, struct xerr *e)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len;

	if (stat(src, &st) < 0)
		return xerr_errno(e, XERR_USAGE, "--xen-source %s", src);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *mk = xasprintf("%s/xen/Makefile", src);

		if (!path_exists(mk))
			return xerr_set(e, XERR_USAGE,
					"--xen-source %s is neither a xen.git tree (no xen/Makefile) "
					"nor a tarball of one", src);
		if (file_read_all(mk, MAKEFILE_MAX, &text, &len, e) < 0)
			return -1;
	} else if (tarball_makefile(src, &text, e) < 0) {
		return -1;
	}
	if (xen_makefile_version(text, out, n, e) < 0)
		return xerr_prefix(e, "--xen-source %s: its version is unreadable", src);
	return 0;
}
