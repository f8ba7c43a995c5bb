/* `xlab image build NAME --from BASE --hypervisor PATH`: an image that is
 * BASE with another Xen hypervisor. Nothing else is rebuilt: the root disk,
 * kernel and initrd are BASE's (hard links in the store), boot/xen.gz is
 * the file handed in, and the manifest says what was replaced and from what,
 * so a lab of it records which hypervisor it ran. */
#include "image.h"

#include <archive.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "hvinfo.h"
#include "image_derive.h"
#include "image_whole.h"
#include "sha256.h"
#include "spawn.h"
#include "util.h"
#include "wholeplan.h"
#include "xenbuild.h"
#include "xentools.h"

/* A compressed hypervisor is a few MiB, unpacked tens at most. */
#define HV_FILE_MAX (64u << 20)
#define HV_UNPACKED_MAX (256u << 20)

/* Files a derived image takes from its base as they are (a whole Xen
 * makes its own root.qcow2, the first). */
static const char *const kept_files[] = { "root.qcow2", "boot/vmlinuz", "boot/initrd.img" };

/* xen.gz as GRUB reads it (gzio): gzip, or not compressed at all. */
static int hv_unpack(const char *data, size_t len, struct buf *out, struct xerr *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	char chunk[1 << 16];
	la_ssize_t got;
	int rc = -1;

	if (len >= 4 && memcmp(data, "\177ELF", 4) != 0 &&
	    !(len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)) {
		archive_read_free(a);
		return xerr_set(e, XERR_USAGE, "neither gzip nor a plain ELF file: GRUB's `multiboot` "
					       "reads those (xen/xen.gz, or xen/xen)");
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		xerr_set(e, XERR_USAGE, "cannot read it: %s", archive_error_string(a));
		goto out;
	}
	while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)got > HV_UNPACKED_MAX) {
			xerr_set(e, XERR_USAGE, "it unpacks to more than %u MiB: not a hypervisor",
				 HV_UNPACKED_MAX >> 20);
			goto out;
		}
		buf_append(out, chunk, (size_t)got);
	}
	if (got < 0) {
		xerr_set(e, XERR_USAGE, "cannot unpack it: %s", archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

/* The build tree around xen/xen.gz says what it is: include/xen/compile.h
 * (version, changeset, compiler) and .config (its Kconfig). */
static void hv_tree_read(const char *hv_path, struct hv_info *hv)
{
	_cleanup_free_ char *dir = xstrdup(hv_path), *compile_h = NULL, *config = NULL;
	_cleanup_free_ char *text = NULL;
	struct xerr ignore = { 0 };
	char *slash = strrchr(dir, '/');
	size_t len;

	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	compile_h = xasprintf("%s/include/xen/compile.h", dir);
	config = xasprintf("%s/.config", dir);
	if (file_read_all(compile_h, 1 << 20, &text, &len, &ignore) == 0)
		hv_compile_h_parse(text, hv, &ignore);
	if (path_exists(config))
		sha256_file_hex(config, hv->config_sha256, &ignore);
}

struct derive {
	const char *name, *from, *hv_path;
	const char *xen_source;      /* what hv_path was built from, or NULL */
	char *const *kconfig;
	bool force;
	char *store, *tmp_dir, *final_dir;
	struct image *base;
	char *hv_data;
	size_t hv_len;
	char hv_sha256[SHA256_HEX_LEN + 1];
	struct hv_info hv;
	enum derive_kind kind;
	char source_mm[32];       /* the source's major.minor */
	struct xentools tools;    /* DERIVE_WHOLE: the built tools */
	struct whole_root whole;  /* and the root made with them */
	char root_sha256[SHA256_HEX_LEN + 1];
};

static int hv_load(struct derive *d, struct xerr *e)
{
	struct buf raw = { 0 };
	int rc;

	if (file_read_all(d->hv_path, HV_FILE_MAX, &d->hv_data, &d->hv_len, e) < 0)
		return xerr_prefix(e, "--hypervisor");
	rc = hv_unpack(d->hv_data, d->hv_len, &raw, e) < 0 ||
		     hv_image_check((unsigned char *)raw.data, raw.len, e) < 0 ?
		     -1 :
		     0;
	buf_free(&raw);
	if (rc < 0)
		return xerr_prefix(e, "--hypervisor %s", d->hv_path);
	sha256_hex(d->hv_data, d->hv_len, d->hv_sha256);
	hv_tree_read(d->hv_path, &d->hv);
	return 0;
}

/* The base's dom0 tools talk to the hypervisor through hypercalls whose
 * interface changes between major.minor releases. */
static int fit_check(const struct derive *d, struct xerr *e)
{
	if (d->kind == DERIVE_WHOLE)
		return 0;
	if (!*d->hv.version) {
		if (d->force) {
			fprintf(stderr, "xlab: warning: the version of %s is unknown (no "
					"include/xen/compile.h beside it); derived unchecked (--force)\n",
				d->hv_path);
			return 0;
		}
		return xerr_set(e, XERR_USAGE,
				"cannot tell which Xen %s is: no include/xen/compile.h beside it (a "
				"built xen.git tree's xen/ has one); --force derives it unchecked",
				d->hv_path);
	}
	if (hv_version_fits(d->base->xen_version, d->hv.version))
		return 0;
	if (d->force) {
		fprintf(stderr, "xlab: warning: Xen %s with the dom0 tools of %s (Xen %s) (--force)\n",
			d->hv.version, d->base->name, d->base->xen_version);
		return 0;
	}
	return xerr_set(e, XERR_USAGE,
			"%s is Xen %s, but %s's dom0 tools are Xen %s: tools and hypervisor must "
			"share major.minor; derive from an image of Xen %s, or --force",
			d->hv_path, d->hv.version, d->base->name, d->base->xen_version,
			d->hv.version);
}

/* A link in the same store costs nothing; a copy (reflinked where the
 * filesystem can) when the store spans filesystems. */
static int file_take(const char *from, const char *to, struct xerr *e)
{
	char *argv[] = { "cp", "--reflink=auto", "--sparse=always", "--", (char *)from,
			 (char *)to, NULL };
	struct spawn_result r;

	if (link(from, to) == 0)
		return 0;
	if (spawn_check(argv, NULL, &r, e) < 0)
		return xerr_prefix(e, "copying %s", from);
	spawn_result_free(&r);
	return 0;
}

static struct json_object *hypervisor_json(const struct derive *d)
{
	_cleanup_free_ char *abs = realpath(d->hv_path, NULL);
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "source", json_object_new_string(abs ? abs : d->hv_path));
	json_object_object_add(o, "sha256", json_object_new_string(d->hv_sha256));
	json_object_object_add(o, "version", json_object_new_string(d->hv.version));
	json_object_object_add(o, "changeset", json_object_new_string(d->hv.changeset));
	json_object_object_add(o, "compiler", json_object_new_string(d->hv.compiler));
	json_object_object_add(o, "config_sha256", json_object_new_string(d->hv.config_sha256));
	if (d->xen_source) {
		_cleanup_free_ char *src = realpath(d->xen_source, NULL);
		struct json_object *b = json_object_new_object(), *k = json_object_new_array();

		json_object_object_add(b, "source",
				       json_object_new_string(src ? src : d->xen_source));
		for (char *const *p = d->kconfig; p && *p; p++)
			json_object_array_add(k, json_object_new_string(*p));
		json_object_object_add(b, "kconfig", k);
		json_object_object_add(o, "built_from", b);
	}
	return o;
}

/* A whole Xen: its own root disk, the packages in it and the tools'
 * record. */
static void whole_manifest(const struct derive *d, struct json_object *m,
			   struct json_object *files, struct json_object *replaced)
{
	struct json_object *was = json_object_new_object(), *pk = json_object_new_array();
	const char *old_root = image_file_sha256(d->base, "root.qcow2");

	json_object_object_add(files, "root.qcow2", json_object_new_string(d->root_sha256));
	json_object_object_add(was, "was", json_object_new_string(old_root));
	json_object_object_add(was, "now", json_object_new_string(d->root_sha256));
	json_object_object_add(replaced, "root.qcow2", was);
	for (size_t i = 0; i < d->whole.n_packages; i++)
		json_object_array_add(pk, json_object_new_string(d->whole.packages[i]));
	json_object_object_add(m, "packages", pk);
	json_object_object_add(m, "tools", whole_tools_json(&d->tools, &d->whole, d->hv.version,
							      d->xen_source));
}

/* BASE's manifest with what changed: its name, time, version and
 * hypervisor file, and where it came from. */
static int manifest_derive(const struct derive *d, struct xerr *e)
{
	_cleanup_free_ char *src = xasprintf("%s/manifest.json", d->base->dir);
	_cleanup_free_ char *dst = xasprintf("%s/manifest.json", d->tmp_dir);
	char built[32];
	struct json_object *m = json_object_from_file(src), *files, *base, *replaced, *was;
	const char *old_sha = "";
	const char *text;
	int rc;

	now_iso8601(built);
	if (!m || !json_object_object_get_ex(m, "files", &files)) {
		json_object_put(m);
		return xerr_set(e, XERR_FAIL, "cannot read %s again", src);
	}
	old_sha = image_file_sha256(d->base, "boot/xen.gz");
	json_object_object_add(m, "name", json_object_new_string(d->name));
	json_object_object_add(m, "built", json_object_new_string(built));
	/* Unknown (--force): the base's version would be a claim nobody checked. */
	json_object_object_add(m, "xen_version",
			       json_object_new_string(*d->hv.version ? d->hv.version : "unknown"));
	json_object_object_add(files, "boot/xen.gz", json_object_new_string(d->hv_sha256));
	/* Not built from a recipe: `image build BASE` must never find it up to date. */
	json_object_object_del(m, "recipe");
	base = json_object_new_object();
	json_object_object_add(base, "name", json_object_new_string(d->base->name));
	json_object_object_add(base, "manifest_sha256",
			       json_object_new_string(d->base->manifest_sha256));
	json_object_object_add(base, "xen_version",
			       json_object_new_string(d->base->xen_version));
	json_object_object_add(m, "base", base);
	replaced = json_object_new_object();
	was = json_object_new_object();
	json_object_object_add(was, "was", json_object_new_string(old_sha));
	json_object_object_add(was, "now", json_object_new_string(d->hv_sha256));
	json_object_object_add(replaced, "boot/xen.gz", was);
	if (d->kind == DERIVE_WHOLE)
		whole_manifest(d, m, files, replaced);
	json_object_object_add(m, "replaced", replaced);
	json_object_object_add(m, "hypervisor", hypervisor_json(d));
	text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = file_write_atomic(dst, text, strlen(text), 0644, e);
	json_object_put(m);
	return rc;
}

static int whole_root(struct derive *d, struct xerr *e)
{
	_cleanup_free_ char *base_root = image_path(d->base, "root.qcow2");
	_cleanup_free_ char *work = xasprintf("%s/work", d->tmp_dir);
	_cleanup_free_ char *root = xasprintf("%s/root.qcow2", d->tmp_dir);
	struct xerr ignore = { 0 };
	int rc;

	rc = whole_root_make(base_root, &d->tools, d->source_mm, work, root, &d->whole, e);
	rm_rf(work, &ignore);
	if (rc < 0)
		return -1;
	return sha256_file_hex(root, d->root_sha256, e);
}

static int tree_make(struct derive *d, struct xerr *e)
{
	_cleanup_free_ char *boot = xasprintf("%s/boot", d->tmp_dir);
	_cleanup_free_ char *xen = xasprintf("%s/boot/xen.gz", d->tmp_dir);

	if (mkdir_p(boot, 0755, e) < 0)
		return -1;
	if (d->kind == DERIVE_WHOLE && whole_root(d, e) < 0)
		return -1;
	for (size_t i = d->kind == DERIVE_WHOLE ? 1 : 0; i < ARRAY_SIZE(kept_files); i++) {
		_cleanup_free_ char *from = image_path(d->base, kept_files[i]);
		_cleanup_free_ char *to = xasprintf("%s/%s", d->tmp_dir, kept_files[i]);

		if (file_take(from, to, e) < 0)
			return -1;
	}
	/* The bytes that were read and checked, not the path again. */
	if (file_write_atomic(xen, d->hv_data, d->hv_len, 0644, e) < 0)
		return -1;
	return manifest_derive(d, e);
}

/* The tools a manifest records are the ones built now (none for both). */
static bool tools_same(const struct derive *d, struct json_object *m)
{
	struct json_object *t, *k;

	if (!json_object_object_get_ex(m, "tools", &t))
		return d->kind != DERIVE_WHOLE;
	return d->kind == DERIVE_WHOLE && json_object_object_get_ex(t, "build", &k) &&
	       !strcmp(json_object_get_string(k), d->tools.key);
}

enum derived_state {
	DERIVED_OTHER,	   /* another image by that name: replaced only with --force */
	DERIVED_BASE_NEW,  /* this one, from an older build of its base: made again */
	DERIVED_UP_TO_DATE /* the same base, hypervisor (and tools): nothing to do */
};

/* What the image already stored under d->name is to this derive. A base
 * rebuilt since (`xlab image build xen-4.20` after a recipe change) leaves
 * its derived images behind; deriving the same again is their update, not
 * a clash with something else of that name. */
static enum derived_state derived_state(const struct derive *d)
{
	struct image *have = NULL;
	struct xerr ignore = { 0 };
	_cleanup_free_ char *mpath = xasprintf("%s/manifest.json", d->final_dir);
	struct json_object *m = json_object_from_file(mpath), *b, *v;
	enum derived_state st = DERIVED_OTHER;
	bool same_hv = false;

	if (m && json_object_object_get_ex(m, "base", &b) &&
	    json_object_object_get_ex(b, "name", &v) &&
	    !strcmp(json_object_get_string(v), d->from) && tools_same(d, m) &&
	    image_open_dir(d->final_dir, &have, &ignore) == 0) {
		same_hv = !strcmp(image_file_sha256(have, "boot/xen.gz"), d->hv_sha256);
		if (same_hv && json_object_object_get_ex(b, "manifest_sha256", &v) &&
		    !strcmp(json_object_get_string(v), d->base->manifest_sha256))
			st = DERIVED_UP_TO_DATE;
		else if (same_hv)
			st = DERIVED_BASE_NEW;
	}
	image_free(have);
	json_object_put(m);
	return st;
}

static int lock_take(const struct derive *d, int *fd, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/.%s.lock", d->store, d->name);

	if (mkdir_p(d->store, 0755, e) < 0)
		return -1;
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", p);
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0)
		return xerr_set(e, XERR_CONFLICT, "another build of image %s is running (%s)",
				d->name, p);
	return 0;
}

