/* xlab class: N isolated copies of one lab for a class, each brought up,
 * reset and taken down with the same code as `xlab up`/`xlab down`. */
#ifndef XLAB_CLASS_RUN_H
#define XLAB_CLASS_RUN_H

#include <stdbool.h>

#include "class_sheet.h"
#include "err.h"

struct class_opts {
	const char *connect;  /* --connect URI or NULL */
	const char *accel;    /* --accel kvm|qemu or NULL */
	int boot_timeout_s;
	/* up only */
	int copies;           /* --copies N, 0: class.copies or the students */
	const char *students; /* --students CSV or NULL (class.students) */
	const char *only;     /* --only SEL or NULL */
	bool overcommit;
	/* --servers a,b: each copy placed on one of them by memory left
	 * (labs/placement.h); NULL: every copy here, after the fit check. */
	const char *servers;
};

/* The snapshot `class up` takes of each copy once it is up, and `class
 * reset` goes back to when the class spec has not changed since. */
#define CLASS_START_SNAPSHOT "class-start"

int class_up(const char *spec_path, const struct class_opts *o, struct xerr *e);
int class_reset(const char *name, const char *copy, const struct class_opts *o,
		struct xerr *e);
/* Every copy snapshotted as NAME, or back to it; one copy's failure does
 * not stop the others. */
int class_snapshot(const char *name, const char *snap, const struct class_opts *o,
		   struct xerr *e);
int class_revert(const char *name, const char *snap, const struct class_opts *o,
		 struct xerr *e);
int class_down(const char *name, const struct class_opts *o, struct xerr *e);
/* name NULL: every class. */
int class_status(const char *name, bool json, const struct class_opts *o, struct xerr *e);
int class_sheet(const char *name, enum sheet_format fmt, const char *jump,
		const struct class_opts *o, struct xerr *e);

#endif
