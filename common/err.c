#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static void xerr_vset(struct xerr *e, int code, const char *fmt, va_list ap)
{
	e->code = code ? code : XLAB_EXIT_FAIL;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int xerr_set(struct xerr *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xerr_vset(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

int xerr_errno(struct xerr *e, int code, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	xerr_vset(e, code, fmt, ap);
	va_end(ap);
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
	if (!e->code)
		e->code = XLAB_EXIT_FAIL;
	return -1;
}

void xerr_clear(struct xerr *e)
{
	e->code = 0;
	e->msg[0] = '\0';
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
