#include "hvinfo.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The multiboot specifications: the header lies 4-byte aligned within the
 * first 8 KiB (multiboot 1), 8-byte aligned within the first 32 KiB
 * (multiboot 2). Xen carries both; xlab's grub.cfg boots it with
 * `multiboot`, version 1, so that header is the one required. */
#define MB1_MAGIC 0x1BADB002u
#define MB1_SEARCH 8192
#define MB2_MAGIC 0xE85250D6u
#define MB2_SEARCH 32768

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A multiboot 1 header's checksum makes magic + flags + checksum zero;
 * a multiboot 2 one's makes magic + arch + length + checksum zero. */
static bool mb_header_at(const unsigned char *p, size_t len, size_t off)
{
	if (off + 16 > len)
		return false;
	if (le32(p + off) == MB1_MAGIC && off < MB1_SEARCH)
		return (uint32_t)(le32(p + off) + le32(p + off + 4) + le32(p + off + 8)) == 0;
	if (le32(p + off) == MB2_MAGIC && off % 8 == 0)
		return (uint32_t)(le32(p + off) + le32(p + off + 4) + le32(p + off + 8) +
				  le32(p + off + 12)) == 0;
	return false;
}

int hv_image_check(const unsigned char *p, size_t len, struct xerr *e)
{
	if (len < 64 || memcmp(p, "\177ELF", 4) != 0)
		return xerr_set(e, XERR_USAGE, "not an ELF file (a Xen hypervisor is xen/xen.gz "
					       "of a built xen.git tree)");
	bool mb2 = false;

	for (size_t off = 0; off + 16 <= len && off < MB2_SEARCH; off += 4) {
		if (!mb_header_at(p, len, off))
			continue;
		if (le32(p + off) == MB1_MAGIC)
			return 0;
		mb2 = true;
	}
	if (mb2)
		return xerr_set(e, XERR_USAGE, "only a multiboot2 header: xlab boots Xen with GRUB's "
					       "`multiboot` (version 1), which Xen's x86 build has");
	return xerr_set(e, XERR_USAGE, "an ELF file without a multiboot header in its first "
				       "8 KiB: not an x86 Xen hypervisor GRUB can boot");
}

/* The value of `#define NAME VALUE` in text: a number or a C string. */
static bool define_get(const char *text, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l, *end;

		if (strncmp(p, "#define", 7) != 0 || !isspace((unsigned char)p[7]))
			continue;
		for (p += 7; *p == ' ' || *p == '\t'; p++)
			;
		if (strncmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '\t'))
			continue;
		for (p += nl; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '"') {
			end = strchr(++p, '"');
			if (!end)
				return false;
		} else {
			for (end = p; *end && !isspace((unsigned char)*end); end++)
				;
		}
		if ((size_t)(end - p) >= n)
			return false;
		memcpy(out, p, (size_t)(end - p));
		out[end - p] = '\0';
		return true;
	}
	return false;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int hv_compile_h_parse(const char *text, struct hv_info *out, struct xerr *e)
{
	char major[16], minor[16], extra[32] = "";

	if (!define_get(text, "XEN_VERSION", major, sizeof(major)) ||
	    !define_get(text, "XEN_SUBVERSION", minor, sizeof(minor)) || !all_digits(major) ||
	    !all_digits(minor))
		return xerr_set(e, XERR_USAGE,
				"no numeric XEN_VERSION and XEN_SUBVERSION in compile.h");
	define_get(text, "XEN_EXTRAVERSION", extra, sizeof(extra));
	snprintf(out->version, sizeof(out->version), "%s.%s%s", major, minor, extra);
	if (!define_get(text, "XEN_CHANGESET", out->changeset, sizeof(out->changeset)))
		out->changeset[0] = '\0';
	if (!define_get(text, "XEN_COMPILER", out->compiler, sizeof(out->compiler)))
		out->compiler[0] = '\0';
	return 0;
}

bool hv_major_minor(const char *v, char *out, size_t n)
{
	const char *p = v;
	size_t len;

	if (!v || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '.' || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	len = (size_t)(p - v);
	if (len >= n)
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

bool hv_version_fits(const char *tools, const char *hv)
{
	char a[32], b[32];

	return hv_major_minor(tools, a, sizeof(a)) && hv_major_minor(hv, b, sizeof(b)) &&
	       strcmp(a, b) == 0;
}

bool hv_older(const char *a, const char *b)
{
	unsigned amaj, amin, bmaj, bmin;
	char x[32], y[32];

	if (!hv_major_minor(a, x, sizeof(x)) || !hv_major_minor(b, y, sizeof(y)) ||
	    sscanf(x, "%u.%u", &amaj, &amin) != 2 || sscanf(y, "%u.%u", &bmaj, &bmin) != 2)
		return false;
	return amaj < bmaj || (amaj == bmaj && amin < bmin);
}
