#include "server_sh.h"

#include <string.h>

#include "hostconn.h"
#include "spawn.h"
#include "util.h"

int server_sh_open(const char *name, const struct lab_via *via, struct server_sh *sh,
		   struct xerr *e)
{
	struct sshc_target t;

	sh->name = name;
	sh->c = NULL;
	if (!via || !via->addr)
		return 0;
	lab_via_target(via, &t);
	if (sshc_connect(&t, &sh->c, e) < 0)
		return xerr_prefix(e, "server '%s'", name);
	return 0;
}

/* The last non-empty line of a command's stderr, in place. */
static const char *last_line(char *text)
{
	char *end, *nl;

	if (!text)
		return "";
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	nl = strrchr(text, '\n');
	return nl ? nl + 1 : text;
}

int server_sh_run(struct server_sh *sh, const char *const *argv, int *status, struct xerr *e)
{
	_cleanup_free_ char *err = NULL;
	int st = -1, rc;

	if (sh->c) {
		rc = sshc_exec(sh->c, argv, NULL, &st, NULL, &err, e);
	} else {
		struct spawn_opts o = { .capture_stderr = true, .capture_stdout = true };
		struct spawn_result r = { 0 };

		rc = spawn_run((char *const *)argv, &o, &r, e);
		st = r.status;
		err = r.err;
		r.err = NULL;
		spawn_result_free(&r);
	}
	/* The ssh layer names the command already; spawn's error too. */
	if (rc < 0)
		return xerr_prefix(e, "server '%s'", sh->name);
	if (status) {
		*status = st;
		return 0;
	}
	if (st != 0) {
		struct buf cmd = { 0 };

		for (size_t i = 0; argv[i]; i++)
			buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
		rc = xerr_set(e, XERR_FAIL, "server '%s': `%s` exited with %d: %s", sh->name,
			      cmd.data, st, last_line(err));
		buf_free(&cmd);
		return rc;
	}
	return 0;
}

void server_sh_close(struct server_sh *sh)
{
	sshc_free(sh->c);
	sh->c = NULL;
}
