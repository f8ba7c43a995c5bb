/* The image store: manifests, verification, the store's names. The
 * commands on it (list, inspect, rm) are in image_cmd.c. */
#include "image.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernelbuild.h"
#include "names.h"
#include "paths.h"
#include "sha256.h"
#include "util.h"

#define MANIFEST_MAX (1 << 20)
#define VERIFIED_FILE ".verified"
/* File timestamps come from a coarse clock, so a file written in the same
 * tick as it was hashed can change without its mtime moving ("racy git").
 * Only files older than this at hashing time are trusted by size+mtime. */
#define RACY_NS (2LL * 1000000000LL)

char *image_name_for_xen(const char *xen)
{
	return xasprintf("xen-%s", xen);
}

bool image_name_valid(const char *name)
{
	return names_image_valid(name);
}

int image_store_dir(char **out, struct xerr *e)
{
	return xlab_images_dir(out, e);
}

const char *image_file_sha256(const struct image *img, const char *rel)
{
	for (size_t i = 0; i < img->n_files; i++)
		if (strcmp(img->files[i].path, rel) == 0)
			return img->files[i].sha256;
	return "";
}

char *image_path(const struct image *img, const char *rel)
{
	return xasprintf("%s/%s", img->dir, rel);
}

void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->name);
	free(img->dir);
	free(img->xen_version);
	free(img->kernel_version);
	free(img->suite);
	free(img->built);
	strv_free(img->packages);
	for (size_t i = 0; i < img->n_files; i++)
		free(img->files[i].path);
	free(img->files);
	free(img->base);
	free(img->base_manifest_sha256);
	free(img->hv_source);
	free(img->hv_changeset);
	free(img->hv_config_sha256);
	free(img->tools_version);
	free(img->agent_sha256);
	free(img);
}

/* A manifest's file names are joined to the image directory: they must stay
 * inside it. */
static bool relpath_ok(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/' || strlen(p) > PATH_MAX / 2)
		return false;
	while (*s) {
		const char *end = strchrnul(s, '/');
		size_t n = (size_t)(end - s);

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s = *end ? end + 1 : end;
		if (*end && !*s)
			return false;
	}
	return true;
}

static int get_str(json_object *root, const char *key, char **out, struct xerr *e)
{
	json_object *v;

	if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_string))
		return xerr_set(e, XERR_FAIL, "manifest: \"%s\" must be a string", key);
	*out = xstrdup(json_object_get_string(v));
	return 0;
}

/* An optional string inside an optional object: NULL when either is absent. */
static char *opt_str(json_object *root, const char *obj, const char *key)
{
	json_object *o, *v;

	if (!json_object_object_get_ex(root, obj, &o) || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return xstrdup(json_object_get_string(v));
}

static void parse_derived(json_object *root, struct image *img)
{
	img->base = opt_str(root, "base", "name");
	img->base_manifest_sha256 = opt_str(root, "base", "manifest_sha256");
	img->hv_source = opt_str(root, "hypervisor", "source");
	img->hv_changeset = opt_str(root, "hypervisor", "changeset");
	img->hv_config_sha256 = opt_str(root, "hypervisor", "config_sha256");
	img->tools_version = opt_str(root, "tools", "version");
}

/* The agent its build put in the root: a digest or nothing (up then pushes). */
static void parse_agent(json_object *root, struct image *img)
{
	img->agent_sha256 = opt_str(root, "agent", "sha256");
	if (img->agent_sha256 && !sha256_hex_valid(img->agent_sha256)) {
		free(img->agent_sha256);
		img->agent_sha256 = NULL;
	}
}

static int parse_packages(json_object *root, struct image *img, struct xerr *e)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(root, "packages", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return xerr_set(e, XERR_FAIL, "manifest: \"packages\" must be an array of strings");
	n = json_object_array_length(arr);
	img->packages = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(p, json_type_string))
			return xerr_set(e, XERR_FAIL,
					"manifest: \"packages\"[%zu] must be a string", i);
		img->packages[i] = xstrdup(json_object_get_string(p));
	}
	return 0;
}

