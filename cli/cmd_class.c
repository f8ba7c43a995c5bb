/* xlab class up|sheet|reset|status|down: a teaching lab, N isolated copies
 * of one spec, one per student. The work is in class_run.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_run.h"
#include "cmd.h"
#include "stop.h"
#include "util.h"

static int class_cmd_up(int argc, char **argv, struct xerr *e);
static int class_cmd_sheet(int argc, char **argv, struct xerr *e);
static int class_cmd_reset(int argc, char **argv, struct xerr *e);
static int class_cmd_status(int argc, char **argv, struct xerr *e);
static int class_cmd_down(int argc, char **argv, struct xerr *e);
static int class_cmd_snapshot(int argc, char **argv, struct xerr *e);
static int class_cmd_revert(int argc, char **argv, struct xerr *e);

/* Usage, help and options of each are in the command table (cmdtable.c). */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct xerr *e);
} subcmds[] = {
	{ "up", class_cmd_up },       { "sheet", class_cmd_sheet }, { "reset", class_cmd_reset },
	{ "status", class_cmd_status }, { "down", class_cmd_down },
	{ "snapshot", class_cmd_snapshot }, { "revert", class_cmd_revert },
};

static int usage_error(struct xerr *e, const char *sub, const char *msg)
{
	_cleanup_free_ char *name = xasprintf("class %s", sub);

	return cmd_usage_error(e, name, "%s", msg);
}

enum {
	OPT_CONNECT = 1000,
	OPT_ACCEL,
	OPT_TIMEOUT,
	OPT_COPIES,
	OPT_STUDENTS,
	OPT_ONLY,
	OPT_OVERCOMMIT,
	OPT_FORMAT,
	OPT_JUMP,
	OPT_JSON,
	OPT_SERVERS,
};

static const struct option longopts[] = {
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "copies", required_argument, NULL, OPT_COPIES },
	{ "students", required_argument, NULL, OPT_STUDENTS },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "overcommit", no_argument, NULL, OPT_OVERCOMMIT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "jump", required_argument, NULL, OPT_JUMP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "servers", required_argument, NULL, OPT_SERVERS },
	{ NULL, 0, NULL, 0 },
};

struct parsed {
	struct class_opts o;
	const char *format, *jump;
	bool json;
	char **pos; /* positional arguments */
	int n_pos;
};

static int positive(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0 || v > 100000)
		return -1;
	*out = (int)v;
	return 0;
}

/* Every subcommand takes the options it understands; `allowed` lists them
 * (as OPT_ values) so a stray one is a usage error, not silently ignored. */
static int parse(int argc, char **argv, const char *sub, const int *allowed, struct parsed *p,
		 struct xerr *e)
{
	int c;

	*p = (struct parsed){ .o = { .boot_timeout_s = 600 } };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = false;

		for (const int *a = allowed; *a; a++)
			ok = ok || *a == c;
		if (!ok)
			return usage_error(e, sub, "unknown option");
		switch (c) {
		case OPT_CONNECT: p->o.connect = optarg; break;
		case OPT_ACCEL: p->o.accel = optarg; break;
		case OPT_TIMEOUT:
			if (positive(optarg, &p->o.boot_timeout_s) < 0)
				return usage_error(e, sub, "--timeout needs a positive number");
			break;
		case OPT_COPIES:
			if (positive(optarg, &p->o.copies) < 0)
				return usage_error(e, sub, "--copies needs a positive number");
			break;
		case OPT_STUDENTS: p->o.students = optarg; break;
		case OPT_ONLY: p->o.only = optarg; break;
		case OPT_OVERCOMMIT: p->o.overcommit = true; break;
		case OPT_FORMAT: p->format = optarg; break;
		case OPT_JUMP: p->jump = optarg; break;
		case OPT_JSON: p->json = true; break;
		case OPT_SERVERS: p->o.servers = optarg; break;
		}
	}
	p->pos = argv + optind;
	p->n_pos = argc - optind;
	return 0;
}

