/* xlab vnc LAB HOST: where a host's VNC display listens (127.0.0.1 only),
 * and a viewer started on it when one is installed and we have a display. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "labstate.h"
#include "spawn.h"
#include "util.h"
#include "virt.h"

int cmd_vnc(int argc, char **argv, struct xerr *e)
{
	struct labstate ls;
	struct virt *v = NULL;
	struct virt_dom_info info;
	_cleanup_free_ char *dom = NULL, *addr = NULL;
	int rc = -1;

	if (argc != 3)
		return cmd_usage_error(e, "vnc", "expected LAB and HOST");
	if (labstate_load(argv[1], &ls, e) < 0)
		goto out;
	if (!labstate_host(&ls, argv[2])) {
		labstate_no_such(&ls, "host", argv[2], e);
		goto out;
	}
	dom = xasprintf("xlab-%s-%s", argv[1], argv[2]);
	if (virt_open(virt_default_uri(NULL, NULL), &v, e) < 0 ||
	    virt_domain_info(v, dom, &info, e) < 0)
		goto out;
	if (!info.running || info.vnc_port <= 0) {
		xerr_set(e, XLAB_EXIT_FAIL, "host '%s' is not running; `xlab up` starts it", argv[2]);
		goto out;
	}
	addr = xasprintf("127.0.0.1:%d", info.vnc_port);
	printf("%s (display :%d); from another machine: ssh -L %d:%s THIS-MACHINE\n", addr,
	       info.vnc_port - 5900, info.vnc_port, addr);
	if (getenv("DISPLAY") && isatty(STDOUT_FILENO)) {
		char *viewer[] = { "vncviewer", addr, NULL };
		struct spawn_result res = { 0 };
		struct xerr ignore = { 0 };

		/* A viewer is a convenience: its absence is not an error. */
		spawn_run(viewer, NULL, &res, &ignore);
		spawn_result_free(&res);
	}
	rc = 0;
out:
	if (v)
		virt_close(v);
	labstate_free(&ls);
	return rc;
}
