/* Placement over servers: copies spread by memory left, a lab kept on one
 * server when it fits there, refusals with every server's figures. */
#include <criterion/criterion.h>
#include <string.h>

#include "placement.h"

#define G (1ull << 30)

/* Two equal servers (on the simulated pair both measure one machine): one
 * copy each, the first on the first listed. */
Test(placement, copies_spread_over_equal_servers)
{
	struct place_server s[] = { { .name = "local", .mem_free = 20 * G, .disk_free = 100 * G },
				    { .name = "box2", .mem_free = 20 * G, .disk_free = 100 * G } };
	size_t where[4];
	struct xerr e = { 0 };

	cr_assert_eq(place_copies(s, 2, 4, 3 * G, 2 * G, false, where, &e), 0, "%s", e.msg);
	cr_expect_eq(where[0], 0);
	cr_expect_eq(where[1], 1);
	cr_expect_eq(where[2], 0);
	cr_expect_eq(where[3], 1);
	cr_expect_eq(s[0].placed, 2);
	cr_expect_eq(s[1].mem_used, 6 * G);
}

/* Most memory left wins; a server without the disk for a copy is passed
 * over; when none can take one, the refusal gives every server's figures
 * and how many fit. */
Test(placement, copies_by_memory_left_and_refused_with_figures)
{
	struct place_server s[] = { { .name = "small", .mem_free = 4 * G, .disk_free = 100 * G },
				    { .name = "big", .mem_free = 10 * G, .disk_free = 100 * G },
				    { .name = "nodisk", .mem_free = 64 * G, .disk_free = 1 * G } };
	size_t where[5];
	struct xerr e = { 0 };

	cr_assert_eq(place_copies(s, 3, 5, 3 * G, 2 * G, false, where, &e), -1);
	cr_expect_eq(e.kind, XERR_FAIL);
	cr_expect(strstr(e.msg, "copy 5 of 5 needs 3.0G of memory and 2.0G of disk"), "%s", e.msg);
	cr_expect(strstr(e.msg, "\n  big: 1.0G of memory, disk 94.0G left (3 placed)"), "%s",
		  e.msg);
	cr_expect(strstr(e.msg, "\n  nodisk: 64.0G of memory, disk 1.0G left (0 placed)"),
		  "%s", e.msg);
	cr_expect(strstr(e.msg, "\n4 fit;"), "%s", e.msg);
	cr_expect_eq(where[0], 1);
	cr_expect_eq(where[1], 1);
	cr_expect_eq(where[2], 0);
	cr_expect_eq(where[3], 1);
}

Test(placement, overcommit_puts_the_rest_where_most_is_left)
{
	struct place_server s[] = { { .name = "a", .mem_free = 2 * G, .disk_free = 10 * G },
				    { .name = "b", .mem_free = 3 * G, .disk_free = 10 * G } };
	size_t where[3];
	struct xerr e = { 0 };

	cr_assert_eq(place_copies(s, 2, 3, 2 * G, 1 * G, true, where, &e), 0, "%s", e.msg);
	cr_expect_eq(where[0], 1);
	cr_expect_eq(where[1], 0);
	cr_expect_eq(where[2], 1);
}

/* A lab stays on one server when it fits there: the one with most left. */
Test(placement, a_lab_kept_whole_when_it_fits)
{
	struct place_server s[] = { { .name = "local", .mem_free = 4 * G },
				    { .name = "box2", .mem_free = 8 * G } };
	const char *names[] = { "h1", "h2", "h3" };
	uint64_t mem[] = { 2 * G, 2 * G, 2 * G };
	size_t where[3];
	struct xerr e = { 0 };

	cr_assert_eq(place_hosts(s, 2, names, mem, 3, where, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < 3; i++)
		cr_expect_eq(where[i], 1);
}

/* Too big for one: largest first, each where most is left; too big for
 * all: refused naming the host that found no room. */
Test(placement, a_lab_spread_when_no_server_holds_it)
{
	struct place_server s[] = { { .name = "local", .mem_free = 5 * G },
				    { .name = "box2", .mem_free = 4 * G } };
	const char *names[] = { "small", "big", "mid" };
	uint64_t mem[] = { 1 * G, 4 * G, 3 * G };
	size_t where[3];
	struct xerr e = { 0 };

	cr_assert_eq(place_hosts(s, 2, names, mem, 3, where, &e), 0, "%s", e.msg);
	cr_expect_eq(where[1], 0); /* big: local (5 left) */
	cr_expect_eq(where[2], 1); /* mid: box2 (4 left, local 1) */
	cr_expect_eq(where[0], 0); /* small: local and box2 both have 1: the first */
	s[0].mem_used = s[1].mem_used = 0;
	s[0].placed = s[1].placed = 0;
	/* big on local (1 left), small on box2 (1 left), no room for mid. */
	mem[0] = 3 * G;
	cr_assert_eq(place_hosts(s, 2, names, mem, 3, where, &e), -1);
	cr_expect(strstr(e.msg, "(10.0G of memory in all)"), "%s", e.msg);
	cr_expect(strstr(e.msg, "host 'mid' needs 3.0G"), "%s", e.msg);
	cr_expect(strstr(e.msg, "\n  box2: 1.0G of memory left (1 placed)"), "%s", e.msg);
}
