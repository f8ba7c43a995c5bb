/* libFuzzer harness: the image archive reader behind `xlab image import` and
 * `xlab image fetch` unpacks archives nobody vouches for yet; any bytes
 * (tar, gzip, broken both ways) must unpack below the staging directory or
 * give an error, never a crash, a leak, a hang or a file outside it. */
#include <archive.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_archive.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[] = "/tmp/xlab-fuzz-archive-XXXXXX";

static void cleanup(void)
{
	struct xerr e = { 0 };

	rm_rf(base, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct archive *in = archive_read_new();
	struct xerr e = { 0 };
	char stage[sizeof(base) + 8];
	int fd;

	if (!ready) {
		if (!mkdtemp(base))
			abort();
		atexit(cleanup);
		ready = 1;
	}
	/* Staging is the only directory the reader may write to: base itself
	 * must stay holding nothing but it. */
	snprintf(stage, sizeof(stage), "%s/s", base);
	if (mkdir(stage, 0700) < 0 || (fd = open(stage, O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	if (archive_read_open_memory(in, data, size) == ARCHIVE_OK)
		image_archive_unpack(in, "fuzz.tar", fd, 1 << 20, &e);
	archive_read_free(in);
	close(fd);
	if (rm_rf(stage, &e) < 0 || rmdir(base) < 0 || mkdir(base, 0700) < 0)
		abort(); /* something was made next to the staging directory */
	return 0;
}
