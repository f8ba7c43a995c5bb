/* Hosts' and guests' states: every cell of both tables, and what the store
 * keeps when a node moves (or is refused a move). */
#include <criterion/criterion.h>
#include <string.h>

#include "db.h"
#include "nodestate.h"
#include "scratch.h"
#include "util.h"

#define N NODE_NONE
#define DF NODE_DEFINED
#define C NODE_CREATED
#define U NODE_UP
#define S NODE_STOPPED
#define F NODE_FAILED
#define R NODE_REMOVED
#define X (-1) /* refused */

/* Columns: define, up, fail, stop, remove. Written out a second time on
 * purpose: a change to a table must change both. */
static const int host_want[NODE_STATE_COUNT][NODE_EV_COUNT] = {
	[N] = { DF, X, X, X, R },  [DF] = { DF, U, X, S, R }, [C] = { X, X, X, X, X },
	[U] = { DF, U, X, S, R },  [S] = { DF, U, X, S, R },  [F] = { X, X, X, X, X },
	[R] = { DF, X, X, X, R },
};
static const int guest_want[NODE_STATE_COUNT][NODE_EV_COUNT] = {
	[N] = { C, X, X, X, R },  [DF] = { X, X, X, X, X }, [C] = { C, U, F, X, R },
	[U] = { C, U, F, S, R },  [S] = { C, U, F, S, R },  [F] = { C, U, F, X, R },
	[R] = { C, X, X, X, R },
};

static void table_check(enum node_kind kind, const int want[NODE_STATE_COUNT][NODE_EV_COUNT])
{
	for (int from = 0; from < NODE_STATE_COUNT; from++)
		for (int ev = 0; ev < NODE_EV_COUNT; ev++) {
			struct xerr e = { 0 };
			enum node_state to = (enum node_state)99;
			int rc = node_state_next(kind, "n1", from, ev, &to, &e);

			if (want[from][ev] == X) {
				cr_expect_eq(rc, -1, "%s + %s was allowed", node_state_name(from),
					     node_event_name(ev));
				cr_expect_eq(e.kind, XERR_CONFLICT);
				cr_expect(strstr(e.msg, "'n1'"), "%s", e.msg);
			} else {
				cr_expect_eq(rc, 0, "%s + %s: %s", node_state_name(from),
					     node_event_name(ev), e.msg);
				cr_expect_eq((int)to, want[from][ev], "%s + %s -> %s",
					     node_state_name(from), node_event_name(ev),
					     node_state_name(to));
			}
		}
}

Test(nodestate, every_cell_of_the_host_table)
{
	table_check(NODE_HOST, host_want);
}

Test(nodestate, every_cell_of_the_guest_table)
{
	table_check(NODE_GUEST, guest_want);
}

Test(nodestate, names_read_back_and_strangers_are_none)
{
	for (int s = 0; s < NODE_STATE_COUNT; s++)
		cr_expect_eq((int)node_state_parse(node_state_name(s)), s);
	cr_expect_eq(node_state_parse(NULL), NODE_NONE);
	cr_expect_eq(node_state_parse("running"), NODE_NONE);
}

TestSuite(nodestate_store, .init = scratch_setup, .fini = scratch_teardown);

static const char *guest_state(struct db *db, const char *name, char *buf, size_t len)
{
	struct db_guest *rows = NULL;
	struct xerr e = { 0 };
	size_t n = 0;

	snprintf(buf, len, "(none)");
	cr_assert_eq(db_guests_list(db, "demo", &rows, &n, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			snprintf(buf, len, "%s", rows[i].state);
	db_guests_free(rows, n);
	return buf;
}

/* A guest's life as up, stop, start and a failed start write it; a move
 * the table refuses leaves the row as it was. */
Test(nodestate_store, a_guest_moves_through_the_store)
{
	struct db *db = NULL;
	struct xerr e = { 0 };
	struct db_guest g = { .lab = "demo", .host = "h1", .name = "web1", .ip = "10.9.0.20",
			      .made_by = "spec" };
	char buf[32];

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo", "/x.yaml", "00", "10.9.0.0/24", "partial", &e), 0);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_UP, &e), -1, "up before it was made");
	cr_assert_str_eq(guest_state(db, "web1", buf, sizeof(buf)), "(none)");
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_DEFINE, &e), 0, "%s", e.msg);
	cr_assert_str_eq(guest_state(db, "web1", buf, sizeof(buf)), "created");
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_UP, &e), 0, "%s", e.msg);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_STOP, &e), 0, "%s", e.msg);
	cr_assert_str_eq(guest_state(db, "web1", buf, sizeof(buf)), "stopped");
	memset(&e, 0, sizeof(e));
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_REMOVE, &e), 0, "%s", e.msg);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_UP, &e), -1, "a removed guest came up");
	cr_assert_eq(e.kind, XERR_CONFLICT);
	cr_assert(strstr(e.msg, "guest 'web1' is not recorded in the store: it cannot come up"),
		  "%s", e.msg);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_DEFINE, &e), 0, "%s", e.msg);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_UP, &e), 0, "%s", e.msg);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_STOP, &e), 0, "%s", e.msg);
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_FAIL, &e), 0, "%s", e.msg);
	cr_assert_str_eq(guest_state(db, "web1", buf, sizeof(buf)), "failed");
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_STOP, &e), -1, "a failed guest has nothing to stop");
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_REMOVE, &e), 0, "%s", e.msg);
	/* Removed rows are hidden: it can be made again from scratch. */
	cr_assert_str_eq(guest_state(db, "web1", buf, sizeof(buf)), "(none)");
	cr_assert_eq(node_record_guest(db, &g, NODE_EV_DEFINE, &e), 0, "%s", e.msg);
	cr_assert_str_eq(guest_state(db, "web1", buf, sizeof(buf)), "created");
	db_close(db);
}

Test(nodestate_store, a_host_is_refused_up_before_it_is_defined)
{
	struct db *db = NULL;
	struct xerr e = { 0 };
	struct db_host h = { .lab = "demo", .name = "h1", .ip = "10.9.0.10" };
	struct db_host *rows = NULL;
	size_t n = 0;

	cr_assert_eq(db_open_default(&db, &e), 0, "%s", e.msg);
	cr_assert_eq(db_lab_upsert(db, "demo", "/x.yaml", "00", "10.9.0.0/24", "partial", &e), 0);
	cr_assert_eq(node_record_host(db, &h, NODE_EV_UP, &e), -1);
	cr_assert(strstr(e.msg, "host 'h1' is not recorded in the store: it cannot come up"), "%s", e.msg);
	cr_assert_eq(node_record_host(db, &h, NODE_EV_DEFINE, &e), 0, "%s", e.msg);
	cr_assert_eq(node_record_host(db, &h, NODE_EV_UP, &e), 0, "%s", e.msg);
	cr_assert_eq(db_hosts_list(db, "demo", &rows, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(rows[0].state, "up");
	db_hosts_free(rows, n);
	db_close(db);
}
