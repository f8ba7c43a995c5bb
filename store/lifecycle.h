/* A lab's lifecycle: its states, the events that move it, and one table of
 * which move each command may make. The store keeps the state by name (the
 * labs table's `state`); every command that changes it asks this table
 * first, so a refusal reads the same from up, stop, start and down.
 *
 *            up                 (up done)
 *   none ----------> partial ---------------> up
 *   down ----------> partial                  up  --stop--> stopped
 *   partial/up/stopped --down--> down         stopped --start--> up
 *   up --snapshot--> up      partial/up/stopped --revert--> up
 *
 * An interrupted up leaves `partial` (up again finishes it; down removes
 * it); an interrupted stop, start or down leaves the state it began in,
 * from which the same command, or down, is always allowed again. */
#ifndef XLAB_LIFECYCLE_H
#define XLAB_LIFECYCLE_H

#include "err.h"

struct db;

enum lab_state {
	LAB_NONE,    /* the store never had it */
	LAB_PARTIAL, /* an up began and has not finished */
	LAB_UP,
	LAB_STOPPED, /* parked by `xlab stop`: hosts off, everything kept */
	LAB_DOWN,    /* taken down: nothing of it left but its runs */
	LAB_STATE_COUNT,
};

enum lab_event {
	LAB_EV_UP,      /* an up begins */
	LAB_EV_UP_DONE, /* every host and guest of the spec is up */
	LAB_EV_STOP,
	LAB_EV_START,
	LAB_EV_DOWN,
	LAB_EV_SNAPSHOT, /* xlab snapshot: an up lab stays up */
	LAB_EV_REVERT,   /* back to a snapshot: up, whatever it was (but down) */
	LAB_EV_COUNT,
};

const char *lab_state_name(enum lab_state s);
/* The store's name back to a state: NULL is LAB_NONE; a name this xlab does
 * not know is LAB_PARTIAL (neither up nor gone: the cautious reading). */
enum lab_state lab_state_parse(const char *name);
const char *lab_event_name(enum lab_event ev);

/* Where ev takes a lab in state from: 0 with *to set, or -1 with
 * XERR_CONFLICT and what to do instead. */
int lab_state_next(const char *lab, enum lab_state from, enum lab_event ev, enum lab_state *to,
		   struct xerr *e);
/* Reads lab's state from the store, checks ev against the table and
 * records where it leads. For events that need nothing else written (up
 * records its spec and subnet with the state: it uses lab_state_next). */
int lab_state_advance(struct db *db, const char *lab, enum lab_event ev, struct xerr *e);
/* lab's state as the store has it. */
int lab_state_get(struct db *db, const char *lab, enum lab_state *out, struct xerr *e);

#endif
