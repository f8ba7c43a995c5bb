/* The ping probe against a real address (127.0.0.1, raw ICMP as root): it
 * records replies at its interval, and the gap computation on what it
 * recorded sees no downtime on a link that never went down. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include "migstat.h"
#include "probe.h"

Test(probe, loopback_replies)
{
	struct probe *p = NULL;
	struct xerr e = { 0 };
	int64_t t0, t1, *t = NULL, gap;
	size_t n, sent;

	cr_assert_eq(probe_start("127.0.0.1", 10, &p, &e), 0, "%s", e.msg);
	t0 = probe_now_us();
	usleep(500 * 1000);
	t1 = probe_now_us();
	n = probe_replies(p, &t);
	sent = probe_sent(p);
	cr_assert(probe_last_reply(p) > t0 - 1);
	probe_stop(p);
	/* 500 ms at 10 ms: about 50; scheduling under a sanitizer may lose a few. */
	cr_assert(sent >= 30 && sent <= 60, "sent %zu", sent);
	cr_assert(n >= 30 && n <= sent, "%zu replies of %zu", n, sent);
	for (size_t i = 1; i < n; i++)
		cr_assert(t[i] >= t[i - 1], "reply times are in order");
	gap = migstat_max_gap(t, n, t[0], t1);
	cr_assert(gap < 100 * 1000, "longest gap %lld us on loopback", (long long)gap);
	free(t);
}

Test(probe, bad_address)
{
	struct probe *p = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(probe_start("10.85.0.300", 10, &p, &e), -1);
	cr_assert_null(p);
}