static int parse_files(json_object *root, struct image *img, struct xerr *e)
{
	json_object *files;

	if (!json_object_object_get_ex(root, "files", &files) ||
	    !json_object_is_type(files, json_type_object))
		return xerr_set(e, XERR_FAIL,
				"manifest: \"files\" must be an object of path: sha256");
	img->files = xcalloc((size_t)json_object_object_length(files) + 1, sizeof(*img->files));
	json_object_object_foreach(files, key, val) {
		struct image_file *f = &img->files[img->n_files];
		const char *hex = json_object_get_string(val);

		if (!relpath_ok(key))
			return xerr_set(e, XERR_FAIL,
					"manifest: file \"%s\" is not a path inside the image", key);
		if (!json_object_is_type(val, json_type_string) || !sha256_hex_valid(hex))
			return xerr_set(e, XERR_FAIL,
					"manifest: file \"%s\" needs a sha256 of 64 hex digits", key);
		f->path = xstrdup(key);
		for (int i = 0; i < SHA256_HEX_LEN; i++)
			f->sha256[i] = (char)((hex[i] >= 'A' && hex[i] <= 'F') ? hex[i] + 32 : hex[i]);
		f->sha256[SHA256_HEX_LEN] = '\0';
		img->n_files++;
	}
	if (img->n_files == 0)
		return xerr_set(e, XERR_FAIL, "manifest: \"files\" is empty");
	return 0;
}

int image_manifest_parse(const char *json, size_t len, const char *dir,
			 struct image **out, struct xerr *e)
{
	json_tokener *tok = json_tokener_new();
	json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	struct image *img = xcalloc(1, sizeof(*img));
	int rc = -1;

	json_tokener_free(tok);
	while (root && end < len && strchr(" \t\r\n", json[end]) && json[end])
		end++;
	if (!root || jerr != json_tokener_success || end < len) {
		xerr_set(e, XERR_FAIL, "manifest is not valid JSON: %s",
			 root ? "data after the object" :
			 jerr == json_tokener_continue ? "unexpected end" :
			 json_tokener_error_desc(jerr));
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		xerr_set(e, XERR_FAIL, "manifest must be a JSON object");
		goto out;
	}
	if (get_str(root, "name", &img->name, e) < 0 ||
	    get_str(root, "xen_version", &img->xen_version, e) < 0 ||
	    get_str(root, "kernel_version", &img->kernel_version, e) < 0 ||
	    get_str(root, "suite", &img->suite, e) < 0 ||
	    get_str(root, "built", &img->built, e) < 0 ||
	    parse_packages(root, img, e) < 0 || parse_files(root, img, e) < 0)
		goto out;
	parse_derived(root, img);
	parse_agent(root, img);
	if (!image_name_valid(img->name)) {
		xerr_set(e, XERR_FAIL,
			 "manifest: name \"%s\" is not a valid image name ([a-z0-9][a-z0-9.-]{0,62})",
			 img->name);
		goto out;
	}
	img->dir = xstrdup(dir ? dir : "");
	sha256_hex(json, len, img->manifest_sha256);
	*out = steal_ptr(img);
	rc = 0;
out:
	json_object_put(root);
	image_free(img);
	return rc;
}

int image_open_dir(const char *dir, struct image **out, struct xerr *e)
{
	_cleanup_free_ char *path = xasprintf("%s/manifest.json", dir);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;

	if (file_read_all(path, MANIFEST_MAX, &data, &len, e) < 0)
		return -1;
	if (image_manifest_parse(data, len, dir, out, e) < 0)
		return xerr_prefix(e, "%s", path);
	return 0;
}

const struct image_recipe image_recipes[] = {
	{ "xen-4.17", "bookworm", false },
	{ "xen-4.20", "trixie", false },
	{ "xen-4.17-debian", "bookworm", true },
	{ "xen-4.20-debian", "trixie", true },
};
const size_t image_n_recipes = ARRAY_SIZE(image_recipes);

bool image_recipe_known(const char *name)
{
	for (size_t i = 0; i < image_n_recipes; i++)
		if (name && strcmp(name, image_recipes[i].name) == 0)
			return true;
	return false;
}

bool image_boots_direct(const struct image *img)
{
	static const char suffix[] = KERNEL_RELEASE_SUFFIX;
	size_t n = img->kernel_version ? strlen(img->kernel_version) : 0;

	return n > strlen(suffix) && strcmp(img->kernel_version + n - strlen(suffix), suffix) == 0;
}

