#include "clirun.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "spawn.h"
#include "util.h"

static int cli_vrun(const char *in, char *const env[], char **out, char **err, va_list ap)
{
	const char *bin = getenv("XLAB_BIN");
	char *argv[16] = { (char *)(bin ? bin : "xlab") };
	struct spawn_opts o = { .capture_stdout = true, .capture_stderr = true,
				.env_add = (char **)env, .timeout_ms = 30000,
				.stdin_data = in, .stdin_len = in ? strlen(in) : 0 };
	struct spawn_result r;
	struct xerr e = { 0 };
	size_t n = 1;
	int status;

	for (char *a; (a = va_arg(ap, char *)) && n < 15;)
		argv[n++] = a;
	cr_assert_eq(spawn_run(argv, &o, &r, &e), 0, "%s", e.msg);
	*out = xstrdup(r.out ? r.out : "");
	*err = xstrdup(r.err ? r.err : "");
	status = r.status;
	spawn_result_free(&r);
	return status;
}

int cli_run(char *const env[], char **out, char **err, ...)
{
	va_list ap;
	int st;

	va_start(ap, err);
	st = cli_vrun(NULL, env, out, err, ap);
	va_end(ap);
	return st;
}

int cli_run_in(const char *in, char *const env[], char **out, char **err, ...)
{
	va_list ap;
	int st;

	va_start(ap, err);
	st = cli_vrun(in, env, out, err, ap);
	va_end(ap);
	return st;
}
