/* The image store: dom0 images per Xen version under xlab_home()/images. */
#ifndef XLAB_IMAGE_H
#define XLAB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct image_file {
	char *path;   /* relative to the image directory, e.g. "root.qcow2" */
	char sha256[65];
};

struct image {
	char *name;            /* "xen-4.17" */
	char *dir;             /* absolute image directory */
	char *xen_version;     /* "4.17.5" as packaged */
	char *kernel_version;  /* "6.1.0-37-amd64" */
	char *suite;           /* "bookworm" */
	char *built;           /* ISO 8601 */
	char **packages;       /* NULL-terminated */
	struct image_file *files;
	size_t n_files;
	char manifest_sha256[65];
	/* A derived image (`image build --from`): its base and the hypervisor
	 * it was given; all NULL for an image built from Debian. */
	char *base;
	char *base_manifest_sha256;
	char *hv_source, *hv_changeset, *hv_config_sha256;
	/* A whole Xen from source: the version of the dom0 tools built with
	 * the hypervisor (manifest "tools"), NULL when they are Debian's. */
	char *tools_version;
	/* The sha256 of the agent at DOM0_AGENT_PATH in its root (manifest
	 * "agent"), NULL when it holds none. */
	char *agent_sha256;
};

/* Name for a spec's `xen:` value: "4.17" -> "xen-4.17". */
char *image_name_for_xen(const char *xen);
/* Loads images/NAME/manifest.json. A missing image gives an error that says
 * how to get it (`xlab image build NAME`). */
int image_open(const char *name, struct image **out, struct xerr *e);
/* Re-hashes every file against the manifest; a mismatch names the file. */
int image_verify(const struct image *img, struct xerr *e);
/* The sha256 the manifest gives a file of the image ("root.qcow2"); ""
 * when it lists no such file. */
const char *image_file_sha256(const struct image *img, const char *rel);
/* Absolute path of a file of the image ("root.qcow2", "boot/xen.gz"). */
char *image_path(const struct image *img, const char *rel);
void image_free(struct image *img);

/* What `xlab image build NAME` can build: an image, its Debian suite and
 * its kernel: xlab's lean one (image/kernelbuild.h), or Debian's stock
 * kernel for those who test the distribution's on purpose. */
struct image_recipe {
	const char *name;
	const char *suite;
	bool debian_kernel;
};
extern const struct image_recipe image_recipes[];
extern const size_t image_n_recipes;
/* Whether the image's dom0 kernel is xlab's lean one, which mounts its
 * root with no initrd: its hosts boot with QEMU loading Xen and the kernel
 * directly (labs/plan.h, plan_env.direct_boot). By name: the image in the
 * store, else the recipe of that name, else false. */
bool image_boots_direct(const struct image *img);
bool image_name_boots_direct(const char *name);
/* Whether image_recipes has name; their names, comma-separated (allocated). */
bool image_recipe_known(const char *name);
char *image_recipe_names(void);
/* True for a store name: [a-z0-9][a-z0-9.-]{0,62}. */
bool image_name_valid(const char *name);
/* $XLAB_IMAGES, else xlab_home()/images (created): see xlab_images_dir. */
int image_store_dir(char **out, struct xerr *e);
/* The names of the images in the store, sorted (NULL-terminated, strv_free). */
int image_store_names(char ***out, struct xerr *e);
/* Parses manifest bytes of an image in `dir` (no file is read). */
int image_manifest_parse(const char *json, size_t len, const char *dir,
			 struct image **out, struct xerr *e);
/* Loads DIR/manifest.json from any directory (a store entry or one being
 * imported); checks nothing about the name. */
int image_open_dir(const char *dir, struct image **out, struct xerr *e);
/* Like image_verify without the size+mtime cache: every byte is re-hashed.
 * For images that do not come from the store yet. */
int image_verify_full(const struct image *img, struct xerr *e);
/* Fails naming the lab when a lab's host disk is backed by a file inside
 * image `name` (checked before rm and before replacing with --force). */
int image_check_unused(const char *name, struct xerr *e);

/* Puts a finished image directory tmp_dir (inside store) in place as
 * store/name, replacing an older one only when no lab uses it. */
int image_swap_in(const char *store, const char *name, const char *tmp_dir, struct xerr *e);

/* Subcommands of `xlab image`, each (argc, argv) from the subcommand name. */
int image_cmd_build(int argc, char **argv, struct xerr *e);
int image_cmd_list(int argc, char **argv, struct xerr *e);
int image_cmd_inspect(int argc, char **argv, struct xerr *e);
int image_cmd_rm(int argc, char **argv, struct xerr *e);
int image_cmd_fetch(int argc, char **argv, struct xerr *e);
int image_cmd_import(int argc, char **argv, struct xerr *e);
int image_cmd_export(int argc, char **argv, struct xerr *e);
/* `xlab image`: dispatches to the subcommands above (cmd_image.c). */
int cmd_image(int argc, char **argv, struct xerr *e);

#endif
