/* xlab: test-lab orchestrator for nested Xen clusters. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "layout.h"
#include "util.h"
#include "version.h"

const struct cmd xlab_commands[] = {
	{ "help", cmd_help, "[COMMAND]", "show commands, or one command's usage" },
	{ "validate", cmd_validate, "FILE...", "check lab specs; every error as FILE:LINE:COL" },
	{ "plan", cmd_plan, "FILE [--accel kvm|qemu]", "print what `up` would make: XML, LVM steps, xl configs" },
	{ "runs", cmd_runs, "[LAB] [--json] [--limit N]", "list recorded runs" },
	{ "image", cmd_image, "build|list|inspect|rm|fetch|import|export ...",
	  "dom0 images per Xen version: build from Debian, fetch, store" },
	{ "up", cmd_up, "FILE [--accel kvm|qemu] [--recreate] [--no-guests] [--no-tests] [--experiments]",
	  "bring a lab up: hosts, agent, guests, tests" },
	{ "down", cmd_down, "LAB|FILE", "remove every domain, network and file of a lab" },
	{ "status", cmd_status, "[LAB] [--json]", "labs and their hosts" },
	{ "list", cmd_list, "LAB [--json]", "every domain of a lab, as `xl list` shows them" },
	{ "ssh", cmd_ssh, "LAB HOST|GUEST [-- CMD...]",
	  "a shell or a command in a dom0 or an SSH-serving guest" },
	{ "cp", cmd_cp, "LAB SRC HOST:DST | LAB HOST:SRC DST", "copy a file to or from a dom0 (SFTP)" },
	{ "console", cmd_console, "LAB NAME [--log]", "a host's serial or a guest's console" },
	{ "vnc", cmd_vnc, "LAB HOST | [--port N] [--once] LAB GUEST",
	  "a host's VNC address, or a tunnel to a vnc: true guest's display" },
	{ "test", cmd_test, "LAB|FILE", "run the spec's tests again" },
	{ "report", cmd_report,
	  "RUN|--last LAB|--matrix ID [--junit FILE] [--json] | RUN|--last LAB --plot DIR | "
	  "--compare RUN1 RUN2 [--json|--plot DIR]",
	  "a run's steps and test results; JUnit XML for CI; migration runs compared, plotted" },
	{ "matrix", cmd_matrix,
	  "FILE [--xen 4.17,4.20] [--jobs N] [--keep] [--json] [--junit FILE] | --compare ID1 ID2",
	  "run a lab's tests on several Xen versions: one copy per version, one table" },
	{ "experiment", cmd_experiment, "LAB [NAME] [--rounds N]",
	  "live-migration experiments: rounds of xl migrate, wall time and downtime" },
	{ "class", cmd_class, "up|sheet|reset|status|down ...",
	  "teaching labs: N isolated copies of a lab, an access sheet, reset, one down" },
	{ "guest", cmd_guest,
	  "create LAB NAME --host HOST [--from-xl FILE] [KEY=VALUE...] [-c] [--dry-run] | rm LAB NAME | list LAB [--json] | console LAB NAME [-c]",
	  "guests made by hand in a running lab, like xl create" },
	{ "storage", cmd_storage,
	  "LAB HOST [--json] | LAB HOST add-disk SIZE | LAB HOST remove-disk SERIAL | LAB HOST resize GUEST SIZE",
	  "a running host's PVs, VGs and LVs; add or remove a disk, grow a guest's volume" },
	/* xlab-commands-end: new rows go above this line */
	{ NULL, NULL, NULL, NULL },
};

static const struct cmd *cmd_find(const char *name)
{
	for (const struct cmd *c = xlab_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void cmd_usage(const char *name, FILE *f)
{
	const struct cmd *c = cmd_find(name);

	if (!c)
		return;
	fprintf(f, "usage: xlab %s %s\n\n%s\n", c->name, c->usage, c->summary);
}

int cmd_usage_error(struct xerr *e, const char *name, const char *fmt, ...)
{
	const struct cmd *c = cmd_find(name);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xerr_set(e, XLAB_EXIT_USAGE, "%s\nusage: xlab %s %s", msg, name,
			c ? c->usage : "");
}

static void print_commands(FILE *f)
{
	fprintf(f, "usage: xlab COMMAND [ARGS...]\n       xlab --version\n       xlab version --paths\n\ncommands:\n");
	for (const struct cmd *c = xlab_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n`xlab help COMMAND` or `xlab COMMAND --help` for one command.\n"
		   "Exit codes: 0 ok, 1 operation failed, 2 bad usage or invalid spec.\n");
}

int cmd_help(int argc, char **argv, struct xerr *e)
{
	if (argc < 2) {
		print_commands(stdout);
		return 0;
	}
	if (!cmd_find(argv[1]))
		return cmd_usage_error(e, "help", "unknown command '%s'", argv[1]);
	cmd_usage(argv[1], stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct xerr e = { 0 };
	const struct cmd *c;

	if (argc < 2) {
		print_commands(stderr);
		return XLAB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		if (argc > 2 && strcmp(argv[2], "--paths") == 0)
			layout_print(stdout);
		else
			printf("xlab %s\n", XLAB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv, &e);
	c = cmd_find(argv[1]);
	if (!c) {
		fprintf(stderr, "xlab: unknown command '%s' (see `xlab help`)\n", argv[1]);
		return XLAB_EXIT_USAGE;
	}
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		cmd_usage(c->name, stdout);
		return 0;
	}
	if (c->fn(argc - 1, argv + 1, &e) < 0) {
		xerr_print(&e, "xlab");
		return e.code ? e.code : XLAB_EXIT_FAIL;
	}
	return 0;
}