bool image_name_boots_direct(const char *name)
{
	struct image *img = NULL;
	struct xerr ignore = { 0 };
	bool direct;

	if (image_open(name, &img, &ignore) == 0) {
		direct = image_boots_direct(img);
		image_free(img);
		return direct;
	}
	for (size_t i = 0; i < image_n_recipes; i++)
		if (strcmp(name, image_recipes[i].name) == 0)
			return !image_recipes[i].debian_kernel;
	return false;
}

char *image_recipe_names(void)
{
	struct buf names = { 0 };

	for (size_t i = 0; i < image_n_recipes; i++)
		buf_printf(&names, "%s%s", i ? ", " : "", image_recipes[i].name);
	return buf_steal(&names);
}

/* How to get the image: build it when a recipe exists, else name the
 * images there are (a spec's `xen: "4.2"` has no xen-4.2 to build). */
static int image_missing(const char *name, const char *store, struct xerr *e)
{
	_cleanup_free_ char *recipes = NULL, *have = NULL;
	_cleanup_strv_ char **names = NULL;
	struct xerr ne = { 0 };

	if (image_recipe_known(name))
		return xerr_set(e, XERR_FAIL,
				"image '%s' is not in the store (%s); build it with `xlab image build %s` "
				"or fetch one with `xlab image fetch URL --sha256 HEX`",
				name, store, name);
	recipes = image_recipe_names();
	if (image_store_names(&names, &ne) == 0) {
		struct buf b = { 0 };

		for (char **n = names; *n; n++)
			buf_printf(&b, "%s%s", n == names ? "" : ", ", *n);
		have = b.data ? buf_steal(&b) : NULL;
	}
	return xerr_set(e, XERR_FAIL,
			"image '%s' is not in the store (%s) and xlab has no recipe for it: the "
			"store has %s; `xlab image build` makes %s, or a Xen Debian does not ship "
			"from its source (`xlab image build %s --from xen-4.20 --xen-source "
			"TARBALL`); or fetch or import one as '%s' (`xlab image fetch`, `xlab image "
			"import`)",
			name, store, have ? have : "no images", recipes, name, name);
}

