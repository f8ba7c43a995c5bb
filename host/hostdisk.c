#include "hostdisk.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static xmlDocPtr parse(const char *xml, struct xerr *e)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (!doc)
		xerr_set(e, XERR_FAIL, "cannot parse the domain's XML");
	return doc;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* Calls fn on every <devices><disk>; stops when fn returns true. */
static xmlNodePtr disks_each(xmlDocPtr doc, bool (*fn)(xmlNodePtr disk, void *arg), void *arg)
{
	xmlNodePtr devices = child(xmlDocGetRootElement(doc), "devices");

	for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next)
		if (d->type == XML_ELEMENT_NODE && !strcmp((const char *)d->name, "disk") &&
		    fn(d, arg))
			return d;
	return NULL;
}

static char *prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v ? xstrdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static char *text(xmlNodePtr n)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *s = v ? xstrdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

struct used {
	bool letters[26];
	int max_extra;
};

static bool note_disk(xmlNodePtr disk, void *arg)
{
	struct used *u = arg;
	_cleanup_free_ char *dev = prop(child(disk, "target"), "dev");
	_cleanup_free_ char *serial = text(child(disk, "serial"));
	size_t plen = strlen(HOSTDISK_SERIAL_PREFIX);

	if (dev && strlen(dev) == 3 && !strncmp(dev, "vd", 2) && dev[2] >= 'a' && dev[2] <= 'z')
		u->letters[dev[2] - 'a'] = true;
	if (serial && !strncmp(serial, HOSTDISK_SERIAL_PREFIX, plen)) {
		int n = atoi(serial + plen);

		if (n > u->max_extra)
			u->max_extra = n;
	}
	return false;
}

int hostdisk_layout(const char *domain_xml, struct hostdisk_layout *l, struct xerr *e)
{
	xmlDocPtr doc = parse(domain_xml, e);
	struct used u = { 0 };
	int i;

	if (!doc)
		return -1;
	disks_each(doc, note_disk, &u);
	xmlFreeDoc(doc);
	for (i = 0; i < 26 && u.letters[i]; i++)
		;
	if (i == 26)
		return xerr_set(e, XERR_FAIL, "the host has no free virtio disk name (vda..vdz)");
	snprintf(l->next_dev, sizeof(l->next_dev), "vd%c", 'a' + i);
	l->next_extra = u.max_extra + 1;
	return 0;
}

char *hostdisk_xml(const char *path, const char *dev, const char *serial)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
	char *out;

	xmlTextWriterStartElement(w, BAD_CAST "disk");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "file");
	xmlTextWriterWriteAttribute(w, BAD_CAST "device", BAD_CAST "disk");
	xmlTextWriterStartElement(w, BAD_CAST "driver");
	xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "qemu");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "qcow2");
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "source");
	xmlTextWriterWriteAttribute(w, BAD_CAST "file", BAD_CAST path);
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "target");
	xmlTextWriterWriteAttribute(w, BAD_CAST "dev", BAD_CAST dev);
	xmlTextWriterWriteAttribute(w, BAD_CAST "bus", BAD_CAST "virtio");
	xmlTextWriterEndElement(w);
	xmlTextWriterWriteElement(w, BAD_CAST "serial", BAD_CAST serial);
	xmlTextWriterEndElement(w);
	xmlFreeTextWriter(w);
	out = xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return out;
}

static bool has_serial(xmlNodePtr disk, void *arg)
{
	_cleanup_free_ char *serial = text(child(disk, "serial"));

	return serial && !strcmp(serial, arg);
}

int hostdisk_find(const char *domain_xml, const char *serial, char **disk_xml, char **path,
		  struct xerr *e)
{
	xmlDocPtr doc = parse(domain_xml, e);
	xmlNodePtr disk;
	xmlBufferPtr buf;

	if (!doc)
		return -1;
	disk = disks_each(doc, has_serial, (void *)serial);
	if (!disk) {
		xmlFreeDoc(doc);
		return xerr_set(e, XERR_USAGE, "the host has no disk with serial '%s'", serial);
	}
	buf = xmlBufferCreate();
	xmlNodeDump(buf, doc, disk, 0, 0);
	*disk_xml = xstrdup((const char *)xmlBufferContent(buf));
	*path = prop(child(disk, "source"), "file");
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return 0;
}

static int virt_fail(struct xerr *e, const char *what, const char *domain)
{
	const char *msg = virGetLastErrorMessage();

	return xerr_set(e, XERR_FAIL, "%s %s: %s", what, domain, msg ? msg : "failed");
}

static int with_domain(struct virt *v, const char *domain, const char *disk_xml, bool attach,
		       struct xerr *e)
{
	virDomainPtr dom = virDomainLookupByName(virt_conn(v), domain);
	unsigned flags = VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG;
	int rc;

	if (!dom)
		return virt_fail(e, "no domain", domain);
	rc = attach ? virDomainAttachDeviceFlags(dom, disk_xml, flags) :
		      virDomainDetachDeviceFlags(dom, disk_xml, flags);
	virDomainFree(dom);
	if (rc < 0)
		return virt_fail(e, attach ? "cannot attach a disk to" : "cannot detach a disk from",
				 domain);
	return 0;
}

int hostdisk_attach(struct virt *v, const char *domain, const char *disk_xml, struct xerr *e)
{
	return with_domain(v, domain, disk_xml, true, e);
}

int hostdisk_detach(struct virt *v, const char *domain, const char *disk_xml, struct xerr *e)
{
	return with_domain(v, domain, disk_xml, false, e);
}

int hostdisk_domain_xml(struct virt *v, const char *domain, char **xml, struct xerr *e)
{
	virDomainPtr dom = virDomainLookupByName(virt_conn(v), domain);
	char *x;

	if (!dom)
		return virt_fail(e, "no domain", domain);
	x = virDomainGetXMLDesc(dom, 0);
	virDomainFree(dom);
	if (!x)
		return virt_fail(e, "cannot read the XML of", domain);
	*xml = x;
	return 0;
}
