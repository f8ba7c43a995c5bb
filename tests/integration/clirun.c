#include "clirun.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>

#include "spawn.h"
#include "util.h"

int cli_run(char *const env[], char **out, char **err, ...)
{
	const char *bin = getenv("XLAB_BIN");
	char *argv[16] = { (char *)(bin ? bin : "xlab") };
	struct spawn_opts o = { .capture_stdout = true, .capture_stderr = true,
				.env_add = (char **)env, .timeout_ms = 30000 };
	struct spawn_result r;
	struct xerr e = { 0 };
	va_list ap;
	size_t n = 1;
	int status;

	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) && n < 15;)
		argv[n++] = a;
	va_end(ap);
	cr_assert_eq(spawn_run(argv, &o, &r, &e), 0, "%s", e.msg);
	*out = xstrdup(r.out ? r.out : "");
	*err = xstrdup(r.err ? r.err : "");
	status = r.status;
	spawn_result_free(&r);
	return status;
}