int image_open(const char *name, struct image **out, struct xerr *e)
{
	_cleanup_free_ char *store = NULL, *dir = NULL, *manifest = NULL;
	struct image *img = NULL;

	if (!image_name_valid(name))
		return xerr_set(e, XERR_USAGE,
				"'%s' is not a valid image name ([a-z0-9][a-z0-9.-]{0,62})",
				name ? name : "");
	if (image_store_dir(&store, e) < 0)
		return -1;
	dir = xasprintf("%s/%s", store, name);
	manifest = xasprintf("%s/manifest.json", dir);
	if (!path_exists(manifest))
		return image_missing(name, store, e);
	if (image_open_dir(dir, &img, e) < 0)
		return -1;
	if (strcmp(img->name, name) != 0) {
		xerr_set(e, XERR_FAIL,
			 "%s names image '%s', not '%s'; re-import it with `xlab image import %s --name %s --force`",
			 manifest, img->name, name, dir, name);
		image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

/* --- verification, with a size+mtime cache in DIR/.verified --- */

static json_object *cache_load(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/" VERIFIED_FILE, dir);
	json_object *root = json_object_from_file(path);

	if (root && !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		root = NULL;
	}
	return root ? root : json_object_new_object();
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static bool cache_hit(json_object *cache, const char *rel, const struct stat *st, char out[65])
{
	json_object *ent, *size, *mtime, *sha;

	if (!json_object_object_get_ex(cache, rel, &ent) ||
	    !json_object_object_get_ex(ent, "size", &size) ||
	    !json_object_object_get_ex(ent, "mtime_ns", &mtime) ||
	    !json_object_object_get_ex(ent, "sha256", &sha))
		return false;
	if (json_object_get_int64(size) != (int64_t)st->st_size ||
	    json_object_get_int64(mtime) != ts_ns(&st->st_mtim) ||
	    !sha256_hex_valid(json_object_get_string(sha)))
		return false;
	memcpy(out, json_object_get_string(sha), 65);
	return true;
}

static void cache_put(json_object *cache, const char *rel, const struct stat *st,
		      const char *sha, int64_t hashed_at)
{
	json_object *ent;

	if (ts_ns(&st->st_mtim) > hashed_at - RACY_NS) {
		json_object_object_del(cache, rel);
		return;
	}
	ent = json_object_new_object();
	json_object_object_add(ent, "size", json_object_new_int64((int64_t)st->st_size));
	json_object_object_add(ent, "mtime_ns", json_object_new_int64(ts_ns(&st->st_mtim)));
	json_object_object_add(ent, "sha256", json_object_new_string(sha));
	json_object_object_add(cache, rel, ent);
}

/* The cache only saves time: failing to write it (a read-only store) is not
 * an error. */
static void cache_save(const char *dir, json_object *cache)
{
	_cleanup_free_ char *path = xasprintf("%s/" VERIFIED_FILE, dir);
	const char *s = json_object_to_json_string_ext(cache, JSON_C_TO_STRING_PLAIN);
	struct xerr ignored = { 0 };

	file_write_atomic(path, s, strlen(s), 0644, &ignored);
}

static int verify_one(const struct image *img, const struct image_file *f,
		      json_object *cache, struct xerr *e)
{
	_cleanup_free_ char *path = image_path(img, f->path);
	char actual[SHA256_HEX_LEN + 1];
	struct timespec now;
	struct stat st;

	if (lstat(path, &st) < 0)
		return xerr_errno(e, XERR_IO,
				  "image '%s': file %s is missing; rebuild (`xlab image build %s`) "
				  "or refetch the image", img->name, f->path, img->name);
	if (!S_ISREG(st.st_mode))
		return xerr_set(e, XERR_FAIL, "image '%s': %s is not a regular file",
				img->name, f->path);
	if (!cache || !cache_hit(cache, f->path, &st, actual)) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (sha256_file_hex(path, actual, e) < 0)
			return -1;
		if (cache)
			cache_put(cache, f->path, &st, actual, ts_ns(&now));
	}
	if (strcmp(actual, f->sha256) != 0)
		return xerr_set(e, XERR_FAIL,
				"image '%s': file %s is corrupted (sha256 %s, manifest says %s); "
				"rebuild it with `xlab image build %s` or refetch it",
				img->name, f->path, actual, f->sha256, img->name);
	return 0;
}

static int verify(const struct image *img, bool use_cache, struct xerr *e)
{
	json_object *cache = use_cache ? cache_load(img->dir) : NULL;
	int rc = 0;

	for (size_t i = 0; i < img->n_files && rc == 0; i++)
		rc = verify_one(img, &img->files[i], cache, e);
	if (cache) {
		cache_save(img->dir, cache);
		json_object_put(cache);
	}
	return rc;
}

int image_verify(const struct image *img, struct xerr *e)
{
	return verify(img, true, e);
}

int image_verify_full(const struct image *img, struct xerr *e)
{
	return verify(img, false, e);
}

/* --- list --- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Store entries, sorted; names starting with '.' are work in progress, and
 * only directories are images (NAME.build.log lies beside its image). */
int image_store_names(char ***out, struct xerr *e)
{
	_cleanup_free_ char *store = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (image_store_dir(&store, e) < 0)
		return -1;
	d = opendir(store);
	if (!d)
		return xerr_errno(e, XERR_IO, "cannot read %s", store);
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || !image_name_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		xgrow((void **)&names, &cap, n + 1, sizeof(char *));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	xgrow((void **)&names, &cap, n + 1, sizeof(char *));
	names[n] = NULL;
	qsort(names, n, sizeof(char *), name_cmp);
	*out = names;
	return 0;
}


int image_swap_in(const char *store, const char *name, const char *tmp_dir, struct xerr *e)
{
	_cleanup_free_ char *final = xasprintf("%s/%s", store, name);
	_cleanup_free_ char *old = xasprintf("%s/.%s.old-%d", store, name, (int)getpid());
	bool had_old = path_exists(final);

	if (had_old) {
		if (image_check_unused(name, e) < 0)
			return -1;
		if (rename(final, old) < 0)
			return xerr_errno(e, XERR_IO, "cannot move old %s aside", final);
	}
	if (rename(tmp_dir, final) < 0) {
		xerr_errno(e, XERR_IO, "cannot put the image in place at %s", final);
		if (had_old && rename(old, final) < 0)
			xerr_prefix(e, "old image left at %s", old);
		return -1;
	}
	if (had_old) {
		struct xerr ignore = { 0 };

		rm_rf(old, &ignore);
	}
	return 0;
}
