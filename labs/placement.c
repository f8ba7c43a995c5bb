#include "placement.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static uint64_t left(const struct place_server *s)
{
	return s->mem_free > s->mem_used ? s->mem_free - s->mem_used : 0;
}

static uint64_t disk_left(const struct place_server *s)
{
	return s->disk_free > s->disk_used ? s->disk_free - s->disk_used : 0;
}

static void gib(uint64_t b, char out[16])
{
	snprintf(out, 16, "%.1fG", (double)b / (1u << 30));
}

/* "\n  local: 3.0G of memory, 40.2G of disk left (2 placed)" per server. */
static char *figures(const struct place_server *s, size_t ns, bool disk)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < ns; i++) {
		char m[16], d[16];

		gib(left(&s[i]), m);
		gib(disk_left(&s[i]), d);
		buf_printf(&b, "\n  %s: %s of memory%s%s left (%d placed)", s[i].name, m,
			   disk ? ", disk " : "", disk ? d : "", s[i].placed);
	}
	return buf_steal(&b);
}

/* The server with the most memory left that can take mem and disk, or the
 * most-left one whatever it can take when any; ns when none is given. */
static size_t most_left(const struct place_server *s, size_t ns, uint64_t mem, uint64_t disk,
			bool any)
{
	size_t best = ns;

	for (size_t i = 0; i < ns; i++) {
		if (!any && (left(&s[i]) < mem || disk_left(&s[i]) < disk))
			continue;
		if (best == ns || left(&s[i]) > left(&s[best]))
			best = i;
	}
	return best;
}

static void take(struct place_server *s, uint64_t mem, uint64_t disk)
{
	s->mem_used += mem;
	s->disk_used += disk;
	s->placed++;
}

int place_copies(struct place_server *s, size_t ns, size_t n, uint64_t mem, uint64_t disk,
		 bool overcommit, size_t *where, struct xerr *e)
{
	if (ns == 0)
		return xerr_set(e, XERR_USAGE, "no server to place copies on");
	for (size_t i = 0; i < n; i++) {
		size_t k = most_left(s, ns, mem, disk, false);

		if (k == ns && overcommit)
			k = most_left(s, ns, mem, disk, true);
		if (k == ns) {
			_cleanup_free_ char *fig = figures(s, ns, true);
			char m[16], d[16];

			gib(mem, m);
			gib(disk, d);
			return xerr_set(e, XERR_FAIL,
					"%zu copies do not fit on these servers: copy %zu of %zu needs %s "
					"of memory and %s of disk, and no server has that left:%s\n"
					"%zu fit; use fewer copies, more servers (--servers), or "
					"--overcommit",
					n, i + 1, n, m, d, fig, i);
		}
		take(&s[k], mem, disk);
		where[i] = k;
	}
	return 0;
}

int place_hosts(struct place_server *s, size_t ns, const char *const *names, const uint64_t *mem,
		size_t n, size_t *where, struct xerr *e)
{
	uint64_t total = 0;
	size_t k, *order;

	if (ns == 0)
		return xerr_set(e, XERR_USAGE, "no server to place hosts on");
	for (size_t i = 0; i < n; i++)
		total += mem[i];
	k = most_left(s, ns, total, 0, false);
	if (k < ns) {
		for (size_t i = 0; i < n; i++) {
			take(&s[k], mem[i], 0);
			where[i] = k;
		}
		return 0;
	}
	/* Largest first: the big hosts find room while there is most. */
	order = xcalloc(n + 1, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && mem[order[j]] > mem[order[j - 1]]; j--) {
			size_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		size_t h = order[i];

		k = most_left(s, ns, mem[h], 0, false);
		if (k == ns) {
			_cleanup_free_ char *fig = figures(s, ns, false);
			char need[16], all[16];

			gib(mem[h], need);
			gib(total, all);
			free(order);
			return xerr_set(e, XERR_FAIL,
					"the lab's hosts (%s of memory in all) do not fit on these "
					"servers: host '%s' needs %s and no server has that left:%s",
					all, names[h], need, fig);
		}
		take(&s[k], mem[h], 0);
		where[h] = k;
	}
	free(order);
	return 0;
}