static int base_lock(const struct derive *d, int *fd, struct xerr *e)
{
	_cleanup_free_ char *p = xasprintf("%s/.%s.lock", d->store, d->from);

	if (mkdir_p(d->store, 0755, e) < 0)
		return -1;
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", p);
	if (flock(*fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	fprintf(stderr, "image %s: waiting for a build of %s to finish (%s)\n", d->name, d->from,
		p);
	if (flock(*fd, LOCK_SH) < 0)
		return xerr_errno(e, XERR_INTERRUPTED, "waiting for %s", p);
	return 0;
}

static int names_check(const struct derive *d, struct xerr *e)
{
	if (!image_name_valid(d->name))
		return xerr_set(e, XERR_USAGE, "'%s' is not an image name ([a-z0-9][a-z0-9.-]{0,62})",
				d->name);
	if (!strcmp(d->name, d->from))
		return xerr_set(e, XERR_USAGE, "an image cannot be derived from itself (%s)",
				d->name);
	if (image_recipe_known(d->name))
		return xerr_set(e, XERR_USAGE,
				"%s is the name of an image built from Debian; give the derived "
				"image a name of its own (e.g. %s-mine)", d->name, d->name);
	return 0;
}

/* Xen 4.22 deprecated shadow paging and its defconfig leaves it out; a
 * lab under TCG needs it (xlab runs PVH and HVM guests on shadow there, and
 * PV live migration needs its log-dirty mode), so say so, once, here. */
static void shadow_note(const struct derive *d, const char *xen_gz)
{
	static const char *const shadow[] = { "SHADOW_PAGING=y", NULL };
	_cleanup_free_ char *cfg = xstrdup(xen_gz), *text = NULL, *path = NULL;
	struct xerr ignore = { 0 };
	char *slash = strrchr(cfg, '/');
	size_t len;

	if (slash)
		*slash = '\0';
	path = xasprintf("%s/.config", slash ? cfg : ".");
	if (file_read_all(path, 4 << 20, &text, &len, &ignore) < 0 || !kconfig_unmet(text, shadow))
		return;
	fprintf(stderr, "image %s: note: this hypervisor has no shadow paging (not in Xen %s's "
			"defconfig): under TCG, PVH and HVM guests cannot run on it and PV guests "
			"cannot live-migrate; --kconfig SHADOW_PAGING=y builds it in\n",
		d->name, d->source_mm);
}

/* Which Xen the source is decides what is built: the hypervisor, or the
 * dom0 tools with it when the base's cannot drive it (wholeplan.c). */
static int source_build(struct derive *d, const struct derive_opts *o, char **built,
			struct xerr *e)
{
	struct derive_ask a = { .base_tools = d->base->xen_version, .source = d->source_mm,
				.tools = o->tools, .hypervisor_only = o->hypervisor_only,
				.force = o->force, .base_has_own_tools = d->base->tools_version != NULL };
	struct xenbuild_opts xo = { .source = o->xen_source,
				    .kconfig = (const char *const *)o->kconfig,
				    .tools_version = d->base->xen_version, .force = o->force };

	if (xen_source_version(o->xen_source, d->source_mm, sizeof(d->source_mm), e) < 0 ||
	    derive_kind_choose(&a, &d->kind, e) < 0)
		return -1;
	if (d->kind == DERIVE_WHOLE) {
		fprintf(stderr, "image %s: the source is Xen %s, %s's dom0 tools Xen %s: building "
				"the tools too, for its Debian %s dom0\n",
			d->name, d->source_mm, d->base->name, d->base->xen_version, d->base->suite);
		xo.tools_version = NULL;
	}
	if (xenbuild(&xo, built, e) < 0)
		return -1;
	d->hv_path = *built;
	shadow_note(d, *built);
	if (d->kind == DERIVE_WHOLE &&
	    xentools_build(o->xen_source, d->source_mm, d->base->suite, &d->tools, e) < 0)
		return -1;
	return 0;
}

/* `xen: "4.22"` boots the image named xen-4.22: it must be that Xen. */
static int name_fits(const struct derive *d, struct xerr *e)
{
	if (!*d->hv.version || image_name_version_fits(d->name, d->hv.version))
		return 0;
	if (d->force) {
		fprintf(stderr, "xlab: warning: image %s holds Xen %s (--force)\n", d->name,
			d->hv.version);
		return 0;
	}
	return xerr_set(e, XERR_USAGE,
			"an image named %s is what a spec's `xen: \"%s\"` boots, but this is Xen "
			"%s: name it otherwise, or --force", d->name, d->name + 4, d->hv.version);
}

int image_derive(const struct derive_opts *o, struct xerr *e)
{
	struct derive d = { .name = o->name, .from = o->from, .hv_path = o->hypervisor,
			    .xen_source = o->xen_source, .kconfig = o->kconfig, .force = o->force };
	_cleanup_free_ char *built = NULL;
	_cleanup_close_ int lock_fd = -1, base_fd = -1;
	int64_t t0 = now_ms();
	int rc = -1;

	/* The base stays as verified while its files are linked and its
	 * manifest read again: a build of it waits for this one. */
	if (names_check(&d, e) < 0 || image_store_dir(&d.store, e) < 0 ||
	    base_lock(&d, &base_fd, e) < 0 || image_open(d.from, &d.base, e) < 0)
		goto out;
	fprintf(stderr, "image %s: checking base %s\n", d.name, d.from);
	if (image_verify(d.base, e) < 0)
		goto out;
	if (o->xen_source && source_build(&d, o, &built, e) < 0)
		goto out;
	if (hv_load(&d, e) < 0 || fit_check(&d, e) < 0 || name_fits(&d, e) < 0 ||
	    lock_take(&d, &lock_fd, e) < 0)
		goto out;
	d.final_dir = xasprintf("%s/%s", d.store, d.name);
	if (path_exists(d.final_dir)) {
		enum derived_state st = derived_state(&d);

		if (st == DERIVED_UP_TO_DATE) {
			fprintf(stderr, "image %s is up to date (%s)\n", d.name, d.final_dir);
			rc = 0;
			goto out;
		}
		if (st == DERIVED_BASE_NEW) {
			fprintf(stderr, "image %s: %s was built again since: deriving it again\n",
				d.name, d.from);
		} else if (!d.force) {
			xerr_set(e, XERR_CONFLICT,
				 "image %s exists and is not %s with this hypervisor; --force "
				 "replaces it", d.name, d.from);
			goto out;
		}
	}
	d.tmp_dir = xasprintf("%s/.%s.tmp-%d", d.store, d.name, (int)getpid());
	if (tree_make(&d, e) < 0 || image_swap_in(d.store, d.name, d.tmp_dir, e) < 0) {
		struct xerr ignore = { 0 };

		rm_rf(d.tmp_dir, &ignore);
		xerr_prefix(e, "deriving image %s (nothing was kept)", d.name);
		goto out;
	}
	fprintf(stderr, "image %s: %s with Xen %s%s (%.12s) in %.1f s: %s\n", d.name, d.from,
		*d.hv.version ? d.hv.version : "of unknown version",
		d.kind == DERIVE_WHOLE ? ", hypervisor and dom0 tools," : "", d.hv_sha256,
		(double)(now_ms() - t0) / 1000.0, d.final_dir);
	rc = 0;
out:
	xentools_free(&d.tools);
	whole_root_free(&d.whole);
	image_free(d.base);
	free(d.hv_data);
	free(d.store);
	free(d.tmp_dir);
	free(d.final_dir);
	return rc;
}
