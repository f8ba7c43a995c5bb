/* `xlab image SUBCOMMAND`: the image store, one table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "image.h"
#include "stop.h"

/* A build stops cleanly at Ctrl-C or a kill, and takes mmdebstrap with it. */
static int image_build_entry(int argc, char **argv, struct xerr *e)
{
	stop_on_signals(STOP_AND_PASS_ON);
	return image_cmd_build(argc, argv, e);
}

/* Usage, help and options of each are in the command table (cmdtable.c). */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
} subcmds[] = {
	{ "build", image_build_entry },   { "list", image_cmd_list },
	{ "inspect", image_cmd_inspect }, { "rm", image_cmd_rm },
	{ "fetch", image_cmd_fetch },   { "import", image_cmd_import },
	{ "export", image_cmd_export },
};

int cmd_image(int argc, char **argv, struct xerr *e)
{
	if (argc < 2) {
		cmd_usage("image", stderr);
		return xerr_set(e, XERR_USAGE, "image: which subcommand?");
	}
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (strcmp(subcmds[i].name, argv[1]) == 0)
			return subcmds[i].fn(argc - 1, argv + 1, e);
	return cmd_usage_error(e, "image", "unknown subcommand '%s'", argv[1]);
}
