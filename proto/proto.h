/* xlab-agent protocol v1, defined once for both ends: one JSON request per
 * line in ({"v":1,"id":N,"op":NAME,"args":{...}}), one JSON response per line
 * out ({"v":1,"id":N,"ok":true,"result":{...}} or {"v":1,"id":N,"ok":false,
 * "error":{"code":NAME,"message":TEXT}}). The agent decodes requests and
 * encodes responses, the controller the other way round, with this codec
 * only. Pure code (no I/O), so the unit tests and the fuzzer reach all of it
 * without a dom0. */
#ifndef XLAB_AGENT_PROTO_H
#define XLAB_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

#define AGENT_PROTO_VERSION 1
#define AGENT_VERSION "0.1.0"
/* Requests carry an xl config at most; anything longer is not ours. */
#define AGENT_LINE_MAX (1024 * 1024)
/* Answers carry up to a 1 MiB console tail, which JSON may write six times
 * longer (\u00XX for each control byte): the SSH channel's own limit. */
#define AGENT_RESP_MAX (16 * 1024 * 1024)
/* Ids are JSON numbers: keep them exact in any reader (2^53). */
#define AGENT_ID_MAX ((int64_t)1 << 53)
#define AGENT_OP_MAX 63

/* Errors on the wire: the ops fail with a struct xerr whose kind travels as
 * one of these names in {"error":{"code":NAME,...}}; the controller turns the
 * name back into the kind. Kinds without a name of their own go as "efail". */
#define AGENT_ERRCODES(X)                  \
	X(XERR_FAIL, "efail")              \
	X(XERR_USAGE, "einval")            \
	X(XERR_NOTFOUND, "enoent")         \
	X(XERR_PROTO, "eproto")            \
	X(XERR_TIMEOUT, "etimeout")        \
	X(XERR_CONFLICT, "ebusy")          \
	X(XERR_IO, "eio")                  \
	X(XERR_INTERRUPTED, "eintr")

const char *agent_errc_name(enum xerr_kind kind);
/* The kind a wire name stands for; XERR_FAIL for a name this side does not know. */
enum xerr_kind agent_errc_kind(const char *name);

/* Every operation the agent answers: the name the code uses and the name on
 * the wire. Neither end spells a wire name anywhere else. */
#define AGENT_OPS(X)                                  \
	X(HELLO, "hello")                             \
	X(FACTS, "facts")                             \
	X(RUN, "run")                                 \
	X(STORAGE_INIT, "storage.init")               \
	X(STORAGE_LV_CREATE, "storage.lv_create")     \
	X(STORAGE_LV_REMOVE, "storage.lv_remove")     \
	X(STORAGE_LV_EXTEND, "storage.lv_extend")     \
	X(STORAGE_LVS, "storage.lvs")                 \
	X(STORAGE_VG_EXTEND, "storage.vg_extend")     \
	X(STORAGE_VG_REDUCE, "storage.vg_reduce")     \
	X(STORAGE_DISK_ADD, "storage.disk_add")       \
	X(STORAGE_DISK_REMOVE, "storage.disk_remove") \
	X(GUEST_CREATE, "guest.create")               \
	X(GUEST_DESTROY, "guest.destroy")             \
	X(GUEST_LIST, "guest.list")                   \
	X(GUEST_START, "guest.start")                 \
	X(GUESTS_SHUTDOWN, "guests.shutdown")         \
	X(GUEST_CONSOLE, "guest.console")             \
	X(GUEST_WAIT_CONSOLE, "guest.wait_console")   \
	X(GUEST_MIGRATE, "guest.migrate")             \
	X(GUEST_CHECK, "guest.check")                 \
	X(HOST_CHECK, "host.check")

/* Every request argument's key: the controller writes them and the agent's
 * ops read them by these names only. */
