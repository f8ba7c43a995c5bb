/* Parsers of what a Debian tree holds, as text: pure, so unit tests and
 * image_build.c share them. */
#include "treeparse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- /proc/self/mountinfo ---- */

char *mountinfo_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* ---- apt sources ---- */

/* One line of text (without its newline) at *p, advancing *p past it; NULL
 * at the end. */
static char *next_line(const char **p)
{
	const char *s = *p, *nl;
	char *line;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	line = xstrndup(s, nl ? (size_t)(nl - s) : strlen(s));
	*p = nl ? nl + 1 : s + strlen(s);
	line[strcspn(line, "\r")] = '\0';
	return line;
}

char *apt_mirror_parse(const char *text)
{
	_cleanup_free_ char *uri = NULL;
	const char *p = text;
	bool security = false, deb = false;

	for (;;) {
		_cleanup_free_ char *line = next_line(&p);
		char *s = line;

		if (!line || strspn(line, " \t") == strlen(line)) {
			if (uri && deb && !security)
				return steal_ptr(uri);
			free(steal_ptr(uri));
			security = deb = false;
			if (!line)
				return NULL;
			continue;
		}
		if (strncmp(s, "URIs:", 5) == 0) {
			s += 5 + strspn(s + 5, " \t");
			free(uri);
			uri = xstrndup(s, strcspn(s, " \t"));
		} else if (strncmp(s, "Types:", 6) == 0) {
			deb = false;
			for (char *save = NULL, *t = strtok_r(s + 6, " \t", &save); t;
			     t = strtok_r(NULL, " \t", &save))
				deb = deb || strcmp(t, "deb") == 0;
		} else if (strncmp(s, "Suites:", 7) == 0) {
			security = strstr(s, "-security") != NULL;
		} else if (strncmp(s, "deb ", 4) == 0 && !strstr(s, "security")) {
			s += 4 + strspn(s + 4, " \t");
			if (*s == '[')
				s = strchr(s, ']') ? strchr(s, ']') + 1 : s;
			s += strspn(s, " \t");
			return xstrndup(s, strcspn(s, " \t"));
		}
	}
}

/* ---- kernel modules: the set with its dependencies, in load order ---- */

static bool modname_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

/* "kernel/fs/ext4/ext4.ko.xz" -> does it name module `name`? */
static bool modpath_is(const char *rel, size_t len, const char *name)
{
	const char *slash = memrchr(rel, '/', len);
	const char *base = slash ? slash + 1 : rel;
	const char *ko = strstr(base, ".ko");
	_cleanup_free_ char *stem = NULL;

	if (!ko || ko > rel + len)
		return false;
	stem = xstrndup(base, (size_t)(ko - base));
	return modname_eq(stem, name);
}

/* The modules.dep line of a module, or NULL. */
static const char *moddep_line(const char *dep, const char *name, size_t *relen)
{
	for (const char *l = dep; l && *l;) {
		const char *colon = strchr(l, ':');
		const char *nl = strchr(l, '\n');

		if (colon && (!nl || colon < nl) && modpath_is(l, (size_t)(colon - l), name)) {
			*relen = (size_t)(colon - l);
			return l;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool modset_has(const struct modset *m, const char *rel, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->rel[i]) == len && strncmp(m->rel[i], rel, len) == 0)
			return true;
	return false;
}

static int modset_add_at(struct modset *m, const char *dep, const char *builtin,
			 const char *name, int depth, struct xerr *e)
{
	size_t relen;
	const char *line = moddep_line(dep, name, &relen);
	const char *p, *nl;

	if (depth > 32)
		return xerr_set(e, XERR_FAIL, "module dependencies of %s loop", name);
	if (!line) {
		/* Built into the kernel: nothing to load. */
		for (const char *l = builtin; l && *l;) {
			const char *end = strchr(l, '\n');
			size_t len = end ? (size_t)(end - l) : strlen(l);

			if (modpath_is(l, len, name))
				return 0;
			l = end ? end + 1 : NULL;
		}
		return xerr_set(e, XERR_FAIL, "kernel module %s not found in modules.dep", name);
	}
	if (modset_has(m, line, relen))
		return 0;
	/* Dependencies first, nearest last: modules.dep lists them so that
	 * loading from the end backwards works. */
	p = line + relen + 1;
	nl = strchr(p, '\n');
	{
		_cleanup_free_ char *deps = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		_cleanup_strv_ char **list = NULL;
		size_t n = 0, cap = 0;

		for (char *save = NULL, *t = strtok_r(deps, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save)) {
			xgrow((void **)&list, &cap, n + 1, sizeof(char *));
			list[n++] = xstrdup(t);
			list[n] = NULL;
		}
		for (size_t i = n; i-- > 0;) {
			const char *slash = strrchr(list[i], '/');
			const char *base = slash ? slash + 1 : list[i];
			_cleanup_free_ char *stem = xstrndup(base, strcspn(base, "."));

			if (modset_add_at(m, dep, builtin, stem, depth + 1, e) < 0)
				return -1;
		}
	}
	xgrow((void **)&m->rel, &m->cap, m->n + 1, sizeof(char *));
	m->rel[m->n++] = xstrndup(line, relen);
	return 0;
}

void modset_free(struct modset *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->rel[i]);
	free(m->rel);
}



