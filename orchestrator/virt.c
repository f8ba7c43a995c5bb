/* libvirt, as xlab uses it. Every libvirt failure is turned into an xerr right
 * where it happens, from libvirt's thread-local last error, so parallel
 * callers never see each other's messages. */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "connuri.h"
#include "util.h"
#include "virt.h"

struct virt {
	virConnectPtr conn;
};

virConnectPtr virt_conn(struct virt *v)
{
	return v->conn;
}

static void domp(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
}

static void netp(virNetworkPtr *n)
{
	if (*n)
		virNetworkFree(*n);
}

static void xml_docp(xmlDocPtr *d)
{
	if (*d)
		xmlFreeDoc(*d);
}

#define _cleanup_dom_ _cleanup_(domp)
#define _cleanup_net_ _cleanup_(netp)
#define _cleanup_xml_ _cleanup_(xml_docp)

/* libvirt prints every error to stderr by default; xlab prints each once, at the top. */
static void virt_ignore_error(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* "WHAT: libvirt's message". Call right after the failing libvirt call. */
static int virt_fail(struct xerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int virt_fail(struct xerr *e, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return xerr_set(e, XLAB_EXIT_FAIL, "%s: %s", what, virGetLastErrorMessage());
}

static bool virt_last_error_is(int code)
{
	return virGetLastErrorCode() == code;
}

const char *virt_default_uri(const char *flag, const char *spec_uri)
{
	const char *env = getenv("XLAB_CONNECT");

	/* The person at the keyboard wins over the file they were handed. */
	if (flag && *flag)
		return flag;
	if (env && *env)
		return env;
	if (spec_uri && *spec_uri)
		return spec_uri;
	return "qemu:///system";
}

int virt_open(const char *uri, struct virt **out, struct xerr *e)
{
	virConnectPtr conn;
	const char *why;

	/* Whatever its source, a URI that would run a program here is refused
	 * before libvirt parses it. */
	if (!libvirt_uri_allowed(uri, &why))
		return xerr_set(e, XLAB_EXIT_FAIL, "libvirt URI '%s' is refused: %s", uri, why);
	if (virInitialize() < 0)
		return xerr_set(e, XLAB_EXIT_FAIL, "cannot initialize libvirt");
	virSetErrorFunc(NULL, virt_ignore_error);
	conn = virConnectOpen(uri);
	if (!conn)
		return virt_fail(e, "cannot connect to libvirt at '%s'", uri);
	virConnSetErrorFunc(conn, NULL, virt_ignore_error);
	*out = xcalloc(1, sizeof(**out));
	(*out)->conn = conn;
	return 0;
}

void virt_close(struct virt *v)
{
	if (!v)
		return;
	if (v->conn)
		virConnectClose(v->conn);
	free(v);
}

/* ---- XML: libvirt's answers, read with XPath ---- */

static xmlDocPtr xml_parse(const char *xml)
{
	return xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The string value of expr (empty when nothing matches); NULL on a bad document. */
static char *xml_xpath_string(const char *xml, const char *expr)
{
	_cleanup_xml_ xmlDocPtr doc = xml_parse(xml);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;
	xmlChar *s;
	char *out = NULL;

	if (!doc)
		return NULL;
	ctx = xmlXPathNewContext(doc);
	if (!ctx)
		return NULL;
	obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (obj) {
		s = xmlXPathCastToString(obj);
		if (s)
			out = xstrdup((const char *)s);
		xmlFree(s);
		xmlXPathFreeObject(obj);
	}
	xmlXPathFreeContext(ctx);
	return out;
}

/* ---- acceleration ---- */

bool virt_cpuinfo_has_hwvirt(const char *cpuinfo)
{
	const char *line = cpuinfo;

	while (line && *line) {
		const char *end = strchrnul(line, '\n');

		if (strncmp(line, "flags", 5) == 0) {
			_cleanup_free_ char *copy = xstrndup(line, (size_t)(end - line));
			char *colon = strchr(copy, ':'), *save = NULL;

			for (char *t = colon ? strtok_r(colon + 1, " \t", &save) : NULL; t;
			     t = strtok_r(NULL, " \t", &save))
				if (strcmp(t, "vmx") == 0 || strcmp(t, "svm") == 0)
					return true;
		}
		line = *end ? end + 1 : end;
	}
	return false;
}

/* /dev/kvm can exist on a CPU that exposes no VT-x/AMD-V; QEMU then hangs
 * with -accel kvm instead of failing, so the CPU flags must be checked too. */
static bool host_kvm_usable(void)
{
	_cleanup_free_ char *cpuinfo = NULL;
	struct xerr ignored = { 0 };
	size_t len;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	if (file_read_all("/proc/cpuinfo", 0, &cpuinfo, &len, &ignored) < 0)
		return false;
	return virt_cpuinfo_has_hwvirt(cpuinfo);
}

static bool libvirt_offers_kvm(struct virt *v)
{
	_cleanup_free_ char *caps = NULL, *domain = NULL;

	caps = virConnectGetDomainCapabilities(v->conn, NULL, "x86_64", NULL, "kvm", 0);
	if (!caps)
		return false;
	domain = xml_xpath_string(caps, "string(/domainCapabilities/domain)");
	return domain && strcmp(domain, "kvm") == 0;
}

int virt_detect_accel(struct virt *v, const char *force, char **accel, struct xerr *e)
{
	if (force && *force) {
		if (strcmp(force, "kvm") == 0)
			*accel = xstrdup("kvm");
		else if (strcmp(force, "qemu") == 0 || strcmp(force, "tcg") == 0)
			*accel = xstrdup("qemu");
		else
			return xerr_set(e, XLAB_EXIT_USAGE,
					"unknown accelerator '%s' (use kvm, qemu or tcg)", force);
		return 0;
	}
	*accel = xstrdup(libvirt_offers_kvm(v) && host_kvm_usable() ? "kvm" : "qemu");
	return 0;
}

/* ---- networks ---- */

static int network_define_start(struct virt *v, const char *name, const char *xml,
				struct xerr *e)
{
	_cleanup_net_ virNetworkPtr net = virNetworkDefineXML(v->conn, xml);

	if (!net)
		return virt_fail(e, "cannot define network '%s'", name);
	if (strcmp(virNetworkGetName(net), name) != 0) {
		xerr_set(e, XLAB_EXIT_FAIL, "network XML defines '%s', not '%s'",
			 virNetworkGetName(net), name);
		virNetworkUndefine(net);
		return -1;
	}
	/* Labs come up with `xlab up`, never on their own when libvirtd restarts. */
	if (virNetworkSetAutostart(net, 0) < 0 || virNetworkCreate(net) < 0) {
		virt_fail(e, "cannot start network '%s'", name);
		virNetworkUndefine(net);
		return -1;
	}
	return 0;
}

int virt_network_ensure(struct virt *v, const char *name, const char *xml, bool *created,
			struct xerr *e)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	int active;

	*created = false;
	if (!net) {
		if (!virt_last_error_is(VIR_ERR_NO_NETWORK))
			return virt_fail(e, "cannot look up network '%s'", name);
		if (network_define_start(v, name, xml, e) < 0)
			return -1;
		*created = true;
		return 0;
	}
	active = virNetworkIsActive(net);
	if (active < 0)
		return virt_fail(e, "cannot query network '%s'", name);
	if (!active && virNetworkCreate(net) < 0)
		return virt_fail(e, "cannot start network '%s'", name);
	return 0;
}

int virt_network_remove(struct virt *v, const char *name, struct xerr *e)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	int active;

	if (!net) {
		if (virt_last_error_is(VIR_ERR_NO_NETWORK))
			return 0;
		return virt_fail(e, "cannot look up network '%s'", name);
	}
	active = virNetworkIsActive(net);
	if (active < 0)
		return virt_fail(e, "cannot query network '%s'", name);
	if (active && virNetworkDestroy(net) < 0 && !virt_last_error_is(VIR_ERR_OPERATION_INVALID))
		return virt_fail(e, "cannot stop network '%s'", name);
	/* A transient network is gone once destroyed. */
	if (virNetworkIsPersistent(net) == 1 && virNetworkUndefine(net) < 0 &&
	    !virt_last_error_is(VIR_ERR_NO_NETWORK))
		return virt_fail(e, "cannot undefine network '%s'", name);
	return 0;
}

/* ---- domains ---- */

/* The domain, or NULL with *missing set when there is none (not an error). */
static virDomainPtr domain_lookup(struct virt *v, const char *name, bool *missing,
				  struct xerr *e)
{
	virDomainPtr dom = virDomainLookupByName(v->conn, name);

	*missing = false;
	if (dom)
		return dom;
	if (virt_last_error_is(VIR_ERR_NO_DOMAIN))
		*missing = true;
	else
		virt_fail(e, "cannot look up domain '%s'", name);
	return NULL;
}

int virt_domain_define(struct virt *v, const char *xml, char uuid[40], struct xerr *e)
{
	_cleanup_dom_ virDomainPtr dom = virDomainDefineXML(v->conn, xml);
	char buf[VIR_UUID_STRING_BUFLEN];

	if (!dom)
		return virt_fail(e, "cannot define domain");
	if (virDomainGetUUIDString(dom, buf) < 0)
		return virt_fail(e, "cannot read the UUID of domain '%s'", virDomainGetName(dom));
	snprintf(uuid, 40, "%s", buf);
	return 0;
}

int virt_domain_power_cycle(struct virt *v, const char *name, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);

	if (!dom)
		return missing ? xerr_set(e, XLAB_EXIT_FAIL, "no domain '%s' to restart", name) : -1;
	if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
		return virt_fail(e, "cannot stop domain '%s'", name);
	if (virDomainCreate(dom) < 0)
		return virt_fail(e, "cannot start domain '%s' again", name);
	return 0;
}

