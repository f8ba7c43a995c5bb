/* Errors as values: a code and a message built once, where the failure is
 * understood, and printed once, at the top (main.c). */
#ifndef XLAB_ERR_H
#define XLAB_ERR_H

#include <stdarg.h>

enum {
	XLAB_OK = 0,
	XLAB_EXIT_FAIL = 1,  /* the operation failed */
	XLAB_EXIT_USAGE = 2, /* bad usage or an invalid spec */
};

struct xerr {
	int code;
	char msg[4096];
};

/* Sets the error and returns -1 so callers can write `return xerr_set(...)`. */
int xerr_set(struct xerr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like xerr_set, with ": strerror(errno)" appended. */
int xerr_errno(struct xerr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepends context ("while doing X: ") to an error already set; returns -1. */
int xerr_prefix(struct xerr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xerr_clear(struct xerr *e);
/* Prints "xlab: MSG" (the message may already hold FILE:LINE:COL). */
void xerr_print(const struct xerr *e, const char *prog);

#endif
