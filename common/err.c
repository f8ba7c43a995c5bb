#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static void xerr_vset(struct xerr *e, enum xerr_kind kind, const char *fmt, va_list ap)
{
	e->kind = kind != XERR_NONE ? kind : XERR_FAIL;
	e->sys = 0;
	e->remote = XERR_NONE;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int xerr_set(struct xerr *e, enum xerr_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xerr_vset(e, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int xerr_errno(struct xerr *e, enum xerr_kind kind, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	xerr_vset(e, kind, fmt, ap);
	va_end(ap);
	e->sys = saved;
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int xerr_prefix(struct xerr *e, const char *fmt, ...)
{
	char head[1024], tail[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(tail, e->msg, sizeof(tail));
	/* Truncating a long message is fine; keep the head, which says where. */
	{
		size_t n = strlen(head);

		if (n > sizeof(e->msg) - 3)
			n = sizeof(e->msg) - 3;
		memcpy(e->msg, head, n);
		memcpy(e->msg + n, ": ", 2);
		memcpy(e->msg + n + 2, tail, strnlen(tail, sizeof(e->msg) - n - 3));
		e->msg[n + 2 + strnlen(tail, sizeof(e->msg) - n - 3)] = '\0';
	}
	if (e->kind == XERR_NONE)
		e->kind = XERR_FAIL;
	return -1;
}

void xerr_clear(struct xerr *e)
{
	e->kind = XERR_NONE;
	e->sys = 0;
	e->remote = XERR_NONE;
	e->msg[0] = '\0';
}

const char *xerr_kind_name(enum xerr_kind kind)
{
	static const char *const names[] = {
		[XERR_NONE] = "none",
		[XERR_FAIL] = "failed",
		[XERR_USAGE] = "usage",
		[XERR_NOTFOUND] = "not-found",
		[XERR_PROTO] = "protocol",
		[XERR_TIMEOUT] = "timeout",
		[XERR_CONFLICT] = "conflict",
		[XERR_IO] = "io",
		[XERR_REMOTE] = "remote",
		[XERR_INTERRUPTED] = "interrupted",
	};

	if ((unsigned)kind > XERR_KIND_MAX)
		return "failed";
	return names[kind];
}

int xerr_exit_status(const struct xerr *e)
{
	switch (e->kind) {
	case XERR_NONE:
		return XLAB_OK;
	case XERR_USAGE:
		return XLAB_EXIT_USAGE;
	default:
		return XLAB_EXIT_FAIL;
	}
}

/* Messages quote what dom0s, guests and files said: printed through
 * text_term so none of it reaches the terminal as an escape sequence. */
void xerr_print(const struct xerr *e, const char *prog)
{
	char *m;

	if (!e->msg[0])
		return;
	m = text_term(e->msg);
	fprintf(stderr, "%s: %s\n", prog, m);
	free(m);
}
