#include "args.h"

#include <string.h>

#include "proto.h"
#include "util.h"

static struct json_object *arg_get(struct json_object *args, const char *key)
{
	struct json_object *v = NULL;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int arg_missing(const char *key, bool required, struct xerr *e)
{
	if (required)
		return xerr_set(e, XERR_USAGE, "missing argument \"%s\"", key);
	return 0;
}

static bool str_clean(struct json_object *v)
{
	return strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

int arg_str(struct json_object *args, const char *key, bool required, const char **out,
	    struct xerr *e)
{
	struct json_object *v = arg_get(args, key);

	*out = NULL;
	if (!v)
		return arg_missing(key, required, e);
	if (!json_object_is_type(v, json_type_string) || !str_clean(v))
		return xerr_set(e, XERR_USAGE, "argument \"%s\" must be a string", key);
	*out = json_object_get_string(v);
	return 0;
}

int arg_int(struct json_object *args, const char *key, bool required, int64_t def, int64_t min,
	    int64_t max, int64_t *out, struct xerr *e)
{
	struct json_object *v = arg_get(args, key);
	int64_t n;

	*out = def;
	if (!v)
		return arg_missing(key, required, e);
	if (!json_object_is_type(v, json_type_int))
		return xerr_set(e, XERR_USAGE, "argument \"%s\" must be an integer", key);
	n = json_object_get_int64(v);
	/* A uint64 above INT64_MAX reads back saturated, so it fails here too. */
	if (n < min || n > max)
		return xerr_set(e, XERR_USAGE, "argument \"%s\" must be between %lld and %lld",
				key, (long long)min, (long long)max);
	*out = n;
	return 0;
}

int arg_bool(struct json_object *args, const char *key, bool def, bool *out, struct xerr *e)
{
	struct json_object *v = arg_get(args, key);

	*out = def;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return xerr_set(e, XERR_USAGE, "argument \"%s\" must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

int arg_strv(struct json_object *args, const char *key, bool required, size_t max, char ***out,
	     struct xerr *e)
{
	struct json_object *v = arg_get(args, key);
	char **strv;
	size_t n;

	*out = NULL;
	if (!v) {
		if (arg_missing(key, required, e) < 0)
			return -1;
		*out = xcalloc(1, sizeof(char *));
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return xerr_set(e, XERR_USAGE, "argument \"%s\" must be an array of strings", key);
	n = json_object_array_length(v);
	if (n > max)
		return xerr_set(e, XERR_USAGE, "argument \"%s\" has more than %zu entries", key,
				max);
	strv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(v, i);

		if (!json_object_is_type(s, json_type_string) || !str_clean(s)) {
			strv_free(strv);
			return xerr_set(e, XERR_USAGE, "argument \"%s\" must be an array of strings",
					key);
		}
		strv[i] = xstrdup(json_object_get_string(s));
	}
	*out = strv;
	return 0;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool chars_in(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!is_alnum(*s) && !strchr(extra, *s))
			return false;
	return true;
}

bool agent_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 && is_alnum(s[0]) && chars_in(s, "_.+-");
}

bool agent_serial_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 && chars_in(s, "_.-");
}

bool agent_dev_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 5 && n <= 255 && strncmp(s, "/dev/", 5) == 0 && chars_in(s + 5, "/_.-") &&
	       !strstr(s, "..") && !strstr(s, "//") && s[n - 1] != '/';
}

int arg_name(struct json_object *args, const char *key, const char **out, struct xerr *e)
{
	if (arg_str(args, key, true, out, e) < 0)
		return -1;
	if (!agent_name_valid(*out))
		return xerr_set(e, XERR_USAGE,
				"argument \"%s\" is not a valid name (letters, digits, _.+-; "
				"at most 64)", key);
	return 0;
}

int arg_dev(struct json_object *args, const char *key, const char **out, struct xerr *e)
{
	if (arg_str(args, key, true, out, e) < 0)
		return -1;
	if (!agent_dev_valid(*out))
		return xerr_set(e, XERR_USAGE, "argument \"%s\" is not a /dev path", key);
	return 0;
}
