#include "lifecycle.h"

#include <stddef.h>
#include <string.h>

#include "db.h"

static const char *const state_names[LAB_STATE_COUNT] = {
	[LAB_NONE] = "none", [LAB_PARTIAL] = "partial", [LAB_UP] = "up",
	[LAB_STOPPED] = "stopped", [LAB_DOWN] = "down",
};

static const char *const event_names[LAB_EV_COUNT] = {
	[LAB_EV_UP] = "up", [LAB_EV_UP_DONE] = "up (done)", [LAB_EV_STOP] = "stop",
	[LAB_EV_START] = "start", [LAB_EV_DOWN] = "down", [LAB_EV_SNAPSHOT] = "snapshot",
	[LAB_EV_REVERT] = "revert",
};

/* One cell per (state, event): where it leads, or why not (a format taking
 * the lab's name twice). A zero cell cannot happen in a running xlab. */
struct move {
	enum lab_state to;
	const char *refusal;
};

#define TO(s) { .to = (s) }
#define NO(why) { .to = LAB_NONE, .refusal = (why) }

static const char stopped_up[] = "lab '%s' is stopped (`xlab stop`); `xlab start %s` brings it "
				 "back as it was, guests made by hand too";
static const char nothing_stop[] = "lab '%s' is down: there is nothing to stop; `xlab up %s` "
				   "makes it";
static const char nothing_start[] = "lab '%s' is down: there is nothing to start; `xlab up %s` "
				    "makes it";
static const char snap_stopped[] = "lab '%s' is stopped: a snapshot holds running hosts; "
				   "`xlab start %s` first";
static const char snap_partial[] = "lab '%s' is not all up (an up did not finish): a snapshot "
				   "of it would not be worth going back to; finish it with "
				   "`xlab up %s` first";
static const char snap_down[] = "lab '%s' is down: there is nothing to snapshot; `xlab up %s` "
				"makes it";
static const char revert_down[] = "lab '%s' is down, and its snapshots went with it; `xlab up "
				  "%s` makes it again";
static const char not_begun[] = "lab '%s' has no up under way to finish; run `xlab up` for %s";

static const struct move moves[LAB_STATE_COUNT][LAB_EV_COUNT] = {
	[LAB_NONE] = {
		[LAB_EV_UP] = TO(LAB_PARTIAL),
		[LAB_EV_UP_DONE] = NO(not_begun),
		[LAB_EV_STOP] = NO(nothing_stop),
		[LAB_EV_START] = NO(nothing_start),
		[LAB_EV_DOWN] = TO(LAB_DOWN),
		[LAB_EV_SNAPSHOT] = NO(snap_down),
		[LAB_EV_REVERT] = NO(revert_down),
	},
	[LAB_PARTIAL] = {
		[LAB_EV_UP] = TO(LAB_PARTIAL),
		[LAB_EV_UP_DONE] = TO(LAB_UP),
		[LAB_EV_STOP] = TO(LAB_STOPPED),
		[LAB_EV_START] = TO(LAB_UP),
		[LAB_EV_DOWN] = TO(LAB_DOWN),
		[LAB_EV_SNAPSHOT] = NO(snap_partial),
		[LAB_EV_REVERT] = TO(LAB_UP),
	},
	[LAB_UP] = {
		[LAB_EV_UP] = TO(LAB_PARTIAL),
		[LAB_EV_UP_DONE] = TO(LAB_UP),
		[LAB_EV_STOP] = TO(LAB_STOPPED),
		[LAB_EV_START] = TO(LAB_UP),
		[LAB_EV_DOWN] = TO(LAB_DOWN),
		[LAB_EV_SNAPSHOT] = TO(LAB_UP),
		[LAB_EV_REVERT] = TO(LAB_UP),
	},
	[LAB_STOPPED] = {
		[LAB_EV_UP] = NO(stopped_up),
		[LAB_EV_UP_DONE] = NO(not_begun),
		[LAB_EV_STOP] = TO(LAB_STOPPED),
		[LAB_EV_START] = TO(LAB_UP),
		[LAB_EV_DOWN] = TO(LAB_DOWN),
		[LAB_EV_SNAPSHOT] = NO(snap_stopped),
		[LAB_EV_REVERT] = TO(LAB_UP),
	},
	[LAB_DOWN] = {
		[LAB_EV_UP] = TO(LAB_PARTIAL),
		[LAB_EV_UP_DONE] = NO(not_begun),
		[LAB_EV_STOP] = NO(nothing_stop),
		[LAB_EV_START] = NO(nothing_start),
		[LAB_EV_DOWN] = TO(LAB_DOWN),
		[LAB_EV_SNAPSHOT] = NO(snap_down),
		[LAB_EV_REVERT] = NO(revert_down),
	},
};

const char *lab_state_name(enum lab_state s)
{
	return (unsigned)s < LAB_STATE_COUNT ? state_names[s] : "?";
}

const char *lab_event_name(enum lab_event ev)
{
	return (unsigned)ev < LAB_EV_COUNT ? event_names[ev] : "?";
}

enum lab_state lab_state_parse(const char *name)
{
	if (!name)
		return LAB_NONE;
	for (int s = LAB_PARTIAL; s < LAB_STATE_COUNT; s++)
		if (strcmp(name, state_names[s]) == 0)
			return s;
	return LAB_PARTIAL;
}

int lab_state_next(const char *lab, enum lab_state from, enum lab_event ev, enum lab_state *to,
		   struct xerr *e)
{
	const struct move *m;

	if ((unsigned)from >= LAB_STATE_COUNT || (unsigned)ev >= LAB_EV_COUNT)
		return xerr_set(e, XERR_FAIL, "lab '%s': no such state or event (%d, %d)", lab,
				(int)from, (int)ev);
	m = &moves[from][ev];
	if (m->refusal)
		return xerr_set(e, XERR_CONFLICT, m->refusal, lab, lab);
	*to = m->to;
	return 0;
}

int lab_state_get(struct db *db, const char *lab, enum lab_state *out, struct xerr *e)
{
	struct db_lab *l = NULL;

	if (db_lab_get(db, lab, &l, e) < 0)
		return -1;
	*out = l ? lab_state_parse(l->state) : LAB_NONE;
	db_lab_free(l);
	return 0;
}

int lab_state_advance(struct db *db, const char *lab, enum lab_event ev, struct xerr *e)
{
	enum lab_state from, to;

	if (lab_state_get(db, lab, &from, e) < 0 || lab_state_next(lab, from, ev, &to, e) < 0)
		return -1;
	/* A lab the store never had stays unrecorded (a down of libvirt objects
	 * alone); the rest record where they are now. */
	if (from == LAB_NONE && to == LAB_DOWN)
		return 0;
	return db_lab_set_state(db, lab, lab_state_name(to), e);
}
