/* A host's and a guest's state as the store keeps it (hosts.state,
 * guests.state), the events that move them, and one table of which move
 * is possible: the nodes' part of the lifecycle (a lab's is lifecycle.h).
 *
 *   host:  (none|removed|up|stopped) --define--> defined --up--> up --stop--> stopped
 *                                                stopped --up--> up
 *   guest: (none|removed|failed|up|stopped) --define--> created --up--> up
 *          created|up|stopped --fail--> failed --up--> up; up --stop--> stopped --up--> up
 *   any --remove--> removed
 *
 * Every write of a node's state goes through node_record_*: it reads the
 * state the store has, asks the table, and writes where the event leads, so
 * no command spells a state or moves a node the table does not allow. */
#ifndef XLAB_NODESTATE_H
#define XLAB_NODESTATE_H

#include "db.h"
#include "err.h"

enum node_kind { NODE_HOST, NODE_GUEST };

enum node_state {
	NODE_NONE,    /* no row, or one this xlab cannot read */
	NODE_DEFINED, /* host: its domain defined and started, sshd not yet answering */
	NODE_CREATED, /* guest: its domain made, its console marker not yet seen */
	NODE_UP,
	NODE_STOPPED, /* parked by `xlab stop` */
	NODE_FAILED,  /* guest: create, boot or start failed */
	NODE_REMOVED, /* gone with its host (recreated) or its copy (reset) */
	NODE_STATE_COUNT,
};

enum node_event {
	NODE_EV_DEFINE, /* host defined / guest created */
	NODE_EV_UP,     /* host's sshd answered / guest's console marker seen */
	NODE_EV_FAIL,
	NODE_EV_STOP,
	NODE_EV_REMOVE,
	NODE_EV_COUNT,
};

const char *node_state_name(enum node_state s);
/* The store's name back to a state: NULL or a name this xlab does not know
 * is NODE_NONE (nothing it may rely on). */
enum node_state node_state_parse(const char *name);
const char *node_event_name(enum node_event ev);

/* Where ev takes a node of kind in state from: 0 with *to set, or -1 with
 * XERR_CONFLICT naming the node, its state and the event. */
int node_state_next(enum node_kind kind, const char *name, enum node_state from,
		    enum node_event ev, enum node_state *to, struct xerr *e);

/* Writes row (its state field ignored) in the state ev leads to from the
 * one the store has for it. */
int node_record_host(struct db *db, const struct db_host *row, enum node_event ev,
		     struct xerr *e);
int node_record_guest(struct db *db, const struct db_guest *row, enum node_event ev,
		      struct xerr *e);

#endif
