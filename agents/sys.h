/* What the ops share: where the agent keeps things in dom0, and running the
 * dom0 tools with their output captured (the agent's stdout is the protocol
 * channel, so no child may ever write to it). */
#ifndef XLAB_AGENT_SYS_H
#define XLAB_AGENT_SYS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "dom0paths.h"
#include "err.h"
#include "spawn.h"

#define AGENT_WORK_DIR "/var/lib/xlab-agent"
#define AGENT_TMP_DIR "/var/lib/xlab-agent/tmp"
#define AGENT_CFG_DIR "/etc/xen/xlab"
#define AGENT_LOG_DIR "/var/log/xlab"
/* The image's guest kit: busybox.tar, debian-SUITE.tar and debian.tar;
 * busybox.ext4, the busybox tree made into a small ext4 at image build
 * (images from before it have the tarball only). */
#define AGENT_GUEST_DIR DOM0_GUEST_DIR
#define AGENT_BUSYBOX_TAR AGENT_GUEST_DIR "/busybox.tar"
#define AGENT_BUSYBOX_EXT4 AGENT_GUEST_DIR "/busybox.ext4"

/* $XLAB_AGENT_PREFIX + the formatted absolute path: lets tests run the ops
 * that only touch files inside a scratch directory. */
char *agent_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* This binary's path (NULL when unreadable); *replaced: a push has put a
 * new file at that path since this one started. */
char *agent_self_path(bool *replaced);

enum {
	CMD_LVM = 1 << 0,     /* LVM tools: without udev, which dom0 may lack */
	CMD_ANY_EXIT = 1 << 1 /* a non-zero exit is a result, not an error */
};

/* xlab-init starts sshd before Xen's daemons and removes DOM0_XEN_STARTING
 * once xenstored and xenconsoled run (images/dom0-init.sh): waits for that,
 * once per agent. A dom0 whose init made no marker (an image from before it,
 * a test's stand-in) waits for nothing; one that waited in vain fails at
 * once from then on. agent_cmd calls it for xl and the xenstore tools,
 * xs_open for itself, storage.init and run before they answer. */
int xen_daemons_wait(struct xerr *e);
/* Runs argv with stdout and stderr captured; errors carry XERR_FAIL. */
int agent_cmd(char *const argv[], unsigned flags, int timeout_s, struct spawn_result *res,
	      struct xerr *e);
/* agent_cmd for `vgs|pvs|lvs --reportformat json --units b --nosuffix -o
 * fields [target]`, parsed into an array of rows. */
int lvm_report(const char *tool, const char *kind, const char *fields, const char *target,
	       struct json_object **rows, struct xerr *e);
/* The row whose `key` equals `value`, or NULL (borrowed). */
struct json_object *rows_find(struct json_object *rows, const char *key, const char *value);
const char *row_str(struct json_object *row, const char *key);
int64_t row_int(struct json_object *row, const char *key);

#endif
