/* Errors as values: a kind, the errno or remote code behind it when there is
 * one, and a message built once, where the failure is understood. They are
 * printed once, at the top (main.c), which also derives the exit status from
 * the kind; no caller ever looks at the message text to decide anything. */
#ifndef XLAB_ERR_H
#define XLAB_ERR_H

#include <stdarg.h>

/* Exit statuses, derived from a kind by xerr_exit_status only. */
enum {
	XLAB_OK = 0,
	XLAB_EXIT_FAIL = 1,  /* the operation failed */
	XLAB_EXIT_USAGE = 2, /* bad usage or an invalid spec */
};

/* What went wrong, as a caller may need to tell it apart. The first five
 * keep their numbers: the agent protocol's error codes are these on the wire
 * (agents/proto.h maps them explicitly all the same). */
enum xerr_kind {
	XERR_NONE = 0,
	XERR_FAIL = 1,    /* the operation failed; nothing more specific to say */
	XERR_USAGE,       /* bad flags, arguments, names or spec */
	XERR_NOTFOUND,    /* the named lab, host, guest, image or file is not there */
	XERR_PROTO,       /* a peer (agent, dom0) spoke outside its protocol */
	XERR_TIMEOUT,     /* waited as long as it is worth waiting */
	XERR_CONFLICT,    /* the state forbids it now: in use, locked, already there */
	XERR_IO,          /* a system call failed: e->sys holds its errno */
	XERR_REMOTE,      /* the agent refused: e->remote holds what it said */
	XERR_INTERRUPTED, /* SIGINT or SIGTERM asked us to stop */
	XERR_KIND_MAX = XERR_INTERRUPTED,
};

struct xerr {
	enum xerr_kind kind;
	int sys;    /* errno behind an XERR_IO (or any kind), 0 when none */
	/* Behind an XERR_REMOTE: what the agent said went wrong there (its kind,
	 * decoded from the wire), XERR_NONE when the refusal came from elsewhere. */
	enum xerr_kind remote;
	char msg[4096];
};

/* Sets the error and returns -1 so callers can write `return xerr_set(...)`. */
int xerr_set(struct xerr *e, enum xerr_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like xerr_set, keeping errno in e->sys and appending ": strerror(errno)". */
int xerr_errno(struct xerr *e, enum xerr_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepends context ("while doing X: ") to an error already set; returns -1.
 * The kind and codes stay: context never changes what went wrong. */
int xerr_prefix(struct xerr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xerr_clear(struct xerr *e);
/* "usage", "not-found", ...: for logs, JSON and tests. */
const char *xerr_kind_name(enum xerr_kind kind);
/* The process exit status for an error (XLAB_EXIT_USAGE for usage, else
 * XLAB_EXIT_FAIL); XLAB_OK for no error. */
int xerr_exit_status(const struct xerr *e);
/* Prints "xlab: MSG" (the message may already hold FILE:LINE:COL). */
void xerr_print(const struct xerr *e, const char *prog);

#endif