int virt_domain_start(struct virt *v, const char *name, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	int active;

	if (!dom)
		return missing ? xerr_set(e, XLAB_EXIT_FAIL, "no domain '%s' to start", name) : -1;
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (active)
		return 0;
	if (virDomainCreate(dom) < 0)
		return virt_fail(e, "cannot start domain '%s'", name);
	return 0;
}

/* The VNC port of a running domain's live XML; -1 when it has none. */
static int domain_vnc_port(virDomainPtr dom, char **listen)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	_cleanup_free_ char *port = NULL;
	char *end;
	long p;

	if (!xml)
		return -1;
	port = xml_xpath_string(xml, "string(/domain/devices/graphics[@type='vnc'][1]/@port)");
	if (!port)
		return -1;
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || end == port || *end || p <= 0 || p > 65535)
		return -1;
	if (listen) {
		*listen = xml_xpath_string(
			xml, "string(/domain/devices/graphics[@type='vnc'][1]/@listen)");
		if (*listen && !**listen) {
			free(*listen);
			*listen = NULL;
		}
	}
	return (int)p;
}

int virt_domain_info(struct virt *v, const char *name, struct virt_dom_info *info,
		     struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	virDomainInfo di;
	int active;

	memset(info, 0, sizeof(*info));
	info->vnc_port = -1;
	if (!dom)
		return missing ? 0 : -1;
	info->exists = true;
	if (virDomainGetInfo(dom, &di) < 0)
		return virt_fail(e, "cannot read domain '%s'", name);
	if (virDomainGetUUIDString(dom, info->uuid) < 0)
		return virt_fail(e, "cannot read the UUID of domain '%s'", name);
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	/* Active (running, blocked or paused): starting it again would fail. */
	info->running = active == 1;
	info->memory_kib = di.maxMem;
	info->vcpus = di.nrVirtCpu;
	if (info->running)
		info->vnc_port = domain_vnc_port(dom, NULL);
	return 0;
}

