/* One up/down per lab at a time, and lab names from arguments. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scratch.h"
#include "util.h"

TestSuite(lab, .init = scratch_setup, .fini = scratch_teardown);

Test(lab, a_second_locker_is_refused_at_once_naming_the_holder)
{
	struct xerr e = { 0 };
	char want[64];
	int fd = lab_lock("demo", "up", &e);
	int64_t t0;

	cr_assert_geq(fd, 0, "%s", e.msg);
	t0 = now_ms();
	cr_assert_eq(lab_lock("demo", "down", &e), -1);
	cr_assert_lt(now_ms() - t0, 1000);
	cr_assert_eq(e.kind, XERR_CONFLICT, "a held lab is a conflict, not %s", xerr_kind_name(e.kind));
	snprintf(want, sizeof(want), "pid %d (xlab up)", (int)getpid());
	cr_assert_not_null(strstr(e.msg, want), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "lab 'demo' is busy"), "%s", e.msg);
	/* Another lab is not affected. */
	int other = lab_lock("other", "up", &e);
	cr_assert_geq(other, 0, "%s", e.msg);
	lab_unlock(other);
	lab_unlock(fd);
	fd = lab_lock("demo", "down", &e);
	cr_assert_geq(fd, 0, "free again after unlock: %s", e.msg);
	lab_unlock(fd);
}

Test(lab, the_kernel_releases_the_lock_of_a_dead_holder)
{
	struct xerr e = { 0 };
	int status, fd;
	pid_t pid = fork();

	if (pid == 0) {
		struct xerr ce = { 0 };

		/* Dies holding the lock, as a kill -9'd `xlab up` would. */
		_exit(lab_lock("demo", "up", &ce) >= 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(WEXITSTATUS(status), 0);
	fd = lab_lock("demo", "up", &e);
	cr_assert_geq(fd, 0, "%s", e.msg);
	lab_unlock(fd);
}

Test(lab, names_from_arguments)
{
	struct xerr e = { 0 };
	char *lab = NULL;
	_cleanup_free_ char *ref = xasprintf("%s/examples/reference.yaml",
					     getenv("XLAB_SOURCE_DIR") ?: ".");

	cr_assert_eq(lab_name_from_arg("demo", &lab, &e), 0);
	cr_assert_str_eq(lab, "demo");
	free(lab);
	cr_assert_eq(lab_name_from_arg(ref, &lab, &e), 0, "%s", e.msg);
	cr_assert_str_eq(lab, "demo", "the spec's lab: name");
	free(lab);
	cr_assert_eq(lab_name_from_arg("../etc", &lab, &e), -1);
	cr_assert_eq(e.kind, XERR_USAGE);
	cr_assert_eq(lab_name_from_arg("Demo;rm", &lab, &e), -1);
	cr_assert_not_null(strstr(e.msg, "neither a lab name nor a spec file"), "%s", e.msg);
}

/* up records the hosts' accelerator; guests made by hand later are planned
 * for it (shadow paging under TCG only). Nothing recorded reads as TCG. */
Test(lab, accelerator_recorded_by_up)
{
	struct lab_dirs d;
	struct xerr e = { 0 };

	cr_assert_eq(lab_dirs_get("acc", &d, &e), 0, "%s", e.msg);
	cr_assert_str_eq(lab_accel(&d), "qemu");
	cr_assert_eq(lab_accel_record(&d, "kvm", &e), 0, "%s", e.msg);
	cr_assert_str_eq(lab_accel(&d), "kvm");
	cr_assert_eq(lab_accel_record(&d, "qemu", &e), 0, "%s", e.msg);
	cr_assert_str_eq(lab_accel(&d), "qemu");
	lab_dirs_free(&d);
}
