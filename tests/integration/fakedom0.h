/* The dom0 ops against stand-ins for xl and LVM (test_agent_fake_tools.sh),
 * with the real tar, mkfs.ext4 and blkid, and the agent's files under
 * $XLAB_AGENT_PREFIX. What is checked is the agent's part: argv, order,
 * idempotency, the filesystem it makes and the console it copies. */
#ifndef XLAB_TEST_FAKEDOM0_H
#define XLAB_TEST_FAKEDOM0_H

#include <stddef.h>

#include <json-c/json.h>

#include "agentrun.h"

struct fake_dom0 {
	char *dir, *prefix, *state;
	char *env[5];
	struct agent_proc a;
	int next_id;
};

/* A scratch dom0 in a temporary directory (dir): the fake tools first on
 * PATH, disks vda-vdc under prefix's /sys/block, the guest kit's busybox.tar,
 * the tools' state in state; the agent started on it. There is one per test,
 * kept here rather than on the test's stack so that fake_dom0_cleanup still
 * finds it after a failed assertion has left the test. */
struct fake_dom0 *fake_dom0_start(void);
/* Ends the agent (asserting it exits 0) and removes dir. */
void fake_dom0_stop(struct fake_dom0 *f);
/* The suite's .fini: after a test that did not reach fake_dom0_stop, kills
 * the agent and removes dir, which ends the fake `xl console`s (they loop
 * while their domain's file is there); otherwise does nothing. Every test
 * file of fake dom0s declares
 *	TestSuite(agent_fake_dom0, .fini = fake_dom0_cleanup);
 * Should a test die with no .fini run (a timeout, a crash), the consoles
 * still end, when the test's process is gone; dir then stays. */
void fake_dom0_cleanup(void);
/* Sends {"v":1,"id":N,"op":op,"args":ARGS} and returns the response. */
struct json_object *fcall(struct fake_dom0 *f, const char *op, const char *args);
/* How many times needle occurs in the tools' call log. */
size_t count_calls(struct fake_dom0 *f, const char *needle);
/* Writes text to base+rel, making the folders on the way. */
void put_file(const char *base, const char *rel, const char *text);
/* argv's stdout (it must exit 0); free it. */
char *run_out(char *const argv[]);

#endif
