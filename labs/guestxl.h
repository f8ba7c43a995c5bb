/* `xlab guest create ... --from-xl FILE`: an existing xl.cfg adopted as a
 * hand-made guest. What xlab's guest model can honour is mapped onto the
 * spec_guest the KEY=VALUE arguments fill (so they can override it after);
 * everything else is refused with FILE:LINE and the key. Pure: the caller
 * reads the file. */
#ifndef XLAB_GUESTXL_H
#define XLAB_GUESTXL_H

#include "err.h"
#include "spec.h"

/* What the mapping checks the file against. */
struct guest_xl_env {
	const char *lab;       /* the MAC xlab gives a guest comes from lab and name */
	const char *vg;        /* the hosts' VG (storage.vg) */
	const char *shared_vg; /* storage.shared.vg, or NULL */
};

/* The swap LV's size when the file names NAME-swap as xvdb: xl.cfg has no
 * sizes, and `swap=SIZE` on the command line overrides it. */
#define GUEST_XL_SWAP_DEFAULT (64ull << 20)

/* Applies the xl.cfg text (read from path) to g, made by guest_args_init.
 * Errors have code 2 and start "PATH:LINE: ". */
int guest_xl_apply(struct spec_guest *g, const struct guest_xl_env *env, const char *path,
		   const char *text, struct xerr *e);

#endif
