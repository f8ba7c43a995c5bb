/* xlab validate FILE...|-: every problem of every spec, as FILE:LINE:COL;
 * and, across the files given, two labs that claim the same subnet. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "spec.h"
#include "subnet.h"
#include "util.h"

/* "-": the spec on standard input, e.g. from a generator. */
static int load_stdin(struct spec **s, struct spec_diags *diags, struct xerr *e)
{
	struct buf b = { 0 };
	char chunk[8192];
	ssize_t n;
	int rc;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0 && b.len <= SPEC_MAX_BYTES)
		buf_append(&b, chunk, (size_t)n);
	if (n < 0) {
		buf_free(&b);
		return xerr_errno(e, XERR_IO, "<stdin>: cannot read");
	}
	rc = spec_load_buffer("<stdin>", b.data ? b.data : "", b.len, s, diags, e);
	buf_free(&b);
	return rc;
}

/* Explicit subnets of the valid specs given, pairwise: `up` of both would
 * refuse the second, so say it now. */
static int subnets_check(struct spec **v, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			struct cidr a, b;
			struct xerr ignore = { 0 };

			if (!v[i] || !v[j] || !v[i]->subnet || !v[j]->subnet ||
			    strcmp(v[i]->lab, v[j]->lab) == 0 ||
			    cidr_parse(v[i]->subnet, &a, &ignore) < 0 ||
			    cidr_parse(v[j]->subnet, &b, &ignore) < 0 || !cidr_overlap(&a, &b))
				continue;
			fprintf(stderr, "%s: subnet %s of lab '%s' overlaps %s of lab '%s' (%s); "
					"give one of them another network.subnet\n",
				v[j]->path, v[j]->subnet, v[j]->lab, v[i]->subnet, v[i]->lab,
				v[i]->path);
			bad++;
		}
	return bad;
}

int cmd_validate(int argc, char **argv, struct xerr *e)
{
	struct spec **specs;
	int bad = 0, clashes;

	if (argc < 2)
		return cmd_usage_error(e, "validate", "no spec file given");
	specs = xcalloc((size_t)argc, sizeof(*specs));
	for (int i = 1; i < argc; i++) {
		struct spec_diags diags = { 0 };
		struct xerr one = { 0 };
		int rc = strcmp(argv[i], "-") == 0 ? load_stdin(&specs[i], &diags, &one) :
						     spec_load(argv[i], &specs[i], &diags, &one);

		if (rc < 0) {
			if (diags.n)
				spec_diags_print(&diags, stderr);
			else
				xerr_print(&one, "xlab");
			bad++;
		} else {
			printf("%s: ok (lab %s, %zu hosts, %zu guests, %zu tests)\n", specs[i]->path,
			       specs[i]->lab, specs[i]->n_hosts, specs[i]->n_guests,
			       specs[i]->n_tests);
		}
		spec_diags_free(&diags);
	}
	clashes = subnets_check(specs + 1, argc - 1);
	for (int i = 1; i < argc; i++)
		spec_free(specs[i]);
	free(specs);
	if (bad || clashes) {
		/* Details are already printed; only the exit code is left to give. */
		if (bad)
			xerr_set(e, XERR_USAGE, "%d of %d spec(s) invalid", bad, argc - 1);
		else
			xerr_set(e, XERR_USAGE, "%d subnet clash(es) between the specs", clashes);
		return -1;
	}
	return 0;
}
