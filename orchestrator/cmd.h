/* Every `xlab` subcommand: one file orchestrator/cmd_<name>.c, one row in
 * the table in main.c. A handler returns 0, or -1 with e set. */
#ifndef XLAB_CMD_H
#define XLAB_CMD_H

#include <stdio.h>

#include "err.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
	const char *usage;   /* arguments after the name */
	const char *summary; /* one line for `xlab help` */
};

/* The table, NULL-terminated, for help and completion. */
extern const struct cmd xlab_commands[];

int cmd_help(int argc, char **argv, struct xerr *e);
int cmd_validate(int argc, char **argv, struct xerr *e);
int cmd_plan(int argc, char **argv, struct xerr *e);
int cmd_runs(int argc, char **argv, struct xerr *e);
int cmd_image(int argc, char **argv, struct xerr *e);
int cmd_up(int argc, char **argv, struct xerr *e);
int cmd_down(int argc, char **argv, struct xerr *e);
int cmd_status(int argc, char **argv, struct xerr *e);
int cmd_list(int argc, char **argv, struct xerr *e);
int cmd_ssh(int argc, char **argv, struct xerr *e);
int cmd_cp(int argc, char **argv, struct xerr *e);
int cmd_console(int argc, char **argv, struct xerr *e);
int cmd_vnc(int argc, char **argv, struct xerr *e);
int cmd_test(int argc, char **argv, struct xerr *e);
int cmd_report(int argc, char **argv, struct xerr *e);
int cmd_matrix(int argc, char **argv, struct xerr *e);
int cmd_class(int argc, char **argv, struct xerr *e);
int cmd_experiment(int argc, char **argv, struct xerr *e);
int cmd_guest(int argc, char **argv, struct xerr *e);
int cmd_storage(int argc, char **argv, struct xerr *e);

/* Prints "usage: xlab NAME USAGE" and the summary; for -h/--help. */
void cmd_usage(const char *name, FILE *f);
/* Bad usage: sets e (code 2) with the command's usage line appended. */
int cmd_usage_error(struct xerr *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
