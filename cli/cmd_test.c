/* xlab test LAB|FILE: run the spec's tests again on a lab that is up, as a
 * new run in the store. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "lab.h"
#include "labtest.h"
#include "lifecycle.h"
#include "paths.h"
#include "plan.h"
#include "run.h"
#include "spec.h"
#include "util.h"

int cmd_test(int argc, char **argv, struct xerr *e)
{
	_cleanup_free_ char *lab = NULL, *home = NULL;
	char store_id[XLAB_STORE_ID_LEN + 1];
	struct db *db = NULL;
	struct db_lab *l = NULL;
	struct spec *s = NULL;
	struct spec_diags diags = { 0 };
	struct plan *p = NULL;
	struct lab_dirs dirs = { 0 };
	struct run r;
	bool started = false;
	int rc = -1;

	if (argc != 2)
		return cmd_usage_error(e, "test", "expected one lab name or spec file");
	if (lab_name_from_arg(argv[1], &lab, e) < 0 || db_open_default(&db, e) < 0)
		goto out;
	if (lab_require(db, lab, &l, e) < 0)
		goto out;
	if (lab_state_parse(l->state) != LAB_UP) {
		xerr_set(e, XERR_FAIL, "lab '%s' is not up; `xlab up FILE` first", lab);
		goto out;
	}
	/* The spec the lab was made from, unless a file was named. */
	if (spec_load(strchr(argv[1], '/') || strstr(argv[1], ".y") ? argv[1] : l->spec_path, &s,
		      &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		goto out;
	}
	if (!s->n_tests) {
		printf("lab '%s' has no tests in %s\n", lab, s->path);
		rc = 0;
		goto out;
	}
	if (xlab_home(&home, e) < 0 || lab_dirs_get(lab, &dirs, e) < 0 ||
	    xlab_store_id(store_id, e) < 0)
		goto out;
	{
		struct plan_env env = {
			.state_dir = dirs.dir, .accel = "qemu", .subnet = l->subnet,
			.store_id = store_id,
		};

		if (plan_build(s, &env, &p, e) < 0)
			goto out;
	}
	if (run_begin(&r, db, lab, "test", s->sha256, e) < 0)
		goto out;
	started = true;
	rc = labtest_run_all(s, p, &dirs, &r, e);
out:
	if (started)
		run_end(&r, rc == 0 ? "ok" : "failed", rc == 0 ? NULL : e->msg);
	plan_free(p);
	lab_dirs_free(&dirs);
	spec_diags_free(&diags);
	spec_free(s);
	db_lab_free(l);
	db_close(db);
	return rc;
}
