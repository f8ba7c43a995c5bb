/* What a Xen hypervisor binary handed to `xlab image build --hypervisor`
 * is: an x86 multiboot image, its version, changeset and configuration as
 * its build tree says them. Pure parsers, unit-tested without a build. */
#ifndef XLAB_HVINFO_H
#define XLAB_HVINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "sha256.h"

struct hv_info {
	char version[64];    /* "4.20.4"; "" when nothing said it */
	char changeset[128]; /* XEN_CHANGESET; "" when the build had none */
	char compiler[128];  /* XEN_COMPILER */
	char config_sha256[SHA256_HEX_LEN + 1]; /* of the build's .config; "" when none */
};

/* The bytes of a hypervisor (after gunzip) are an ELF whose first 32 KiB
 * hold a multiboot or multiboot2 header, as `make -C xen` leaves xen.gz's
 * contents on x86: what GRUB's `multiboot` loads. */
int hv_image_check(const unsigned char *p, size_t len, struct xerr *e);
/* XEN_VERSION, XEN_SUBVERSION, XEN_EXTRAVERSION, XEN_CHANGESET and
 * XEN_COMPILER from a build's include/xen/compile.h. */
int hv_compile_h_parse(const char *text, struct hv_info *out, struct xerr *e);
/* Whether a hypervisor of version hv runs with dom0 tools of version tools:
 * the same major.minor ("4.20.4" fits "4.20.4+63-g7abfd2bce2"). */
bool hv_version_fits(const char *tools, const char *hv);
/* "4.20" of "4.20.4..." into out (size n); false when v does not start
 * with MAJOR.MINOR. */
bool hv_major_minor(const char *v, char *out, size_t n);
/* Whether version a's major.minor is below b's ("4.17.5" < "4.20.4"),
 * compared as numbers; false when either does not parse. */
bool hv_older(const char *a, const char *b);

#endif
