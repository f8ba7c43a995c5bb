/* What features/class_run.c and class_ops.c share: a class's spec and
 * copies as one command holds them. */
#ifndef XLAB_CLASS_INT_H
#define XLAB_CLASS_INT_H

#include <stddef.h>

#include "class.h"
#include "class_run.h"
#include "db.h"
#include "spec.h"

struct class_ctx {
	const struct class_opts *o;
	struct spec *base;
	char *path; /* the spec, absolute: reset runs from anywhere */
	char *data;
	size_t len;
	struct class_copy *copies;
	size_t n;
	struct db *db;
};

void class_ctx_free(struct class_ctx *c);
/* Reads and checks the class's spec at path (kept absolute in c->path). */
int class_spec_read(struct class_ctx *c, const char *path, struct xerr *e);

/* Snapshots a copy that has just come up as CLASS_START_SNAPSHOT, saying
 * so; a copy that cannot be kept is said to be rebuilt by reset instead. */
void class_copy_keep_start(const char *cls, const struct spec *s, const char *connect,
			   int64_t up_ms);

#endif
