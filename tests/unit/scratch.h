/* A scratch store (XLAB_HOME) for a test program's suite: made before each
 * test, removed after. TestSuite(x, .init = scratch_setup, .fini =
 * scratch_teardown). */
#ifndef XLAB_TEST_SCRATCH_H
#define XLAB_TEST_SCRATCH_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static char scratch_home[64];

static inline void scratch_setup(void)
{
	snprintf(scratch_home, sizeof(scratch_home), "/tmp/xlab-test-XXXXXX");
	cr_assert_not_null(mkdtemp(scratch_home));
	setenv("XLAB_HOME", scratch_home, 1);
}

static inline void scratch_teardown(void)
{
	struct xerr e = { 0 };

	rm_rf(scratch_home, &e);
}

#endif
