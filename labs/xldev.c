/* Disk and vif specs, split on ',' the way xl does: KEY=VALUE options, and
 * for disks the positional target, format, vdev and access; `target=` takes
 * the rest of the spec, commas and all. */
#include "xldev.h"

#include <string.h>

#include "dom0paths.h"
#include "util.h"

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = 0;
	return s;
}

static bool in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static const char *const formats[] = { "raw", "qcow", "qcow2", "vhd", "qed", NULL };
static const char *const accesses[] = { "r", "ro", "w", "rw", NULL };

/* The three things xlab can be told about a disk, checked once all are in. */
struct disk_parts {
	const char *target, *format, *vdev, *access;
};

static int disk_option(struct disk_parts *p, char *key, char *value, struct xerr *e)
{
	if (!strcmp(key, "format"))
		p->format = value;
	else if (!strcmp(key, "vdev"))
		p->vdev = value;
	else if (!strcmp(key, "access"))
		p->access = value;
	else if (!strcmp(key, "devtype") && !strcmp(value, "disk"))
		return 0;
	else if (!strcmp(key, "backendtype") && !strcmp(value, "phy"))
		return 0;
	/* xlab's own configs name xlab's script: one copied from them is fine. */
	else if (!strcmp(key, "script") && !strcmp(value, DOM0_HOTPLUG_BLOCK))
		return 0;
	else
		return xerr_set(e, XERR_USAGE,
				"disk option '%s=%s' is not supported by xlab guests", key, value);
	return 0;
}

static int disk_positional(struct disk_parts *p, char *s, struct xerr *e)
{
	if (in(s, formats) && !p->format)
		p->format = s;
	else if (in(s, accesses) && !p->access)
		p->access = s;
	else if (!strcmp(s, "cdrom"))
		return xerr_set(e, XERR_USAGE, "a cdrom is not supported by xlab guests");
	else if (!p->target)
		p->target = s;
	else if (!p->vdev)
		p->vdev = s;
	else
		return xerr_set(e, XERR_USAGE, "'%s' is one field too many", s);
	return 0;
}

static int disk_split(char *s, struct disk_parts *p, struct xerr *e)
{
	while (s && *s) {
		char *comma, *part, *eq;

		if (!strncmp(trim(s), "target=", 7)) {
			p->target = trim(s) + 7;
			break;
		}
		comma = strchr(s, ',');
		if (comma)
			*comma = 0;
		part = trim(s);
		s = comma ? comma + 1 : NULL;
		if (!*part)
			continue;
		eq = strchr(part, '=');
		if (eq) {
			*eq = 0;
			if (disk_option(p, trim(part), trim(eq + 1), e) < 0)
				return -1;
		} else if (disk_positional(p, part, e) < 0) {
			return -1;
		}
	}
	return 0;
}

static int disk_check(struct disk_parts *p, struct xerr *e)
{
	if (!p->target || !*p->target)
		return xerr_set(e, XERR_USAGE, "no target (the LV /dev/VG/LV)");
	if (!strncmp(p->target, "phy:", 4))
		p->target += 4;
	if (strncmp(p->target, "/dev/", 5))
		return xerr_set(e, XERR_USAGE,
				"'%s' is a file or image, not a logical volume; xlab guests' "
				"disks are LVs /dev/VG/LV",
				p->target);
	if (!p->vdev || !*p->vdev)
		return xerr_set(e, XERR_USAGE, "no vdev (xvda)");
	if (p->format && strcmp(p->format, "raw"))
		return xerr_set(e, XERR_USAGE, "format '%s': xlab guests' LVs are raw",
				p->format);
	if (p->access && strcmp(p->access, "w") && strcmp(p->access, "rw"))
		return xerr_set(e, XERR_USAGE,
				"access '%s': xlab guests write their disks (w or rw)", p->access);
	return 0;
}

int xl_disk_parse(const char *spec, struct xl_disk *d, struct xerr *e)
{
	_cleanup_free_ char *s = xstrdup(spec);
	struct disk_parts p = { 0 };

	*d = (struct xl_disk){ 0 };
	if (disk_split(s, &p, e) < 0 || disk_check(&p, e) < 0)
		return -1;
	d->target = xstrdup(p.target);
	d->vdev = xstrdup(p.vdev);
	return 0;
}

void xl_disk_free(struct xl_disk *d)
{
	free(d->target);
	free(d->vdev);
	*d = (struct xl_disk){ 0 };
}

static int vif_option(struct xl_vif *v, const char *key, const char *value, struct xerr *e)
{
	char **slot = !strcmp(key, "mac")      ? &v->mac
		      : !strcmp(key, "bridge") ? &v->bridge
		      : !strcmp(key, "ip")     ? &v->ip
					       : NULL;

	if ((!strcmp(key, "type") && !strcmp(value, "vif")) ||
	    (!strcmp(key, "script") && !strcmp(value, DOM0_HOTPLUG_VIF)))
		return 0;
	if (!slot)
		return xerr_set(e, XERR_USAGE,
				"vif option '%s=%s' is not supported by xlab guests", key, value);
	if (*slot)
		return xerr_set(e, XERR_USAGE, "vif option '%s' is given twice", key);
	*slot = xstrdup(value);
	return 0;
}

int xl_vif_parse(const char *spec, struct xl_vif *v, struct xerr *e)
{
	_cleanup_free_ char *s = xstrdup(spec);
	char *save = NULL;

	*v = (struct xl_vif){ 0 };
	for (char *part = strtok_r(s, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');

		if (!*trim(part))
			continue;
		if (!eq) {
			xl_vif_free(v);
			return xerr_set(e, XERR_USAGE, "'%s' is not KEY=VALUE", trim(part));
		}
		*eq = 0;
		if (vif_option(v, trim(part), trim(eq + 1), e) < 0) {
			xl_vif_free(v);
			return -1;
		}
	}
	return 0;
}

void xl_vif_free(struct xl_vif *v)
{
	free(v->mac);
	free(v->bridge);
	free(v->ip);
	*v = (struct xl_vif){ 0 };
}
