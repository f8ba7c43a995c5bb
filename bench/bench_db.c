/* sqlite under a burst: how many steps (begin + end, each its own write)
 * the store records per second, as `up` records them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	char dir[] = "/tmp/xlab-bench-db-XXXXXX";
	struct xerr e = { 0 };
	struct db *db = NULL;
	int64_t run, step, t0, ms;

	if (!mkdtemp(dir))
		return 1;
	_cleanup_free_ char *path = xasprintf("%s/xlab.db", dir);
	if (db_open(path, &db, &e) < 0 || db_run_begin(db, "bench", "up", NULL, &run, &e) < 0) {
		xerr_print(&e, "bench-db");
		return 1;
	}
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		if (db_step_begin(db, run, "bench.step", "h1", &step, &e) < 0 ||
		    db_step_end(db, step, "ok", NULL, &e) < 0) {
			xerr_print(&e, "bench-db");
			return 1;
		}
	}
	ms = now_ms() - t0;
	printf("%d steps (2 writes each) in %" PRId64 " ms: %.0f steps/s\n", n, ms,
	       ms ? n * 1000.0 / (double)ms : 0.0);
	db_close(db);
	rm_rf(dir, &e);
	return 0;
}
