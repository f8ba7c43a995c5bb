/* What host/virt.c and virt_domain.c share: the connection, cleanup helpers
 * for libvirt's objects, and libvirt errors turned into xerrs. */
#ifndef XLAB_VIRT_INT_H
#define XLAB_VIRT_INT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <stdbool.h>

#include "util.h"
#include "virt.h"

struct virt {
	virConnectPtr conn;
};

static inline void domp(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
}

static inline void netp(virNetworkPtr *n)
{
	if (*n)
		virNetworkFree(*n);
}

static inline void xml_docp(xmlDocPtr *d)
{
	if (*d)
		xmlFreeDoc(*d);
}

#define _cleanup_dom_ _cleanup_(domp)
#define _cleanup_net_ _cleanup_(netp)
#define _cleanup_xml_ _cleanup_(xml_docp)

/* "WHAT: libvirt's message", from libvirt's thread-local last error: call
 * right after the failing libvirt call. Returns -1. */
int virt_fail(struct xerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether libvirt's last error (this thread's) has that code. */
bool virt_last_error_is(int code);
/* The string value of an XPath expression over a libvirt XML answer. */
char *xml_xpath_string(const char *xml, const char *expr);
/* A domain by name, refused (NULL, *missing false) unless `want` owns it;
 * NULL with *missing set when there is none (not an error). */
virDomainPtr domain_lookup_owned(struct virt *v, const char *name, const struct virt_owner *want,
				 bool *missing, struct xerr *e);
/* Whose a domain is, from its xlab <metadata>. */
int domain_owner(virDomainPtr dom, struct virt_owner *o, struct xerr *e);

#endif
