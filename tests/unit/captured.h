/* Output captured from real dom0s (tests/data/agent/), read whole by the
 * tests of the agent's parsers and host checks. */
#ifndef XLAB_TEST_CAPTURED_H
#define XLAB_TEST_CAPTURED_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "util.h"

static inline char *captured(const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/tests/data/agent/%s",
					      getenv("XLAB_SOURCE_DIR") ?: ".", name);
	struct xerr e = { 0 };
	char *text = NULL;
	size_t len;

	cr_assert_eq(file_read_all(path, 0, &text, &len, &e), 0, "%s", e.msg);
	return text;
}

#endif