int virt_domain_vnc(struct virt *v, const char *name, char **display, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	_cleanup_free_ char *listen = NULL;
	int active, port;

	if (!dom)
		return missing ? xerr_set(e, XLAB_EXIT_FAIL, "no domain '%s'", name) : -1;
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (!active)
		return xerr_set(e, XLAB_EXIT_FAIL, "domain '%s' is not running", name);
	port = domain_vnc_port(dom, &listen);
	if (port < 0)
		return xerr_set(e, XLAB_EXIT_FAIL, "domain '%s' has no VNC display", name);
	/* 0.0.0.0 or :: mean "every address": the local one reaches it too. */
	if (!listen || strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0) {
		free(listen);
		listen = xstrdup("127.0.0.1");
	}
	*display = xasprintf(strchr(listen, ':') ? "[%s]:%d" : "%s:%d", listen, port);
	return 0;
}

/* The lab named by the domain's xlab metadata: *lab NULL when it has none. */
static int domain_owner(virDomainPtr dom, char **lab, struct xerr *e)
{
	_cleanup_free_ char *xml = NULL;
	_cleanup_xml_ xmlDocPtr doc = NULL;
	xmlNodePtr root;
	xmlChar *name;

	*lab = NULL;
	xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, XLAB_XML_NS, 0);
	if (!xml) {
		if (virt_last_error_is(VIR_ERR_NO_DOMAIN_METADATA))
			return 0;
		return virt_fail(e, "cannot read the metadata of domain '%s'",
				 virDomainGetName(dom));
	}
	doc = xml_parse(xml);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	/* libvirt found it by our namespace URI but hands it back without one. */
	if (!root || strcmp((const char *)root->name, "lab") != 0 ||
	    (root->ns && strcmp((const char *)root->ns->href, XLAB_XML_NS) != 0))
		return 0;
	name = xmlGetProp(root, BAD_CAST "name");
	if (name && *name)
		*lab = xstrdup((const char *)name);
	xmlFree(name);
	return 0;
}

