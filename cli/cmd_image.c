/* `xlab image SUBCOMMAND`: the image store, one table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "image.h"
#include "server_images.h"
#include "stop.h"
#include "util.h"

/* A build stops cleanly at Ctrl-C or a kill, and takes mmdebstrap with it. */
static int image_build_entry(int argc, char **argv, struct xerr *e)
{
	stop_on_signals(STOP_AND_PASS_ON);
	return image_cmd_build(argc, argv, e);
}

/* xlab image push IMAGE SERVER: engine/server_images.c. */
static int image_push_entry(int argc, char **argv, struct xerr *e)
{
	struct push_report r;
	char sz[32];

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cmd_usage_error(e, "image push", "expected an image and a server");
	stop_on_signals(STOP_AT_SAFE_POINT);
	fprintf(stderr, "pushing image %s to server %s\n", argv[1], argv[2]);
	if (server_image_push(argv[2], argv[1], &r, e) < 0)
		return -1;
	if (r.pool_created)
		printf("made storage pool '%s' on server %s (%s)\n", SERVER_POOL, argv[2],
		       SERVER_POOL_DIR);
	if (r.up_to_date) {
		printf("image %s is on server %s already (%zu files, verified when pushed)\n",
		       argv[1], argv[2], r.files);
		return 0;
	}
	size_human((double)r.bytes, sz, sizeof(sz));
	printf("image %s is on server %s: %zu of its %zu files and its manifest sent (%s in "
	       "%.1f s), each read back and checked\n",
	       argv[1], argv[2], r.files_sent, r.files, sz, r.seconds);
	return 0;
}

/* xlab image rm NAME [--server SERVER]: the store's image, or a server's
 * copy of it (engine/server_images.c). */
static int image_rm_entry(int argc, char **argv, struct xerr *e)
{
	const char *server = NULL, *name = NULL;
	unsigned long long freed = 0;
	char sz[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc && !server)
			server = argv[++i];
		else if (!strncmp(argv[i], "--server=", 9) && !server)
			server = argv[i] + 9;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else if (server || strncmp(argv[i], "--server", 8) == 0)
			return cmd_usage_error(e, "image rm", "expected an image and --server NAME");
	}
	if (!server)
		return image_cmd_rm(argc, argv, e);
	if (!name || !*server)
		return cmd_usage_error(e, "image rm", "expected an image and --server NAME");
	if (server_image_rm(server, name, &freed, e) < 0)
		return -1;
	size_human((double)freed, sz, sizeof(sz));
	printf("image %s is off server %s: its manifest and the files no other image there "
	       "lists removed (%s)\n",
	       name, server, sz);
	return 0;
}

/* Usage, help and options of each are in the command table (cmdtable.c). */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
} subcmds[] = {
	{ "build", image_build_entry },   { "list", image_cmd_list },
	{ "inspect", image_cmd_inspect }, { "rm", image_rm_entry },
	{ "fetch", image_cmd_fetch },   { "import", image_cmd_import },
	{ "export", image_cmd_export }, { "push", image_push_entry },
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
