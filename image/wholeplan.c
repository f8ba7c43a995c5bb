#include "wholeplan.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hvinfo.h"
#include "image.h"
#include "util.h"

/* The Xen of each image built from Debian (image_recipes): what a source of
 * that version should be derived from instead of rebuilding its tools. */
static const struct {
	const char *mm, *image;
} debian_xen[] = {
	{ "4.17", "xen-4.17" },
	{ "4.20", "xen-4.20" },
};

const char *recipe_for_version(const char *v)
{
	char mm[32];

	if (!hv_major_minor(v, mm, sizeof(mm)))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(debian_xen); i++)
		if (!strcmp(debian_xen[i].mm, mm))
			return debian_xen[i].image;
	return NULL;
}

static int refuse(const struct derive_ask *a, struct xerr *e)
{
	const char *has = recipe_for_version(a->source);

	if (a->hypervisor_only || !has)
		return xerr_set(e, XERR_USAGE,
				"the source is Xen %s, but the base's dom0 tools are Xen %s: tools "
				"and hypervisor must share major.minor; --force builds it anyway",
				a->source, a->base_tools);
	return xerr_set(e, XERR_USAGE,
			"the source is Xen %s, but the base's dom0 tools are Xen %s: tools and "
			"hypervisor must share major.minor; derive from %s (Debian's Xen %s "
			"tools), give --tools to build the tools too, or --force",
			a->source, a->base_tools, has, a->source);
}

int derive_kind_choose(const struct derive_ask *a, enum derive_kind *out, struct xerr *e)
{
	bool fits = hv_version_fits(a->base_tools, a->source);

	if (a->tools && a->hypervisor_only)
		return xerr_set(e, XERR_USAGE, "--tools and --hypervisor-only contradict each other");
	*out = DERIVE_HYPERVISOR;
	if (fits && !a->tools)
		return 0;
	if (a->tools || (!a->hypervisor_only && !recipe_for_version(a->source))) {
		/* Debian's packages are what a whole build purges and replaces. */
		if (a->base_has_own_tools)
			return xerr_set(e, XERR_USAGE,
					"the base's dom0 tools were built from source already: "
					"derive the whole Xen from the image that one was made from");
		*out = DERIVE_WHOLE;
		return 0;
	}
	return a->force ? 0 : refuse(a, e);
}

bool image_name_version_fits(const char *name, const char *version)
{
	char want[32];

	if (strncmp(name, "xen-", 4) != 0 || !hv_major_minor(name + 4, want, sizeof(want)) ||
	    strcmp(want, name + 4) != 0)
		return true;
	return hv_version_fits(want, version);
}

char **tools_configure_argv(const char *mm)
{
	char *const fixed[] = {
		"--prefix=/usr",
		"--sysconfdir=/etc",
		"--localstatedir=/var",
		"--with-rundir=/run",
		"--libdir=" TOOLS_LIBDIR,
		"--libexecdir=/usr/lib",
		NULL, /* --with-libexec-leaf-dir=xen-MM */
		"--with-sysconfig-leaf-dir=default",
		"--with-system-qemu=" TOOLS_QEMU,
		"--with-system-seabios=" TOOLS_SEABIOS,
		"--disable-ipxe",
		"--disable-rombios",
		"--disable-stubdom",
		"--disable-docs",
		"--disable-ocamltools",
		"--disable-golang",
		"--disable-pygrub",
		"--disable-xsmpolicy",
		"--disable-pvshim",
		"--disable-systemd",
		"--with-xenstored=xenstored",
	};
	char **argv = xcalloc(ARRAY_SIZE(fixed) + 2, sizeof(char *));
	size_t n = 0;

	argv[n++] = xstrdup("./configure");
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		argv[n++] = fixed[i] ? xstrdup(fixed[i]) :
				       xasprintf("--with-libexec-leaf-dir=xen-%s", mm);
	return argv;
}

/* Debian's packages of Xen's tools and hypervisor: the userland, the
 * hypervisor the image no longer boots, and the libraries whose sonames the
 * new tools install again (stable ABIs: QEMU keeps working with them). */
static bool debian_xen_package(const char *name, size_t n)
{
	static const char *const exact[] = {
		"xen-system-amd64", "xen-utils-common", "xenstore-utils", "xen-hypervisor-common",
		"libxencall1", "libxendevicemodel1", "libxenevtchn1", "libxenforeignmemory1",
		"libxengnttab1", "libxenhypfs1", "libxenstore4", "libxentoolcore1", "libxentoollog1",
	};
	static const char *const prefix[] = { "xen-utils-4.", "xen-hypervisor-4." };

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strlen(exact[i]) == n && !strncmp(name, exact[i], n))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefix); i++)
		if (n > strlen(prefix[i]) && !strncmp(name, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

char **debian_xen_packages(char *const *packages, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(packages[i], "=");

		if (debian_xen_package(packages[i], len))
			out[k++] = xstrndup(packages[i], len);
	}
	return out;
}

char *ldd_first_missing(const char *out)
{
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = l + strcspn(l, "\n");
		const char *nf = strstr(l, "=> not found");

		if (nf && nf < end) {
			while (*l == ' ' || *l == '\t')
				l++;
			return xstrndup(l, strcspn(l, " \t"));
		}
	}
	return NULL;
}

int debugfs_devnum(const char *stat_out, unsigned *major, unsigned *minor)
{
	static const char key[] = "Device major/minor number:";
	const char *p = stat_out ? strstr(stat_out, key) : NULL;

	if (!p || sscanf(p + sizeof(key) - 1, " %u:%u", major, minor) != 2)
		return -1;
	return 0;
}

size_t debugfs_ls_devices(const char *ls_out, struct dev_node *out, size_t max)
{
	size_t n = 0;

	for (const char *l = ls_out; l && *l && n < max;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned ino, mode, uid, gid;
		int name_at = 0, name_end = 0;

		if (sscanf(l, "/%u/%o/%u/%u/%n%*[^/]%n/", &ino, &mode, &uid, &gid, &name_at,
			   &name_end) < 4 || name_end <= name_at ||
		    (size_t)(name_end - name_at) >= sizeof(out->name))
			continue;
		if (!S_ISCHR(mode) && !S_ISBLK(mode))
			continue;
		memcpy(out[n].name, l + name_at, (size_t)(name_end - name_at));
		out[n].name[name_end - name_at] = '\0';
		out[n].mode = mode;
		out[n].uid = uid;
		out[n].gid = gid;
		n++;
	}
	return n;
}
