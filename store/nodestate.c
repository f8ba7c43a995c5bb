#include "nodestate.h"

#include <stddef.h>
#include <string.h>

static const char *const state_names[NODE_STATE_COUNT] = {
	[NODE_NONE] = "none",       [NODE_DEFINED] = "defined", [NODE_CREATED] = "created",
	[NODE_UP] = "up",           [NODE_STOPPED] = "stopped", [NODE_FAILED] = "failed",
	[NODE_REMOVED] = "removed",
};

static const char *const event_names[NODE_EV_COUNT] = {
	[NODE_EV_DEFINE] = "define", [NODE_EV_UP] = "up", [NODE_EV_FAIL] = "fail",
	[NODE_EV_STOP] = "stop",     [NODE_EV_REMOVE] = "remove",
};

/* 0: no such move; else the state + 1 (so that an unlisted cell refuses). */
#define TO(s) ((s) + 1)

static const unsigned char host_moves[NODE_STATE_COUNT][NODE_EV_COUNT] = {
	[NODE_NONE] = { [NODE_EV_DEFINE] = TO(NODE_DEFINED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	[NODE_DEFINED] = { [NODE_EV_DEFINE] = TO(NODE_DEFINED), [NODE_EV_UP] = TO(NODE_UP),
			   /* a host stopped before it ever answered */
			   [NODE_EV_STOP] = TO(NODE_STOPPED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	[NODE_UP] = { [NODE_EV_DEFINE] = TO(NODE_DEFINED), [NODE_EV_UP] = TO(NODE_UP),
		      [NODE_EV_STOP] = TO(NODE_STOPPED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	/* define: an up after a stop that failed half-way starts it again */
	[NODE_STOPPED] = { [NODE_EV_DEFINE] = TO(NODE_DEFINED), [NODE_EV_UP] = TO(NODE_UP),
			   [NODE_EV_STOP] = TO(NODE_STOPPED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	[NODE_REMOVED] = { [NODE_EV_DEFINE] = TO(NODE_DEFINED),
			   [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
};

static const unsigned char guest_moves[NODE_STATE_COUNT][NODE_EV_COUNT] = {
	[NODE_NONE] = { [NODE_EV_DEFINE] = TO(NODE_CREATED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	[NODE_CREATED] = { [NODE_EV_DEFINE] = TO(NODE_CREATED), [NODE_EV_UP] = TO(NODE_UP),
			   [NODE_EV_FAIL] = TO(NODE_FAILED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	/* up again: its domain was gone and it is made anew */
	[NODE_UP] = { [NODE_EV_DEFINE] = TO(NODE_CREATED), [NODE_EV_UP] = TO(NODE_UP),
		      [NODE_EV_FAIL] = TO(NODE_FAILED), [NODE_EV_STOP] = TO(NODE_STOPPED),
		      [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	[NODE_STOPPED] = { [NODE_EV_DEFINE] = TO(NODE_CREATED), [NODE_EV_UP] = TO(NODE_UP),
			   [NODE_EV_FAIL] = TO(NODE_FAILED), [NODE_EV_STOP] = TO(NODE_STOPPED),
			   [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	/* up: a guest whose boot wait gave up, later seen running (migrated) */
	[NODE_FAILED] = { [NODE_EV_DEFINE] = TO(NODE_CREATED), [NODE_EV_UP] = TO(NODE_UP),
			  [NODE_EV_FAIL] = TO(NODE_FAILED), [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
	[NODE_REMOVED] = { [NODE_EV_DEFINE] = TO(NODE_CREATED),
			   [NODE_EV_REMOVE] = TO(NODE_REMOVED) },
};

const char *node_state_name(enum node_state s)
{
	return (unsigned)s < NODE_STATE_COUNT ? state_names[s] : "?";
}

enum node_state node_state_parse(const char *name)
{
	for (int s = 0; name && s < NODE_STATE_COUNT; s++)
		if (!strcmp(state_names[s], name))
			return (enum node_state)s;
	return NODE_NONE;
}

const char *node_event_name(enum node_event ev)
{
	return (unsigned)ev < NODE_EV_COUNT ? event_names[ev] : "?";
}

int node_state_next(enum node_kind kind, const char *name, enum node_state from,
		    enum node_event ev, enum node_state *to, struct xerr *e)
{
	const unsigned char(*moves)[NODE_EV_COUNT] = kind == NODE_HOST ? host_moves : guest_moves;
	unsigned char cell = (unsigned)from < NODE_STATE_COUNT && (unsigned)ev < NODE_EV_COUNT ?
				     moves[from][ev] :
				     0;

	if (!cell)
		return xerr_set(e, XERR_CONFLICT, "%s '%s' is %s%s: it cannot %s%s",
				kind == NODE_HOST ? "host" : "guest", name,
				from == NODE_NONE ? "not recorded" : node_state_name(from),
				from == NODE_NONE ? " in the store" : "",
				ev == NODE_EV_UP ? "come " : "", node_event_name(ev));
	*to = (enum node_state)(cell - 1);
	return 0;
}

/* The state the store has for one node (NODE_NONE: no row it lists). */
static int host_state_get(struct db *db, const char *lab, const char *name,
			  enum node_state *out, struct xerr *e)
{
	struct db_host *rows = NULL;
	size_t n = 0;

	*out = NODE_NONE;
	if (db_hosts_list(db, lab, &rows, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			*out = node_state_parse(rows[i].state);
	db_hosts_free(rows, n);
	return 0;
}

static int guest_state_get(struct db *db, const char *lab, const char *name,
			   enum node_state *out, struct xerr *e)
{
	struct db_guest *rows = NULL;
	size_t n = 0;

	*out = NODE_NONE;
	if (db_guests_list(db, lab, &rows, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			*out = node_state_parse(rows[i].state);
	db_guests_free(rows, n);
	return 0;
}

int node_record_host(struct db *db, const struct db_host *row, enum node_event ev,
		     struct xerr *e)
{
	struct db_host h = *row;
	enum node_state from, to;

	if (host_state_get(db, row->lab, row->name, &from, e) < 0 ||
	    node_state_next(NODE_HOST, row->name, from, ev, &to, e) < 0)
		return -1;
	h.state = node_state_name(to);
	return db_host_upsert(db, &h, e);
}

int node_record_guest(struct db *db, const struct db_guest *row, enum node_event ev,
		      struct xerr *e)
{
	struct db_guest g = *row;
	enum node_state from, to;

	if (guest_state_get(db, row->lab, row->name, &from, e) < 0 ||
	    node_state_next(NODE_GUEST, row->name, from, ev, &to, e) < 0)
		return -1;
	g.state = node_state_name(to);
	return db_guest_upsert(db, &g, e);
}
