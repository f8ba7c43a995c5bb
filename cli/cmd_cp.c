/* xlab cp LAB SRC HOST:DST | xlab cp LAB HOST:SRC DST: files to and from a
 * dom0 over SFTP, with the lab's key and the pinned host key. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "hostconn.h"
#include "labstate.h"
#include "util.h"

/* "h1:/path" -> host "h1", path "/path"; a plain path has no host. */
static bool remote_split(const char *arg, char **host, const char **path)
{
	const char *colon = strchr(arg, ':');
	const char *slash = strchr(arg, '/');

	/* "./a:b" is a local file whose name has a colon, as in scp. */
	if (!colon || colon == arg || (slash && slash < colon))
		return false;
	*host = strndup(arg, (size_t)(colon - arg));
	*path = colon + 1;
	return true;
}

int cmd_cp(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *src_host = NULL, *dst_host = NULL;
	const char *src_path = argv[argc > 2 ? 2 : 0], *dst_path = argv[argc > 3 ? 3 : 0];
	bool src_remote, dst_remote;
	const struct db_host *h;
	struct labstate ls;
	struct sshc *c = NULL;
	struct stat st;
	int rc = -1;

	if (argc != 4)
		return cmd_usage_error(e, "cp", "expected LAB, a source and a destination");
	src_remote = remote_split(argv[2], &src_host, &src_path);
	dst_remote = remote_split(argv[3], &dst_host, &dst_path);
	if (src_remote == dst_remote)
		return cmd_usage_error(e, "cp", "exactly one of source and destination is HOST:PATH");
	if (!*(src_remote ? src_path : dst_path))
		return cmd_usage_error(e, "cp", "the remote side needs a path after HOST:");
	if (labstate_load(argv[1], &ls, e) < 0)
		goto out;
	h = labstate_host(&ls, src_remote ? src_host : dst_host);
	if (!h) {
		labstate_no_such(&ls, "host", src_remote ? src_host : dst_host, e);
		goto out;
	}
	if (lab_host_connect(&ls.dirs, h->name, h->ip, &c, e) < 0)
		goto out;
	if (dst_remote) {
		if (stat(src_path, &st) < 0) {
			xerr_errno(e, XERR_IO, "cannot read %s", src_path);
			goto out;
		}
		rc = sshc_put(c, src_path, dst_path, (int)(st.st_mode & 0777), e);
	} else {
		rc = sshc_get(c, src_path, dst_path, e);
	}
	if (rc < 0)
		xerr_prefix(e, "%s", h->name);
out:
	sshc_free(c);
	labstate_free(&ls);
	return rc;
}
