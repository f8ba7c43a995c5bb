/* Lab snapshots: every host of a running lab paused, snapshotted with its
 * memory (so every guest inside it is kept running), resumed; and back to
 * one, store rows included. */
#ifndef XLAB_SNAPSHOT_H
#define XLAB_SNAPSHOT_H

#include <stdint.h>

#include "err.h"

/* What a snapshot or a revert took, for its caller to report (class). */
struct snapshot_timing {
	int64_t total_ms;
	int64_t paused_ms; /* how long the lab's hosts were paused */
};

/* name: names_snapshot_valid. An up lab only; a name already taken, a host
 * not running or a disk that cannot hold an internal snapshot is refused
 * before anything is paused. t may be NULL. */
int lab_snapshot(const char *lab, const char *name, const char *connect,
		 struct snapshot_timing *t, struct xerr *e);
/* Every host back to the snapshot (running or stopped before), resumed at
 * once, each awaited on ssh for timeout_s and its clock set to now; the
 * store's guest rows as they were then. t may be NULL. */
int lab_revert(const char *lab, const char *name, const char *connect, int timeout_s,
	       struct snapshot_timing *t, struct xerr *e);
/* From every host and the store; a host that no longer has it is fine. */
int lab_snapshot_rm(const char *lab, const char *name, const char *connect, struct xerr *e);

#endif
