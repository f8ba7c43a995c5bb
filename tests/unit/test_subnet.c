#include <criterion/criterion.h>
#include <string.h>

#include "subnet.h"

Test(subnet, parse_and_format)
{
	struct cidr c;
	struct xerr e = { 0 };
	char out[20];

	cr_assert_eq(cidr_parse("10.80.0.0/24", &c, &e), 0);
	cr_assert_eq(c.addr, 0x0a500000u);
	cr_assert_eq(c.prefix, 24);
	cidr_format(&c, out, sizeof(out));
	cr_assert_str_eq(out, "10.80.0.0/24");
	cr_assert_eq(cidr_parse("10.80.0.1/24", &c, &e), -1);
	cr_assert(strstr(e.msg, "host bits"));
	cr_assert_eq(cidr_parse("10.80.0.0", &c, &e), -1);
	cr_assert_eq(cidr_parse("10.80.0.0/33", &c, &e), -1);
	cr_assert_eq(cidr_parse("300.1.1.0/24", &c, &e), -1);
}

Test(subnet, overlap)
{
	struct cidr a, b, c;
	struct xerr e = { 0 };

	cidr_parse("10.90.0.0/16", &a, &e);
	cidr_parse("10.90.7.0/24", &b, &e);
	cidr_parse("10.91.0.0/24", &c, &e);
	cr_assert(cidr_overlap(&a, &b));
	cr_assert(cidr_overlap(&b, &a));
	cr_assert(!cidr_overlap(&b, &c));
}

Test(subnet, allocation_is_deterministic_and_skips_taken)
{
	char first[20], again[20], next[20], other[20];
	struct xerr e = { 0 };

	cr_assert_eq(subnet_allocate("demo", NULL, 0, first, &e), 0);
	cr_assert_eq(subnet_allocate("demo", NULL, 0, again, &e), 0);
	cr_assert_str_eq(first, again);
	cr_assert_eq(strncmp(first, "10.90.", 6), 0);
	{
		char *used[] = { first };

		cr_assert_eq(subnet_allocate("demo", used, 1, next, &e), 0);
		cr_assert_str_neq(next, first);
	}
	{
		/* A wider subnet of another lab covers the whole pool. */
		char *used[] = { "10.90.0.0/16" };

		cr_assert_eq(subnet_allocate("demo", used, 1, other, &e), -1);
		cr_assert(strstr(e.msg, "no free /24"));
	}
}
