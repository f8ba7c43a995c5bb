/* Xen's dom0 tools built from source (`image build --xen-source` of a Xen
 * no Debian image carries), in a build root of the base's Debian suite
 * (buildroot.c), configured so nothing is downloaded (wholeplan.c). The
 * installed tree is kept as a tar in the image store,
 * .xen-builds/tools-KEY/, KEY the sha256 of the source's digest, the
 * configure arguments and the build root's identity (suite, packages): an
 * unchanged rebuild is a lookup. */
#ifndef XLAB_XENTOOLS_H
#define XLAB_XENTOOLS_H

#include "err.h"
#include "sha256.h"

struct xentools {
	char key[SHA256_HEX_LEN + 1];
	char *dir;        /* store/.xen-builds/tools-KEY */
	char *tar;        /* dir/dist.tar: what `make dist-tools` installed */
	char *compiler;   /* the build root's gcc */
	char *suite;
	char **configure; /* the arguments it was configured with */
};

/* Builds (or finds) the tools of source, Xen major.minor mm, for a dom0 of
 * Debian suite. */
int xentools_build(const char *source, const char *mm, const char *suite, struct xentools *t,
		   struct xerr *e);
void xentools_free(struct xentools *t);

#endif
