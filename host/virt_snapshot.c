/* Internal snapshots of lab hosts, memory included, through libvirt: the
 * running state of a dom0 and of every Xen guest inside it, kept in the
 * host's own qcow2 disks. Internal rather than external because libvirt
 * 9.0 (Debian 12) reverts only internal snapshots; the cost is that every
 * writable disk must be qcow2, which a shared raw disk is not. */
#include "virt.h"

#include <libxml/xmlwriter.h>
#include <string.h>

#include "util.h"
#include "virt_int.h"

static inline void snapp(virDomainSnapshotPtr *s)
{
	if (*s)
		virDomainSnapshotFree(*s);
}
#define _cleanup_snap_ _cleanup_(snapp)

static virDomainPtr owned(struct virt *v, const char *dom, const struct virt_owner *want,
			  struct xerr *e)
{
	bool missing;
	virDomainPtr d = domain_lookup_owned(v, dom, want, &missing, e);

	if (!d && missing)
		xerr_set(e, XERR_NOTFOUND, "libvirt has no domain '%s'", dom);
	return d;
}

/* Paused (pause) or running again (!pause); already so is no error. */
static int domain_pause_set(struct virt *v, const char *dom, const struct virt_owner *want,
			    bool pause, struct xerr *e)
{
	_cleanup_dom_ virDomainPtr d = owned(v, dom, want, e);
	virDomainInfo info;

	if (!d)
		return -1;
	if (virDomainGetInfo(d, &info) < 0)
		return virt_fail(e, "cannot query domain '%s'", dom);
	if ((info.state == VIR_DOMAIN_PAUSED) == pause)
		return 0;
	if ((pause ? virDomainSuspend(d) : virDomainResume(d)) < 0)
		return virt_fail(e, "cannot %s domain '%s'", pause ? "pause" : "resume", dom);
	return 0;
}

int virt_domain_pause(struct virt *v, const char *dom, const struct virt_owner *want,
		      struct xerr *e)
{
	return domain_pause_set(v, dom, want, true, e);
}

int virt_domain_resume(struct virt *v, const char *dom, const struct virt_owner *want,
		       struct xerr *e)
{
	return domain_pause_set(v, dom, want, false, e);
}

char *virt_snapshot_blocker(const char *domain_xml)
{
	/* QEMU keeps an internal snapshot in every writable disk and refuses a
	 * writable one that cannot hold it; read-only disks (the boot ISO, the
	 * config disk) are left out of it. */
	char *dev = xml_xpath_string(domain_xml,
				     "string(/domain/devices/disk[@device='disk' and not(readonly)"
				     " and driver/@type!='qcow2'][1]/target/@dev)");

	if (dev && !*dev) {
		free(dev);
		return NULL;
	}
	return dev;
}

int virt_snapshot_check(struct virt *v, const char *dom, const struct virt_owner *want,
			char **blocker, struct xerr *e)
{
	_cleanup_dom_ virDomainPtr d = owned(v, dom, want, e);
	_cleanup_free_ char *xml = NULL;

	*blocker = NULL;
	if (!d)
		return -1;
	xml = virDomainGetXMLDesc(d, 0);
	if (!xml)
		return virt_fail(e, "cannot read the definition of domain '%s'", dom);
	*blocker = virt_snapshot_blocker(xml);
	return 0;
}

static char *snapshot_xml(const char *name)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
	char *out;

	xmlTextWriterStartElement(w, BAD_CAST "domainsnapshot");
	xmlTextWriterWriteElement(w, BAD_CAST "name", BAD_CAST name);
	xmlTextWriterWriteElement(w, BAD_CAST "description",
				  BAD_CAST "xlab lab snapshot (every host of the lab, taken paused)");
	xmlTextWriterStartElement(w, BAD_CAST "memory");
	xmlTextWriterWriteAttribute(w, BAD_CAST "snapshot", BAD_CAST "internal");
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
	xmlFreeTextWriter(w);
	out = xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return out;
}

int virt_snapshot_create(struct virt *v, const char *dom, const struct virt_owner *want,
			 const char *name, struct xerr *e)
{
	_cleanup_dom_ virDomainPtr d = owned(v, dom, want, e);
	_cleanup_free_ char *xml = snapshot_xml(name);
	_cleanup_snap_ virDomainSnapshotPtr s = NULL;

	if (!d)
		return -1;
	s = virDomainSnapshotCreateXML(d, xml, 0);
	if (!s)
		return virt_fail(e, "cannot snapshot domain '%s'", dom);
	return 0;
}

/* The snapshot, or NULL with *missing set when the domain has none of that
 * name (not an error). */
static virDomainSnapshotPtr snapshot_lookup(virDomainPtr d, const char *dom, const char *name,
					    bool *missing, struct xerr *e)
{
	virDomainSnapshotPtr s = virDomainSnapshotLookupByName(d, name, 0);

	*missing = false;
	if (s)
		return s;
	if (virt_last_error_is(VIR_ERR_NO_DOMAIN_SNAPSHOT))
		*missing = true;
	else
		virt_fail(e, "cannot look up snapshot '%s' of domain '%s'", name, dom);
	return NULL;
}

int virt_snapshot_has(struct virt *v, const char *dom, const struct virt_owner *want,
		      const char *name, bool *has, struct xerr *e)
{
	_cleanup_dom_ virDomainPtr d = owned(v, dom, want, e);
	_cleanup_snap_ virDomainSnapshotPtr s = NULL;
	bool missing;

	*has = false;
	if (!d)
		return -1;
	s = snapshot_lookup(d, dom, name, &missing, e);
	if (!s && !missing)
		return -1;
	*has = s != NULL;
	return 0;
}

int virt_snapshot_revert(struct virt *v, const char *dom, const struct virt_owner *want,
			 const char *name, struct xerr *e)
{
	_cleanup_dom_ virDomainPtr d = owned(v, dom, want, e);
	_cleanup_snap_ virDomainSnapshotPtr s = NULL;
	bool missing;

	if (!d)
		return -1;
	s = snapshot_lookup(d, dom, name, &missing, e);
	if (!s)
		return missing ? xerr_set(e, XERR_NOTFOUND, "domain '%s' has no snapshot '%s'",
					  dom, name)
			       : -1;
	/* Paused, so the caller resumes every host of the lab at once; FORCE
	 * because a disk hot-plugged since (`xlab storage add-disk`) makes the
	 * definitions differ, and libvirt then restarts QEMU rather than load
	 * the state into it. */
	if (virDomainRevertToSnapshot(s, VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED |
						 VIR_DOMAIN_SNAPSHOT_REVERT_FORCE) < 0)
		return virt_fail(e, "cannot revert domain '%s' to snapshot '%s'", dom, name);
	return 0;
}

int virt_snapshot_delete(struct virt *v, const char *dom, const struct virt_owner *want,
			 const char *name, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr d = domain_lookup_owned(v, dom, want, &missing, e);
	_cleanup_snap_ virDomainSnapshotPtr s = NULL;

	if (!d)
		return missing ? 0 : -1;
	s = snapshot_lookup(d, dom, name, &missing, e);
	if (!s)
		return missing ? 0 : -1;
	if (virDomainSnapshotDelete(s, 0) < 0)
		return virt_fail(e, "cannot delete snapshot '%s' of domain '%s'", name, dom);
	return 0;
}