#define AGENT_ARG_ACTION         "action"
#define AGENT_ARG_ARGV           "argv"
#define AGENT_ARG_DATA_SERIAL    "data_serial"
#define AGENT_ARG_DEVICE         "device"
#define AGENT_ARG_DOMAINS        "domains"
#define AGENT_ARG_EXTRA_SERIALS  "extra_serials"
#define AGENT_ARG_IP             "ip"
#define AGENT_ARG_LVS            "lvs"
#define AGENT_ARG_MAX_BYTES      "max_bytes"
#define AGENT_ARG_NAME           "name"
#define AGENT_ARG_PREFER_SHADOW  "prefer_shadow"
#define AGENT_ARG_REMOVE_LV      "remove_lv"
#define AGENT_ARG_ROOTFS         "rootfs"
#define AGENT_ARG_ROUND          "round"
#define AGENT_ARG_ROUNDS_OF      "rounds_of"
#define AGENT_ARG_SERIAL         "serial"
#define AGENT_ARG_SHARED_CREATE  "shared_create"
#define AGENT_ARG_SHARED_SERIAL  "shared_serial"
#define AGENT_ARG_SHARED_VG      "shared_vg"
#define AGENT_ARG_SIZE_BYTES     "size_bytes"
#define AGENT_ARG_SWAP_BYTES     "swap_bytes"
#define AGENT_ARG_TEXT           "text"
#define AGENT_ARG_TIMEOUT_S      "timeout_s"
#define AGENT_ARG_TO             "to"
#define AGENT_ARG_TYPE           "type"
#define AGENT_ARG_VG             "vg"
#define AGENT_ARG_VGS            "vgs"
#define AGENT_ARG_XL_CFG         "xl_cfg"

/* Every result key: the agent's ops write them and the controller reads
 * them by these names only. (LVM's report rows inside `pvs`, `vgs` and
 * `lvs` keep LVM's own field names.) */
#define AGENT_RES_ADDED             "added"
#define AGENT_RES_ALREADY           "already"
#define AGENT_RES_CFG               "cfg"
#define AGENT_RES_CONSOLE_LOG       "console_log"
#define AGENT_RES_CREATED           "created"
#define AGENT_RES_DESTROYED         "destroyed"
#define AGENT_RES_DEVICE            "device"
#define AGENT_RES_DOMID             "domid"
#define AGENT_RES_ELAPSED_MS        "elapsed_ms"
#define AGENT_RES_FINDINGS          "findings"
#define AGENT_RES_FOUND             "found"
#define AGENT_RES_FREE_BYTES        "free_bytes"
#define AGENT_RES_FREE_MEMORY       "free_memory"
#define AGENT_RES_FS_MADE           "fs_made"
#define AGENT_RES_GUEST_SEES_BYTES  "guest_sees_bytes"
#define AGENT_RES_GUESTS            "guests"
#define AGENT_RES_HVM               "hvm"
#define AGENT_RES_KERNEL_VERSION    "kernel_version"
#define AGENT_RES_LV_CREATED        "lv_created"
#define AGENT_RES_LV_PATH           "lv_path"
#define AGENT_RES_LV_REMOVED        "lv_removed"
#define AGENT_RES_LVS               "lvs"
#define AGENT_RES_MEMORY_KIB        "memory_kib"
#define AGENT_RES_MOVED_BYTES       "moved_bytes"
#define AGENT_RES_MS                "ms"
#define AGENT_RES_NAME              "name"
#define AGENT_RES_NR_CPUS           "nr_cpus"
#define AGENT_RES_OK                "ok"
#define AGENT_RES_OPS               "ops"
#define AGENT_RES_OUTPUT            "output"
#define AGENT_RES_PASSED            "passed"
#define AGENT_RES_PROTO             "proto"
#define AGENT_RES_PVS               "pvs"
#define AGENT_RES_REMOVED           "removed"
#define AGENT_RES_ROUND             "round"
#define AGENT_RES_SHA256            "sha256"
#define AGENT_RES_SHA256_MS         "sha256_ms"
#define AGENT_RES_SHARED_CREATED    "shared_created"
#define AGENT_RES_SHARED_VG         "shared_vg"
#define AGENT_RES_SIZE              "size"
#define AGENT_RES_SIZE_BEFORE       "size_before"
#define AGENT_RES_SIZE_BYTES        "size_bytes"
#define AGENT_RES_SSH_HOST_KEY      "ssh_host_key"
#define AGENT_RES_STATE             "state"
#define AGENT_RES_STATUS            "status"
#define AGENT_RES_STDERR            "stderr"
#define AGENT_RES_STDOUT            "stdout"
#define AGENT_RES_STEP              "step"
#define AGENT_RES_STEPS             "steps"
#define AGENT_RES_TEXT              "text"
#define AGENT_RES_TIME_S            "time_s"
#define AGENT_RES_TIMED_OUT         "timed_out"
#define AGENT_RES_TOTAL_MEMORY      "total_memory"
#define AGENT_RES_TYPE              "type"
#define AGENT_RES_VCPUS             "vcpus"
#define AGENT_RES_VERSION           "version"
#define AGENT_RES_VG                "vg"
#define AGENT_RES_VGS               "vgs"
#define AGENT_RES_VIRT_CAPS         "virt_caps"
#define AGENT_RES_WALL_MS           "wall_ms"
#define AGENT_RES_XEN_CAPS          "xen_caps"
#define AGENT_RES_XEN_VERSION       "xen_version"
#define AGENT_RES_XL_SAID           "xl_said"
/* `run` says whether it cut stdout (stderr) in "stdout" (stderr) + this. */
#define AGENT_RES_TRUNCATED_SUFFIX  "_truncated"

