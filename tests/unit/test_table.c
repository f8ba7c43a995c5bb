/* Text tables: columns as wide as their widest cell, headers included. */
#include <criterion/criterion.h>
#include <string.h>

#include "table.h"
#include "util.h"

static char *render(const struct table *t)
{
	struct buf b = { 0 };

	table_render(t, &b);
	return buf_steal(&b);
}

Test(table, long_values_keep_columns_aligned)
{
	struct table *t = TABLE_NEW("  ", "NAME", "STATE", "IP");
	_cleanup_free_ char *out = NULL;

	TABLE_ROW(t, "h1", "up", "10.0.0.10");
	TABLE_ROW(t, "a-rather-long-host-name-of-forty-characters", NULL, "10.0.0.11");
	out = render(t);
	cr_expect_str_eq(out, "  NAME                                         STATE  IP\n"
			      "  h1                                           up     10.0.0.10\n"
			      "  a-rather-long-host-name-of-forty-characters  -      10.0.0.11\n");
	cr_expect_eq(table_rows(t), 2);
	table_free(t);
}

Test(table, right_aligned_numbers_and_no_trailing_spaces)
{
	struct table *t = TABLE_NEW("", "ID", "LAB");
	_cleanup_free_ char *out = NULL;

	table_right(t, 0);
	TABLE_ROW(t, "7", "demo");
	TABLE_ROW(t, "1234", "x");
	out = render(t);
	cr_expect_str_eq(out, "  ID  LAB\n"
			      "   7  demo\n"
			      "1234  x\n");
	table_free(t);
}
