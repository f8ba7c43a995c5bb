/* The config disk carries a host's private keys. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostprep.h"
#include "util.h"

Test(hostprep, config_disk_is_private_from_birth_and_follows_no_planted_link)
{
	char dir[] = "/tmp/xlab-hostprep-XXXXXX";
	_cleanup_free_ char *disk = NULL, *planted = NULL, *victim = NULL, *data = NULL;
	const struct config_entry ents[] = {
		{ "hostname", "h1\n", 3, 0644 },
		{ "ssh_host_ed25519_key", "PRIVATE", 7, 0600 },
	};
	struct xerr e = { 0 };
	struct stat st;
	size_t len;
	mode_t old = umask(0);

	cr_assert_not_null(mkdtemp(dir));
	disk = xasprintf("%s/config.img", dir);
	victim = xasprintf("%s/victim", dir);
	/* The name the old code wrote through: a link there must not be used. */
	planted = xasprintf("%s/config.img.tmp", dir);
	cr_assert_eq(file_write_atomic(victim, "original", 8, 0644, &e), 0, "%s", e.msg);
	cr_assert_eq(symlink(victim, planted), 0);
	cr_assert_eq(config_disk_write(disk, ents, 2, &e), 0, "%s", e.msg);
	umask(old);
	cr_assert_eq(stat(disk, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "config disk is %04o", st.st_mode & 07777);
	cr_assert_eq(file_read_all(victim, 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert(len == 8 && !memcmp(data, "original", 8), "the planted link was followed");
	free(data);
	data = NULL;
	cr_assert_eq(file_read_all(disk, 0, &data, &len, &e), 0, "%s", e.msg);
	cr_assert(memmem(data, len, "PRIVATE", 7), "the key is not in the disk");
	rm_rf(dir, &e);
}
