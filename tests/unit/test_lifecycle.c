/* The lab lifecycle's table, every cell of it, and what the store keeps. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "lifecycle.h"
#include "scratch.h"
#include "util.h"

#define N LAB_NONE
#define P LAB_PARTIAL
#define U LAB_UP
#define S LAB_STOPPED
#define D LAB_DOWN
#define X (-1) /* refused */

/* Rows: from; columns: up, up done, stop, start, down, snapshot, revert.
 * Written out here a second time on purpose: a change to the lifecycle
 * must change both. */
static const int want[LAB_STATE_COUNT][LAB_EV_COUNT] = {
	[N] = { P, X, X, X, D, X, X },
	[P] = { P, U, S, U, D, X, U },
	[U] = { P, U, S, U, D, U, U },
	[S] = { X, X, S, U, D, X, U },
	[D] = { P, X, X, X, D, X, X },
};

Test(lifecycle, every_cell_of_the_table)
{
	for (int from = 0; from < LAB_STATE_COUNT; from++)
		for (int ev = 0; ev < LAB_EV_COUNT; ev++) {
			struct xerr e = { 0 };
			enum lab_state to = (enum lab_state)99;
			int rc = lab_state_next("demo", from, ev, &to, &e);

			if (want[from][ev] == X) {
				cr_expect_eq(rc, -1, "%s + %s was allowed", lab_state_name(from),
					     lab_event_name(ev));
				cr_expect_eq(e.kind, XERR_CONFLICT, "%s + %s",
					     lab_state_name(from), lab_event_name(ev));
				cr_expect(strstr(e.msg, "lab 'demo'"), "%s", e.msg);
				cr_expect(strstr(e.msg, "`xlab "), "says what to do: %s", e.msg);
			} else {
				cr_expect_eq(rc, 0, "%s + %s: %s", lab_state_name(from),
					     lab_event_name(ev), e.msg);
				cr_expect_eq((int)to, want[from][ev], "%s + %s gave %s",
					     lab_state_name(from), lab_event_name(ev),
					     lab_state_name(to));
			}
		}
}

/* Whatever an interruption leaves (an up: partial; a stop, start or down:
 * the state it began in), down is allowed, and so is the command again. */
Test(lifecycle, every_interrupted_state_recovers)
{
	static const struct {
		enum lab_state left;
		enum lab_event again;
	} cut[] = {
		{ P, LAB_EV_UP }, { U, LAB_EV_STOP }, { S, LAB_EV_START },
		{ P, LAB_EV_DOWN }, { U, LAB_EV_DOWN }, { S, LAB_EV_DOWN },
	};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct xerr e = { 0 };
		enum lab_state to;

		cr_expect_eq(lab_state_next("demo", cut[i].left, cut[i].again, &to, &e), 0, "%s",
			     e.msg);
		cr_expect_eq(lab_state_next("demo", cut[i].left, LAB_EV_DOWN, &to, &e), 0, "%s",
			     e.msg);
		cr_expect_eq(to, D);
	}
}

Test(lifecycle, names_read_back)
{
	for (int s = LAB_PARTIAL; s < LAB_STATE_COUNT; s++)
		cr_expect_eq(lab_state_parse(lab_state_name(s)), s, "%s", lab_state_name(s));
	cr_expect_eq(lab_state_parse(NULL), N);
	/* A state from a newer xlab is neither up nor gone. */
	cr_expect_eq(lab_state_parse("hibernating"), P);
	cr_expect_str_eq(lab_state_name((enum lab_state)42), "?");
}

/* The store keeps each move; a refused one changes nothing. */
TestSuite(lifecycle_store, .init = scratch_setup, .fini = scratch_teardown);

Test(lifecycle_store, advances_are_recorded_and_refusals_change_nothing)
{
	struct xerr e = { 0 };
	struct db *db = NULL;
	enum lab_state s;

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_state_get(db, "demo", &s, &e), 0, "%s", e.msg);
	cr_assert_eq(s, N);
	cr_assert_eq(lab_state_advance(db, "demo", LAB_EV_STOP, &e), -1);
	cr_assert_eq(e.kind, XERR_CONFLICT);
	cr_assert_eq(db_lab_upsert(db, "demo", "/x.yaml", "00", "10.9.0.0/24", "up", &e), 0, "%s",
		     e.msg);
	cr_assert_eq(lab_state_advance(db, "demo", LAB_EV_STOP, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_state_get(db, "demo", &s, &e), 0);
	cr_assert_eq(s, S);
	cr_assert_eq(lab_state_advance(db, "demo", LAB_EV_UP_DONE, &e), -1);
	cr_assert_eq(lab_state_get(db, "demo", &s, &e), 0);
	cr_assert_eq(s, S, "a refused move left %s", lab_state_name(s));
	cr_assert_eq(lab_state_advance(db, "demo", LAB_EV_START, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_state_advance(db, "demo", LAB_EV_DOWN, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_state_get(db, "demo", &s, &e), 0);
	cr_assert_eq(s, D);
	/* A down of a lab the store never had records nothing. */
	cr_assert_eq(lab_state_advance(db, "ghost", LAB_EV_DOWN, &e), 0, "%s", e.msg);
	cr_assert_eq(lab_state_get(db, "ghost", &s, &e), 0);
	cr_assert_eq(s, N);
	db_close(db);
}
