/* A matrix as the store has it, turned into the plain view matrix_view.h
 * renders: the matrix row, its cells, and each cell's run's test results. */
#ifndef XLAB_MATRIX_STORE_H
#define XLAB_MATRIX_STORE_H

#include <stdint.h>

#include "db.h"
#include "err.h"
#include "matrix_view.h"

int mx_view_load(struct db *db, int64_t id, struct mx_view *v, struct xerr *e);

#endif
