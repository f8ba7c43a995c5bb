/* Bringing a lab to what its spec says: network, hosts, agent, guests, tests. */
#ifndef XLAB_UP_H
#define XLAB_UP_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "spec.h"

struct up_opts {
	const char *connect;  /* --connect URI or NULL */
	const char *accel;    /* --accel kvm|qemu or NULL (detect) */
	bool recreate;        /* rebuild hosts whose definition changed */
	bool no_guests;       /* hosts only */
	bool no_tests;        /* skip the spec's tests */
	int boot_timeout_s;   /* per host, from start to sshd answering */
	const char *made_by;  /* "matrix", "class"; NULL: "spec" (see db_lab_claim) */
	const char *server;   /* --server NAME over the spec's `server:`; NULL: the spec's */
	/* --servers a,b: hosts without a `server:` of their own placed among
	 * these by memory left (lab_place_hosts), when the lab is not up yet. */
	const char *servers;
};

/* What one `up` did, for callers that bring several labs up (xlab matrix). */
struct up_result {
	int64_t run_id;     /* the run recorded in the store (0: none began) */
	bool up;            /* hosts and guests came up; tests may still have failed */
	int64_t bringup_ms; /* from the run's start to the lab being up */
};

/* The hosts of s without a `server:` of their own placed among the
 * servers of csv ("local,box2") by memory left, whole on one when they fit
 * (labs/placement.h): their `server:` set to the choice. */
int lab_place_hosts(struct spec *s, const char *csv, struct xerr *e);

int lab_up(const char *spec_path, const struct up_opts *o, struct xerr *e);
/* The same for a spec already loaded (and possibly changed: a matrix copy);
 * the spec stays the caller's. `res` may be NULL. */
int lab_up_spec(struct spec *spec, const struct up_opts *o, struct up_result *res,
		struct xerr *e);

#endif
