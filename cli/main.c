/* xlab: test-lab orchestrator for nested Xen clusters.
 *
 * main() reads the command table (cmdtable.c) before any handler runs:
 * options before the command, `--help`/`help` at any level, and every
 * option a command does not take, refused with the nearest one. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "lab.h"
#include "layout.h"
#include "stop.h"
#include "util.h"
#include "version.h"
#include "virt.h"

const struct cmd *cmd_find(const char *name)
{
	for (const struct cmd *c = xlab_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct cmd_sub *cmd_sub_find(const struct cmd *c, const char *name)
{
	for (const struct cmd_sub *s = c->subs; s && s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

const struct cmd_opt *cmd_opt_find(const struct cmd_opt *opts, const char *name)
{
	for (const struct cmd_opt *o = opts; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static const struct cmd_opt *opt_find_short(const struct cmd_opt *opts, char ch)
{
	for (const struct cmd_opt *o = opts; o && o->name; o++)
		if (o->short_name && o->short_name == ch)
			return o;
	return NULL;
}

static void opts_print(const struct cmd_opt *opts, FILE *f)
{
	for (const struct cmd_opt *o = opts; o && o->name; o++) {
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", lhs, o->help);
	}
	fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

static void commands_print(FILE *f)
{
	fprintf(f, "usage: xlab [--connect URI] COMMAND [ARGS...]\n       xlab --version\n"
		   "       xlab version --paths\n\n"
		   "commands:\n");
	for (const struct cmd *c = xlab_commands; c->name; c++)
		fprintf(f, "  %-11s %s\n", c->name, c->summary);
	fprintf(f, "\noptions before the command:\n");
	opts_print(xlab_global_opts, f);
	fprintf(f, "\n`xlab help COMMAND` or `xlab COMMAND --help` for one command.\n"
		   "Exit codes: 0 ok, 1 operation failed, 2 bad usage or invalid spec.\n");
}

void cmd_help_print(const struct cmd *c, const struct cmd_sub *sub, FILE *f)
{
	if (!c) {
		commands_print(f);
		return;
	}
	if (sub) {
		fprintf(f, "usage: xlab %s %s [OPTIONS] %s\n\n%s\n\noptions:\n", c->name, sub->name,
			sub->usage, sub->summary);
		opts_print(sub->opts, f);
		return;
	}
	fprintf(f, "usage: xlab %s%s %s\n\n%s\n", c->name, c->subs ? "" : " [OPTIONS]", c->usage,
		c->summary);
	if (c->subs) {
		fprintf(f, "\nsubcommands:\n");
		for (const struct cmd_sub *s = c->subs; s->name; s++)
			fprintf(f, "  %-8s %s\n           %s\n", s->name, *s->usage ? s->usage : "(no arguments)",
				s->summary);
		fprintf(f, "\n`xlab %s SUBCOMMAND --help` or `xlab %s help SUBCOMMAND` for its "
			   "options.\n", c->name, c->name);
		return;
	}
	fprintf(f, "\noptions:\n");
	opts_print(c->opts, f);
}

/* "guest create" -> the command and its subcommand. */
static const struct cmd *cmd_resolve(const char *name, const struct cmd_sub **sub)
{
	char head[64];
	const char *space = strchr(name, ' ');
	const struct cmd *c;

	snprintf(head, sizeof(head), "%.*s", space ? (int)(space - name) : (int)strlen(name),
		 name);
	c = cmd_find(head);
	*sub = c && space ? cmd_sub_find(c, space + 1) : NULL;
	return c;
}

void cmd_usage(const char *name, FILE *f)
{
	const struct cmd_sub *sub;
	const struct cmd *c = cmd_resolve(name, &sub);

	if (c)
		cmd_help_print(c, sub, f);
}

static int cmd_lab_args(int argc, char **argv, const char *name, char **lab,
			const char **connect, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*connect = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'c')
			return cmd_usage_error(e, name, "unknown option");
		*connect = optarg;
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, name, "expected one lab name or spec file");
	return lab_name_from_arg(argv[optind], lab, e);
}

