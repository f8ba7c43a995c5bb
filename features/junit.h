/* JUnit XML, the format GitLab, Jenkins and GitHub read test results from. */
#ifndef XLAB_JUNIT_H
#define XLAB_JUNIT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct junit_case {
	const char *name;
	const char *classname;
	double time_s;
	bool failed;
	const char *message; /* short reason when failed */
	const char *output;  /* captured output, into <system-out> */
};

struct junit_suite {
	const char *name; /* e.g. "xlab.demo" or "xen-4.20" */
	const char *timestamp;
	const char *hostname;
	const struct junit_case *cases;
	size_t n_cases;
};

/* One <testsuites> document with a <testsuite> per suite; "-" is stdout. */
int junit_write(const char *path, const char *name, const struct junit_suite *suites,
		size_t n, struct xerr *e);

#endif
