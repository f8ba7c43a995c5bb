/* xlab validate FILE...: every problem of every spec, as FILE:LINE:COL. */
#include <stdio.h>

#include "cmd.h"
#include "spec.h"
#include "util.h"

int cmd_validate(int argc, char **argv, struct xerr *e)
{
	int bad = 0;

	if (argc < 2)
		return cmd_usage_error(e, "validate", "no spec file given");
	for (int i = 1; i < argc; i++) {
		struct spec_diags diags = { 0 };
		struct spec *s = NULL;
		struct xerr one = { 0 };

		if (spec_load(argv[i], &s, &diags, &one) < 0) {
			if (diags.n)
				spec_diags_print(&diags, stderr);
			else
				xerr_print(&one, "xlab");
			bad++;
		} else {
			printf("%s: ok (lab %s, %zu hosts, %zu guests, %zu tests)\n", argv[i],
			       s->lab, s->n_hosts, s->n_guests, s->n_tests);
		}
		spec_diags_free(&diags);
		spec_free(s);
	}
	if (bad) {
		/* Details are already printed; only the exit code is left to give. */
		xerr_set(e, XLAB_EXIT_USAGE, "%d of %d spec(s) invalid", bad, argc - 1);
		return -1;
	}
	return 0;
}