int cmd_lab_uncut(int argc, char **argv, const char *name,
		  int (*fn)(const char *lab, const char *connect, struct xerr *e), struct xerr *e)
{
	_cleanup_free_ char *lab = NULL;
	const char *connect;

	if (cmd_lab_args(argc, argv, name, &lab, &connect, e) < 0)
		return -1;
	stop_on_signals(STOP_NEVER);
	return fn(lab, connect, e);
}

int cmd_usage_error(struct xerr *e, const char *name, const char *fmt, ...)
{
	const struct cmd_sub *sub;
	const struct cmd *c = cmd_resolve(name, &sub);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xerr_set(e, XERR_USAGE, "%s\nusage: xlab %s%s %s\n(`xlab %s --help` for more)",
			msg, name, c && (sub || !c->subs) ? " [OPTIONS]" : "",
			sub ? sub->usage : c ? c->usage : "", name);
}

/* "; did you mean 'x'?" or "", for the message of an unknown word. */
static const char *nearest_hint(char out[160], const char *word, const char *const *cands,
				size_t n, const char *prefix)
{
	const char *pick = word_nearest(word, cands, n);

	if (!pick)
		return "";
	snprintf(out, 160, "; did you mean '%s%s'?", prefix, pick);
	return out;
}

static int unknown_command(struct xerr *e, const char *word)
{
	const char *names[64];
	char hint[160];
	size_t n = 0;

	for (const struct cmd *c = xlab_commands; c->name && n < ARRAY_SIZE(names); c++)
		names[n++] = c->name;
	return xerr_set(e, XERR_USAGE, "unknown command '%s'%s (`xlab help` lists them)", word,
			nearest_hint(hint, word, names, n, ""));
}

static int unknown_sub(struct xerr *e, const struct cmd *c, const char *word)
{
	const char *names[32];
	char hint[160];
	size_t n = 0;

	for (const struct cmd_sub *s = c->subs; s->name && n < ARRAY_SIZE(names); s++)
		names[n++] = s->name;
	return xerr_set(e, XERR_USAGE, "%s: unknown subcommand '%s'%s (`xlab %s help` lists "
			"them)", c->name, word, nearest_hint(hint, word, names, n, ""), c->name);
}

static int unknown_opt(struct xerr *e, const char *where, const struct cmd_opt *opts,
		       const char *arg)
{
	const char *names[40];
	char hint[160], word[64];
	size_t n = 0;

	for (const struct cmd_opt *o = opts; o && o->name && n < ARRAY_SIZE(names) - 1; o++)
		names[n++] = o->name;
	names[n++] = "help";
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg, "="), arg);
	return xerr_set(e, XERR_USAGE, "%s: unknown option '%s'%s (`xlab %s --help` lists "
			"them)", where, word,
			word[1] == '-' ? nearest_hint(hint, word + 2, names, n, "--") : "", where);
}

static void argv_drop(int *argc, char **argv, int i, int k)
{
	memmove(&argv[i], &argv[i + k], (size_t)(*argc - i - k + 1) * sizeof(*argv));
	*argc -= k;
}

/* --connect URI anywhere: the libvirt connection of every command, as
 * virsh's -c. Returns how many words it took (0: not --connect). */
static int global_connect(int argc, char **argv, int i, struct xerr *e)
{
	const char *a = argv[i];

	if (strncmp(a, "--connect=", 10) == 0) {
		virt_uri_override(a + 10);
		return 1;
	}
	if (strcmp(a, "--connect") != 0)
		return 0;
	if (i + 1 >= argc)
		return xerr_set(e, XERR_USAGE, "--connect needs a libvirt URI");
	virt_uri_override(argv[i + 1]);
	return 2;
}

/* Checks argv[from..] against OPTS up to "--". Returns 1 when help was
 * asked for (and printed), 0 to go on, -1 on an unknown option. */
static int opts_check(int *argc, char **argv, int from, const char *where,
		      const struct cmd_opt *opts, struct xerr *e)
{
	for (int i = from; i < *argc; i++) {
		const char *a = argv[i];
		const struct cmd_opt *o = NULL;

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (a[1] == '-') {
			size_t len = strcspn(a + 2, "=");

			for (const struct cmd_opt *p = opts; p && p->name; p++)
				if (strlen(p->name) == len && strncmp(p->name, a + 2, len) == 0)
					o = p;
			if (!o && strncmp(a, "--connect", 9) == 0 && (a[9] == '\0' || a[9] == '=')) {
				int k = global_connect(*argc, argv, i, e);

				if (k < 0)
					return -1;
				argv_drop(argc, argv, i--, k);
				continue;
			}
			if (!o)
				return unknown_opt(e, where, opts, a);
			if (o->arg && !strchr(a, '='))
				i++;
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			o = opt_find_short(opts, *p);
			if (!o)
				return unknown_opt(e, where, opts, a);
		}
		if (o->arg)
			i++;
	}
	return 0;
}

