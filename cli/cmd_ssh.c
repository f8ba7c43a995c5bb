/* xlab ssh LAB HOST|GUEST [-- CMD...]: a shell or a command in a dom0 or in a
 * guest with an SSH server (rootfs: debian), as root, with the lab's key and
 * the host key xlab pinned; the exit code passes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "guest_agent.h"
#include "hostconn.h"
#include "labstate.h"
#include "util.h"

/* A guest answers on its lab address with the key its agent made. */
static int guest_connect(const struct labstate *ls, const struct db_guest *g, struct sshc **c,
			 struct xerr *e)
{
	_cleanup_free_ char *pub = guest_host_key_path(&ls->dirs, g->name);

	if (!path_exists(pub))
		return xerr_set(e, XERR_FAIL,
				"guest '%s' has no SSH server xlab made a key for (a rootfs: debian "
				"guest has one); use `xlab guest console %s %s`",
				g->name, ls->lab, g->name);
	if (!g->ip || !*g->ip)
		return xerr_set(e, XERR_FAIL, "guest '%s' has no address", g->name);
	return lab_connect(&ls->dirs, "guest", g->name, g->ip, pub, c, e);
}

int cmd_ssh(int argc, char **argv, struct xerr *e)
{
	struct labstate ls;
	const struct db_host *h;
	const struct db_guest *g;
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
	g = h ? NULL : labstate_guest(&ls, argv[2]);
	if (!h && !g) {
		labstate_no_such(&ls, "host or guest", argv[2], e);
		goto out;
	}
	if (h ? lab_host_connect(&ls.dirs, h->name, h->ip, &c, e) < 0
	      : guest_connect(&ls, g, &c, e) < 0)
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
