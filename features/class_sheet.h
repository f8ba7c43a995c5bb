/* The access sheet of a class: per student, the copy's hosts and addresses,
 * SSH commands and an ~/.ssh/config block, the key to hand out, VNC through
 * an SSH tunnel. Pure rendering: the caller gathers the facts. */
#ifndef XLAB_CLASS_SHEET_H
#define XLAB_CLASS_SHEET_H

#include <stddef.h>

#include "err.h"
#include "util.h"

struct sheet_host {
	const char *name;
	const char *ip;
	int vnc_port; /* <= 0: not running */
};

struct sheet_copy {
	const char *lab;
	const char *student;     /* or NULL */
	const char *key;         /* the copy's private key on this machine */
	const char *known_hosts; /* its pinned host keys on this machine */
	const struct sheet_host *hosts;
	size_t n_hosts;
	/* A copy on another server: "user@server" its lab network is reached
	 * through (its hosts' displays too), over the class's jump. */
	const char *jump;
};

enum sheet_format { SHEET_MD, SHEET_CSV, SHEET_HTML };

int sheet_format_parse(const char *s, enum sheet_format *out, struct xerr *e);
/* jump: "user@server" students go through, or NULL (they sit at this
 * machine). Appends to out. */
int class_sheet_render(const char *class_name, const struct sheet_copy *v, size_t n,
		       enum sheet_format fmt, const char *jump, struct buf *out, struct xerr *e);

#endif
