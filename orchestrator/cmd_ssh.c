/* xlab ssh LAB HOST [-- CMD...]: a shell or a command in a dom0, as root, with
 * the lab's key and the host key xlab pinned; the exit code passes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "hostconn.h"
#include "labstate.h"
#include "util.h"

int cmd_ssh(int argc, char **argv, struct xerr *e)
{
	struct labstate ls;
	const struct db_host *h;
	struct sshc *c = NULL;
	char **cmd = NULL;
	int status = 0, rc = -1;

	if (argc < 3)
		return cmd_usage_error(e, "ssh", "expected LAB and HOST");
	if (argc > 3) {
		if (strcmp(argv[3], "--") != 0)
			return cmd_usage_error(e, "ssh", "put the command after --");
		if (argc > 4)
			cmd = argv + 4;
	}
	if (labstate_load(argv[1], &ls, e) < 0)
		goto out;
	h = labstate_host(&ls, argv[2]);
	if (!h) {
		labstate_no_such(&ls, "host", argv[2], e);
		goto out;
	}
	if (lab_host_connect(&ls.dirs, h->name, h->ip, &c, e) < 0)
		goto out;
	if (sshc_exec_interactive(c, (const char *const *)cmd, &status, e) < 0)
		goto out;
	rc = 0;
out:
	sshc_free(c);
	labstate_free(&ls);
	if (rc == 0 && status != 0) {
		fflush(NULL);
		exit(status);
	}
	return rc;
}
