/* Every `xlab` subcommand: one file cli/cmd_<name>.c, one row in
 * the table in cmdtable.c. A handler returns 0, or -1 with e set.
 *
 * The table describes each command once: its arguments, its options with a
 * line of help each, its subcommands. main.c reads it to print help, to
 * refuse an option a command does not take (with the nearest one), and
 * `xlab completion bash` reads it to complete. A handler parses only what
 * reached it, so an option missing from the table cannot be used at all. */
#ifndef XLAB_CMD_H
#define XLAB_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

struct cmd_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* '-c' style alias, or 0 */
	const char *arg;  /* the value's name ("URI"), or NULL for a flag */
	const char *help; /* one line */
};

/* What a positional argument completes to, for shells. */
enum cmd_arg_kind {
	CMD_ARG_NONE = 0,
	CMD_ARG_LAB,       /* a lab of the store */
	CMD_ARG_FILE,      /* a spec or other file */
	CMD_ARG_LAB_FILE,  /* a lab name or a spec file */
	CMD_ARG_IMAGE,     /* an image of the store */
	CMD_ARG_COMMAND,   /* an xlab command (help) */
};

struct cmd_sub {
	const char *name;
	const char *usage;   /* arguments after "xlab CMD SUB" */
	const char *summary; /* one line */
	const struct cmd_opt *opts;
	enum cmd_arg_kind first_arg;
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
	const char *usage;   /* arguments after the name */
	const char *summary; /* one line for `xlab help` */
	const struct cmd_opt *opts;  /* NULL-name terminated, or NULL */
	const struct cmd_sub *subs;  /* NULL-name terminated, or NULL */
	enum cmd_arg_kind first_arg;
	/* The sub a first argument that names none means (`xlab snapshot LAB
	 * NAME` is `xlab snapshot create LAB NAME`), or NULL: refused. */
	const char *default_sub;
};

/* The table, NULL-terminated, for help and completion. */
extern const struct cmd xlab_commands[];
/* Options every command takes, before or after its name. */
extern const struct cmd_opt xlab_global_opts[];

const struct cmd *cmd_find(const char *name);
const struct cmd_sub *cmd_sub_find(const struct cmd *c, const char *name);
const struct cmd_opt *cmd_opt_find(const struct cmd_opt *opts, const char *name);
/* `xlab help` or one command's (SUB may be NULL) usage, options and
 * subcommands. */
void cmd_help_print(const struct cmd *c, const struct cmd_sub *sub, FILE *f);

int cmd_help(int argc, char **argv, struct xerr *e);
int cmd_completion(int argc, char **argv, struct xerr *e);
int cmd_validate(int argc, char **argv, struct xerr *e);
int cmd_plan(int argc, char **argv, struct xerr *e);
int cmd_runs(int argc, char **argv, struct xerr *e);
int cmd_image(int argc, char **argv, struct xerr *e);
int cmd_up(int argc, char **argv, struct xerr *e);
int cmd_down(int argc, char **argv, struct xerr *e);
int cmd_stop(int argc, char **argv, struct xerr *e);
int cmd_start(int argc, char **argv, struct xerr *e);
int cmd_snapshot(int argc, char **argv, struct xerr *e);
int cmd_revert(int argc, char **argv, struct xerr *e);
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
int cmd_graph(int argc, char **argv, struct xerr *e);
int cmd_server(int argc, char **argv, struct xerr *e);

/* The plan `xlab plan` prints for s (cmd_plan.c): this store's id, the
 * lab's directory in it, the spec's subnet or the pool's first pick. */
struct plan;
struct spec;
int cmd_plan_build(const struct spec *s, const char *accel, struct plan **out, struct xerr *e);

/* Prints the help of NAME ("guest" or "guest create"); for -h/--help. */
void cmd_usage(const char *name, FILE *f);
/* A command on one LAB|FILE [--connect URI] that must not be cut halfway
 * (down, stop): parses its arguments, ignores Ctrl-C from then on (the
 * process's choice, made here, at its entry), and runs fn on the lab. */
int cmd_lab_uncut(int argc, char **argv, const char *name,
		  int (*fn)(const char *lab, const char *connect, struct xerr *e), struct xerr *e);
/* Bad usage: sets e (kind usage) with the usage line of NAME ("up", or
 * "class up" for a subcommand) appended. */
int cmd_usage_error(struct xerr *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
