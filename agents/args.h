/* Reading and re-validating request arguments: the agent trusts nothing the
 * controller sends, so names become paths and argv only after these checks. */
#ifndef XLAB_AGENT_ARGS_H
#define XLAB_AGENT_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

/* *out points into args (valid while args lives); NULL when optional and
 * absent. Strings with embedded NUL bytes are refused. */
int arg_str(struct json_object *args, const char *key, bool required, const char **out,
	    struct xerr *e);
/* An integer in [min, max]; `def` when optional and absent. */
int arg_int(struct json_object *args, const char *key, bool required, int64_t def, int64_t min,
	    int64_t max, int64_t *out, struct xerr *e);
int arg_bool(struct json_object *args, const char *key, bool def, bool *out, struct xerr *e);
/* A NULL-terminated copy of an array of strings (at most `max` entries);
 * an empty array when optional and absent. Free with strv_free. */
int arg_strv(struct json_object *args, const char *key, bool required, size_t max, char ***out,
	     struct xerr *e);

/* An LVM VG/LV or xl domain name that is also safe as a file name:
 * [A-Za-z0-9][A-Za-z0-9_.+-]{0,63}. */
bool agent_name_valid(const char *s);
/* A virtio disk serial: [A-Za-z0-9_.-]{1,64}. */
bool agent_serial_valid(const char *s);
/* A block device path: /dev/ followed by [A-Za-z0-9/_.-], no "..", no "//". */
bool agent_dev_valid(const char *s);

/* Checked name arguments: arg_str + the validator, with an einval message. */
int arg_name(struct json_object *args, const char *key, const char **out, struct xerr *e);
int arg_dev(struct json_object *args, const char *key, const char **out, struct xerr *e);

#endif