static int domain_destroy(virDomainPtr dom, const char *name, struct xerr *e)
{
	int active = virDomainIsActive(dom);

	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	/* OPERATION_INVALID: it stopped between the check and the call. */
	if (active && virDomainDestroy(dom) < 0 && !virt_last_error_is(VIR_ERR_OPERATION_INVALID))
		return virt_fail(e, "cannot stop domain '%s'", name);
	return 0;
}

/* Not every driver knows every undefine flag; try the fullest set first. */
static int domain_undefine(virDomainPtr dom, const char *name, struct xerr *e)
{
	static const unsigned int flag_sets[] = {
		VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
			VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA,
		VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
			VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
		0,
	};

	for (size_t i = 0; i < ARRAY_SIZE(flag_sets); i++) {
		int rc = flag_sets[i] ? virDomainUndefineFlags(dom, flag_sets[i])
				      : virDomainUndefine(dom);

		if (rc == 0 || virt_last_error_is(VIR_ERR_NO_DOMAIN))
			return 0;
		if (!virt_last_error_is(VIR_ERR_INVALID_ARG) &&
		    !virt_last_error_is(VIR_ERR_NO_SUPPORT) &&
		    !virt_last_error_is(VIR_ERR_ARGUMENT_UNSUPPORTED))
			break;
	}
	return virt_fail(e, "cannot undefine domain '%s'", name);
}

int virt_domain_remove(struct virt *v, const char *name, const char *lab, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup(v, name, &missing, e);
	_cleanup_free_ char *owner = NULL;
	int persistent;

	if (!dom)
		return missing ? 0 : -1;
	if (domain_owner(dom, &owner, e) < 0)
		return -1;
	if (!owner)
		return xerr_set(e, XLAB_EXIT_FAIL,
				"domain '%s' was not made by xlab (no xlab metadata); "
				"not removing it",
				name);
	if (strcmp(owner, lab) != 0)
		return xerr_set(e, XLAB_EXIT_FAIL,
				"domain '%s' belongs to lab '%s', not '%s'; not removing it", name,
				owner, lab);
	persistent = virDomainIsPersistent(dom);
	if (persistent < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (domain_destroy(dom, name, e) < 0)
		return -1;
	/* A transient domain is gone once destroyed. */
	return persistent ? domain_undefine(dom, name, e) : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int virt_lab_domains(struct virt *v, const char *lab, char ***names, struct xerr *e)
{
	virDomainPtr *doms = NULL;
	char **out = NULL;
	size_t cap = 0, n = 0;
	int count, rc = 0;

	count = virConnectListAllDomains(v->conn, &doms, 0);
	if (count < 0)
		return virt_fail(e, "cannot list domains");
	for (int i = 0; i < count; i++) {
		_cleanup_free_ char *owner = NULL;

		if (rc == 0 && domain_owner(doms[i], &owner, e) < 0) {
			/* It vanished while we looked: it is no longer the lab's. */
			if (virt_last_error_is(VIR_ERR_NO_DOMAIN))
				xerr_clear(e);
			else
				rc = -1;
		}
		if (rc == 0 && owner && strcmp(owner, lab) == 0) {
			xgrow((void **)&out, &cap, n + 1, sizeof(*out));
			out[n++] = xstrdup(virDomainGetName(doms[i]));
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	xgrow((void **)&out, &cap, n, sizeof(*out));
	out[n] = NULL;
	qsort(out, n, sizeof(*out), name_cmp);
	if (rc < 0) {
		strv_free(out);
		return -1;
	}
	*names = out;
	return 0;
}