int cmd_help(int argc, char **argv, struct xerr *e)
{
	const struct cmd *c;
	const struct cmd_sub *sub = NULL;

	if (argc < 2) {
		commands_print(stdout);
		return 0;
	}
	c = cmd_find(argv[1]);
	if (!c)
		return unknown_command(e, argv[1]);
	if (argc > 2 && c->subs && !(sub = cmd_sub_find(c, argv[2])))
		return unknown_sub(e, c, argv[2]);
	cmd_help_print(c, sub, stdout);
	return 0;
}

/* Global options before the command; returns the command's index, 0 when
 * the run is over (version or help printed), -1 on an error. */
static int global_opts(int *argc, char **argv, struct xerr *e)
{
	int i = 1;

	while (i < *argc && argv[i][0] == '-') {
		int k = global_connect(*argc, argv, i, e);

		if (k < 0)
			return -1;
		if (k > 0) {
			i += k;
			continue;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("xlab %s\n", XLAB_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			commands_print(stdout);
			return 0;
		}
		return unknown_opt(e, "xlab", xlab_global_opts, argv[i]);
	}
	if (i >= *argc) {
		commands_print(stderr);
		return xerr_set(e, XERR_USAGE, "which command?");
	}
	return i;
}

static int run(int argc, char **argv, struct xerr *e)
{
	const struct cmd *c;
	const struct cmd_sub *sub = NULL;
	char where[64];
	bool implied = false;
	int i = global_opts(&argc, argv, e), rc;

	if (i <= 0)
		return i;
	if (strcmp(argv[i], "version") == 0) {
		if (i + 1 < argc && strcmp(argv[i + 1], "--paths") == 0)
			layout_print(stdout);
		else if (i + 1 < argc)
			return xerr_set(e, XERR_USAGE, "version: unknown argument '%s' "
					"(version [--paths])", argv[i + 1]);
		else
			printf("xlab %s\n", XLAB_VERSION);
		return 0;
	}
	c = cmd_find(argv[i]);
	if (!c)
		return unknown_command(e, argv[i]);
	argc -= i;
	argv += i;
	snprintf(where, sizeof(where), "%s", c->name);
	if (c->subs && argc > 1 && argv[1][0] != '-') {
		if (strcmp(argv[1], "help") == 0) {
			if (argc > 2 && !(sub = cmd_sub_find(c, argv[2])))
				return unknown_sub(e, c, argv[2]);
			cmd_help_print(c, sub, stdout);
			return 0;
		}
		sub = cmd_sub_find(c, argv[1]);
		if (!sub && c->default_sub) {
			/* Its arguments start at argv[1]: the sub's options, from there. */
			sub = cmd_sub_find(c, c->default_sub);
			implied = true;
		}
		if (!sub)
			return unknown_sub(e, c, argv[1]);
		snprintf(where, sizeof(where), "%s %s", c->name, sub->name);
	}
	rc = opts_check(&argc, argv, sub && !implied ? 2 : 1, where, sub ? sub->opts : c->opts, e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		cmd_help_print(c, sub, stdout);
		return 0;
	}
	return c->fn(argc, argv, e);
}

int main(int argc, char **argv)
{
	struct xerr e = { 0 };

	/* A peer that closed its end (libvirtd after a close, a server gone) is
	 * an EPIPE from the write for libvirt and libssh to report, not a
	 * signal that ends xlab: with libvirt's event loop running, a matrix
	 * cell died of it. Programs xlab starts get the default back (spawn.c). */
	signal(SIGPIPE, SIG_IGN);
	if (run(argc, argv, &e) < 0) {
		xerr_print(&e, "xlab");
		/* A failure that set no error still fails. */
		return e.kind != XERR_NONE ? xerr_exit_status(&e) : XLAB_EXIT_FAIL;
	}
	return 0;
}