enum agent_op_id {
#define X(id, name) AGENT_OP_##id,
	AGENT_OPS(X)
#undef X
	AGENT_OP_COUNT
};

/* The wire name of an op ("?" for an id out of range). */
const char *agent_op_name(enum agent_op_id op);
/* The op a wire name stands for; -1 when no op has that name. */
int agent_op_lookup(const char *name);

struct agent_req {
	int64_t id;     /* -1 when the line gave no usable id */
	char op[AGENT_OP_MAX + 1];
	struct json_object *args; /* owned; always an object */
};

/* Decodes one line (without its newline). On failure returns -1 with
 * e->kind = XERR_PROTO; req->id is still set when the id itself was valid,
 * so the error can be matched to its request. */
int agent_req_decode(const char *line, size_t len, struct agent_req *req, struct xerr *e);
void agent_req_free(struct agent_req *req);

/* Response lines, newline-terminated, malloc'd. `result` is consumed (NULL
 * gives an empty object). id < 0 is sent as null. */
char *agent_resp_ok(int64_t id, struct json_object *result);
char *agent_resp_err(int64_t id, enum xerr_kind kind, const char *message);

/* An operation: validates its own args; fills *result (an object) or returns
 * -1 with an error whose kind says what went wrong. */
typedef int (*agent_op_fn)(struct json_object *args, struct json_object **result,
			   struct xerr *e);

/* Decodes a line, runs its op from `ops` (indexed by enum agent_op_id; a
 * NULL entry is an op this agent does not answer), and returns the response
 * line. Never fails: every problem becomes an error response. */
char *agent_dispatch(const agent_op_fn ops[AGENT_OP_COUNT], const char *line, size_t len);

/* The controller's end. A request line for op (args consumed, NULL gives
 * {}), newline-terminated, malloc'd. */
char *agent_req_encode(int64_t id, enum agent_op_id op, struct json_object *args);
/* Decodes the response to request `id`, strictly: one JSON object of this
 * protocol version answering that id, "ok" a boolean, then an object
 * "result" or an "error" with a known shape. On ok sets *result (the
 * caller puts it). An error response returns -1 with XERR_REMOTE, e->remote
 * the kind the agent gave and its message; anything malformed returns -1
 * with XERR_PROTO. */
int agent_resp_decode(const char *line, size_t len, int64_t id, struct json_object **result,
		      struct xerr *e);
/* The same for the answer to "hello", of any version: the envelope stays
 * the same across versions so that an agent from another xlab can still say
 * which protocol it speaks (its result's "proto"), and be replaced. */
int agent_hello_decode(const char *line, size_t len, int64_t id, struct json_object **result,
		       struct xerr *e);

#endif