int modset_add(struct modset *m, const char *dep, const char *builtin, const char *name,
	       struct xerr *e)
{
	return modset_add_at(m, dep, builtin ? builtin : "", name, 0, e);
}

char *module_stem(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;

	return xstrndup(base, (size_t)(strstr(base, ".ko") - base));
}


/* ---- lvm.conf ---- */

/* Sets KEY = VALUE in lvm.conf's text where Debian ships it commented out (or set):
 * udev is not running in an xlab dom0, so LVM must not wait for it. */
int lvm_conf_edit(const char *text, const char *const keys[], size_t n, const char *value,
		  char **out_text, struct xerr *e)
{
	_cleanup_free_ char *copy = xstrdup(text);
	struct buf out = { 0 };
	unsigned found = 0;

	for (char *l = copy; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		size_t ind = strspn(l, " \t");
		const char *s = l + ind;
		bool done = false;

		if (*s == '#')
			s += 1 + strspn(s + 1, " \t");
		for (size_t k = 0; k < n && !done; k++) {
			size_t kl = strlen(keys[k]);

			if (strncmp(s, keys[k], kl) == 0 && strspn(s + kl, " \t") < ll &&
			    s[kl + strspn(s + kl, " \t")] == '=') {
				buf_printf(&out, "%.*s%s = %s\n", (int)ind, l, keys[k], value);
				found |= 1u << k;
				done = true;
			}
		}
		if (!done) {
			buf_append(&out, l, ll);
			buf_puts(&out, "\n");
		}
		l = nl ? nl + 1 : NULL;
	}
	for (size_t k = 0; k < n; k++)
		if (!(found & (1u << k))) {
			buf_free(&out);
			return xerr_set(e, XERR_FAIL, "lvm.conf in the image has no %s setting",
					keys[k]);
		}
	*out_text = out.data ? out.data : xstrdup("");
	return 0;
}

/* ---- dpkg status: the manifest's facts ---- */

void dpkg_facts_free(struct dpkg_facts *f)
{
	free(f->xen_version);
	for (size_t i = 0; i < f->n_packages; i++)
		free(f->packages[i]);
	free(f->packages);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "4.17.5+72-g01140da4e8-1" -> "4.17.5": the upstream release. */
char *xen_upstream(const char *v)
{
	const char *colon = strchr(v, ':');
	char *s = xstrdup(colon ? colon + 1 : v);
	char *dash = strrchr(s, '-');

	if (dash)
		*dash = '\0';
	s[strcspn(s, "+~")] = '\0';
	return s;
}

static void dpkg_stanza_done(struct dpkg_facts *f, size_t *cap, char **pkg, char **ver, bool installed)
{
	if (*pkg && *ver && installed) {
		xgrow((void **)&f->packages, cap, f->n_packages, sizeof(char *));
		f->packages[f->n_packages++] = xasprintf("%s=%s", *pkg, *ver);
		if (!f->xen_version && strncmp(*pkg, "xen-hypervisor-4", 16) == 0)
			f->xen_version = xen_upstream(*ver);
	}
	free(steal_ptr(*pkg));
	free(steal_ptr(*ver));
}


int dpkg_status_packages(const char *text, const char *where, struct dpkg_facts *f,
			 struct xerr *e)
{
	_cleanup_free_ char *pkg = NULL, *ver = NULL;
	const char *p = text;
	size_t cap = 0;
	bool installed = false;

	for (;;) {
		_cleanup_free_ char *line = next_line(&p);

		if (!line)
			break;
		if (!*line) {
			dpkg_stanza_done(f, &cap, &pkg, &ver, installed);
			installed = false;
		} else if (strncmp(line, "Package: ", 9) == 0) {
			free(pkg);
			pkg = xstrdup(line + 9);
		} else if (strncmp(line, "Version: ", 9) == 0) {
			free(ver);
			ver = xstrdup(line + 9);
		} else if (strncmp(line, "Status: ", 8) == 0) {
			installed = strstr(line, " installed") != NULL &&
				    strstr(line, "not-installed") == NULL;
		}
	}
	dpkg_stanza_done(f, &cap, &pkg, &ver, installed);
	if (!f->n_packages)
		return xerr_set(e, XERR_FAIL, "no installed package in %s", where);
	qsort(f->packages, f->n_packages, sizeof(char *), cmp_str);
	return 0;
}

int dpkg_status_parse(const char *text, const char *where, struct dpkg_facts *f, struct xerr *e)
{
	if (dpkg_status_packages(text, where, f, e) < 0)
		return -1;
	if (!f->xen_version)
		return xerr_set(e, XERR_FAIL, "no xen-hypervisor package in the image");
	return 0;
}
