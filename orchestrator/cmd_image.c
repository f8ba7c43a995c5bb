/* `xlab image SUBCOMMAND`: the image store, one table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "image.h"

struct image_subcmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
	const char *usage;
	const char *summary;
};

static const struct image_subcmd subcmds[] = {
	{ "build", image_cmd_build, "xen-VERSION", "build a dom0 image from the Debian mirror" },
	{ "list", image_cmd_list, "[--json]", "images in the store" },
	{ "inspect", image_cmd_inspect, "NAME [--json]", "an image's manifest, verified" },
	{ "rm", image_cmd_rm, "NAME", "remove an image (refused while a lab uses it)" },
	{ "fetch", image_cmd_fetch, "URL --sha256 HEX [--name NAME] [--force]",
	  "download an image archive, check it, add it to the store" },
	{ "import", image_cmd_import, "DIR|ARCHIVE [--name NAME] [--force]",
	  "add a local image directory or archive to the store" },
	{ "export", image_cmd_export, "NAME FILE", "write an image as a tar.gz that `fetch` reads" },
};

static void image_help(FILE *f)
{
	fprintf(f, "usage: xlab image SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(f, "  %-8s %-42s %s\n", subcmds[i].name, subcmds[i].usage,
			subcmds[i].summary);
}

static bool is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

int cmd_image(int argc, char **argv, struct xerr *e)
{
	const struct image_subcmd *c = NULL;

	if (argc < 2) {
		image_help(stderr);
		return xerr_set(e, XLAB_EXIT_USAGE, "image: which subcommand?");
	}
	if (is_help(argv[1])) {
		image_help(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (strcmp(subcmds[i].name, argv[1]) == 0)
			c = &subcmds[i];
	if (!c)
		return xerr_set(e, XLAB_EXIT_USAGE,
				"image: unknown subcommand '%s' (see `xlab image --help`)", argv[1]);
	if (argc > 2 && is_help(argv[2]) && strcmp(argv[2], "help") != 0) {
		printf("usage: xlab image %s %s\n\n%s\n", c->name, c->usage, c->summary);
		return 0;
	}
	return c->fn(argc - 1, argv + 1, e);
}
