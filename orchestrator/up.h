/* Bringing a lab to what its spec says: network, hosts, agent, guests, tests. */
#ifndef XLAB_UP_H
#define XLAB_UP_H

#include <stdbool.h>

#include "err.h"

struct up_opts {
	const char *connect;  /* --connect URI or NULL */
	const char *accel;    /* --accel kvm|qemu or NULL (detect) */
	bool recreate;        /* rebuild hosts whose definition changed */
	bool no_guests;       /* hosts only */
	bool no_tests;        /* skip the spec's tests */
	int boot_timeout_s;   /* per host, from start to sshd answering */
};

int lab_up(const char *spec_path, const struct up_opts *o, struct xerr *e);

#endif