static int class_cmd_up(int argc, char **argv, struct xerr *e)
{
	static const int allowed[] = { OPT_CONNECT, OPT_ACCEL, OPT_TIMEOUT, OPT_COPIES,
				       OPT_STUDENTS, OPT_ONLY, OPT_OVERCOMMIT, OPT_SERVERS, 0 };
	struct parsed p;

	if (parse(argc, argv, "up", allowed, &p, e) < 0)
		return -1;
	if (p.n_pos != 1)
		return usage_error(e, "up", "expected one spec file");
	/* The copies' processes inherit it: a Ctrl-C stops each at its safe point. */
	stop_on_signals(STOP_AT_SAFE_POINT);
	return class_up(p.pos[0], &p.o, e);
}

static int class_cmd_sheet(int argc, char **argv, struct xerr *e)
{
	static const int allowed[] = { OPT_CONNECT, OPT_FORMAT, OPT_JUMP, 0 };
	enum sheet_format f = SHEET_MD;
	struct parsed p;

	if (parse(argc, argv, "sheet", allowed, &p, e) < 0)
		return -1;
	if (p.n_pos != 1)
		return usage_error(e, "sheet", "expected the class's lab name");
	if (p.format && sheet_format_parse(p.format, &f, e) < 0)
		return -1;
	if (p.jump && (!*p.jump || p.jump[0] == '-' || strpbrk(p.jump, " \t\n'\"\\")))
		return usage_error(e, "sheet", "--jump takes user@host");
	return class_sheet(p.pos[0], f, p.jump, &p.o, e);
}

static int class_cmd_reset(int argc, char **argv, struct xerr *e)
{
	static const int allowed[] = { OPT_CONNECT, OPT_ACCEL, OPT_TIMEOUT, 0 };
	struct parsed p;

	if (parse(argc, argv, "reset", allowed, &p, e) < 0)
		return -1;
	if (p.n_pos != 2)
		return usage_error(e, "reset", "expected the class's lab name and a copy");
	stop_on_signals(STOP_AT_SAFE_POINT);
	return class_reset(p.pos[0], p.pos[1], &p.o, e);
}

static int class_cmd_status(int argc, char **argv, struct xerr *e)
{
	static const int allowed[] = { OPT_CONNECT, OPT_JSON, 0 };
	struct parsed p;

	if (parse(argc, argv, "status", allowed, &p, e) < 0)
		return -1;
	if (p.n_pos > 1)
		return usage_error(e, "status", "expected at most one class");
	return class_status(p.n_pos ? p.pos[0] : NULL, p.json, &p.o, e);
}

static int class_cmd_down(int argc, char **argv, struct xerr *e)
{
	static const int allowed[] = { OPT_CONNECT, 0 };
	struct parsed p;

	if (parse(argc, argv, "down", allowed, &p, e) < 0)
		return -1;
	if (p.n_pos != 1)
		return usage_error(e, "down", "expected the class's lab name");
	/* As `xlab down`: a second Ctrl-C must not leave a copy half down. */
	stop_on_signals(STOP_NEVER);
	return class_down(p.pos[0], &p.o, e);
}

/* class snapshot|revert LAB NAME: every copy at once. */
static int class_cmd_each(int argc, char **argv, const char *sub,
			  int (*fn)(const char *, const char *, const struct class_opts *,
				    struct xerr *),
			  struct xerr *e)
{
	static const int allowed[] = { OPT_CONNECT, OPT_TIMEOUT, 0 };
	struct parsed p;

	if (parse(argc, argv, sub, allowed, &p, e) < 0)
		return -1;
	if (p.n_pos != 2)
		return usage_error(e, sub, "expected the class's lab name and a snapshot name");
	/* A copy cut halfway would be left paused. */
	stop_on_signals(STOP_NEVER);
	return fn(p.pos[0], p.pos[1], &p.o, e);
}

static int class_cmd_snapshot(int argc, char **argv, struct xerr *e)
{
	return class_cmd_each(argc, argv, "snapshot", class_snapshot, e);
}

static int class_cmd_revert(int argc, char **argv, struct xerr *e)
{
	return class_cmd_each(argc, argv, "revert", class_revert, e);
}

int cmd_class(int argc, char **argv, struct xerr *e)
{
	if (argc < 2) {
		cmd_usage("class", stderr);
		return xerr_set(e, XERR_USAGE, "class: which subcommand?");
	}
	for (size_t i = 0; i < ARRAY_SIZE(subcmds); i++)
		if (!strcmp(subcmds[i].name, argv[1]))
			return subcmds[i].fn(argc - 1, argv + 1, e);
	return cmd_usage_error(e, "class", "unknown subcommand '%s'", argv[1]);
}
