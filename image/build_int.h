/* What image/image_build.c and build_phases.c share: one build's state and
 * the steps the build's phases call. */
#ifndef XLAB_BUILD_INT_H
#define XLAB_BUILD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"
#include "sha256.h"
#include "treeparse.h"

#define ROOT_FS_SIZE "4G"
/* The files of images/ an image is made with (image_build.c names them). */
#define BUILD_N_SCRIPTS 5

/* `rootfs: debian` guests' packages (image_build.c). */
extern const char *const guest_debian_packages[2];

struct build {
	const struct image_recipe *r;
	bool force;
	char *store;      /* xlab_home()/images */
	char *final_dir;  /* store/NAME */
	char *tmp_dir;    /* store/.NAME.tmp-PID */
	char *tree;       /* tmp_dir/tree: the root filesystem being made */
	char *log_path;   /* store/NAME.build.log */
	int log_fd;
	char *scripts_dir;
	char *script_text[BUILD_N_SCRIPTS];
	char recipe_hash[SHA256_HEX_LEN + 1];
	char *kver;
	/* The lean kernel (none with Debian's): its key in the kernel cache,
	 * known before the build; its bzImage there and its release, after. */
	char lean_key[SHA256_HEX_LEN + 1];
	char *lean_bzimage, *lean_release;
	/* The agent put in the root (manifest "agent"), "" when none was. */
	char agent_sha256[SHA256_HEX_LEN + 1];
	char *busybox;    /* path of busybox-static inside the tree */
	char **applets;   /* NULL-terminated */
	int64_t t0, phase_t0;
	const char *phase;
};

/* image_build.c: progress, logged commands, the tree's removal, the mirror,
 * mmdebstrap, the image's scripts and its busybox archives. */
void phase_begin(struct build *b, const char *phase, const char *what);
int phase_end(struct build *b, struct xerr *e);
int run_logged(struct build *b, char *const argv[], char *const env[], struct xerr *e);
int remove_tree(const char *dir, struct xerr *e);
char *debian_mirror(void);
int mmdebstrap_run(struct build *b, const char *const *packages, size_t n, const char *dir,
		   const char *mirror, struct xerr *e);
const char *script(const struct build *b, const char *name);
int dom0_initrd_make(const struct build *b, const char *out, struct xerr *e);
int guest_initrd_make(const struct build *b, const char *out, struct xerr *e);
int guest_tar_make(const struct build *b, const char *out, struct xerr *e);
int guest_ext4_make(struct build *b, const char *tar, const char *out, struct xerr *e);

/* build_phases.c: the phases after the bootstrap, in the order they run. */
int customize(struct build *b, struct xerr *e);
int guest_debian(struct build *b, struct xerr *e);
int boot_files(struct build *b, struct xerr *e);
int facts_read(const struct build *b, struct dpkg_facts *f, struct xerr *e);
int root_disk(struct build *b, struct xerr *e);
int manifest_write(struct build *b, const struct dpkg_facts *f, struct xerr *e);

#endif
