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
	return xerr_set(e, XERR_FAIL, "%s: %s", what, virGetLastErrorMessage());
}

static bool virt_last_error_is(int code)
{
	return virGetLastErrorCode() == code;
}

static const char *uri_override;

void virt_uri_override(const char *uri)
{
	uri_override = uri;
	setenv("XLAB_CONNECT", uri, 1);
}

const char *virt_default_uri(const char *flag, const char *spec_uri)
{
	const char *env = getenv("XLAB_CONNECT");

	/* The person at the keyboard wins over the file they were handed. */
	if (flag && *flag)
		return flag;
	if (uri_override && *uri_override)
		return uri_override;
	if (env && *env)
		return env;
	if (spec_uri && *spec_uri)
		return spec_uri;
	return "qemu:///system";
}

/* Where a local system libvirtd listens (Debian's build). */
#define LIBVIRT_SOCKET "/var/run/libvirt/libvirt-sock"

int virt_open(const char *uri, struct virt **out, struct xerr *e)
{
	virConnectPtr conn;
	const char *why;

	/* Whatever its source, a URI that would run a program here is refused
	 * before libvirt parses it. */
	if (!libvirt_uri_allowed(uri, &why))
		return xerr_set(e, XERR_FAIL, "libvirt URI '%s' is refused: %s", uri, why);
	if (virInitialize() < 0)
		return xerr_set(e, XERR_FAIL, "cannot initialize libvirt");
	virSetErrorFunc(NULL, virt_ignore_error);
	conn = virConnectOpen(uri);
	if (!conn && strcmp(uri, "qemu:///system") == 0 && access(LIBVIRT_SOCKET, F_OK) != 0)
		return virt_fail(e, "cannot connect to libvirt at '%s' (no libvirtd runs here: "
				    "`systemctl start libvirtd`, or without systemd `virtlogd -d; "
				    "libvirtd -d`, as scripts/libvirtd.sh does)", uri);
	if (!conn)
		return virt_fail(e, "cannot connect to libvirt at '%s'", uri);
	virConnSetErrorFunc(conn, NULL, virt_ignore_error);
	*out = xcalloc(1, sizeof(**out));
	(*out)->conn = conn;
	return 0;
}

/* libvirt's network driver writes the MACs of a network's domains to
 * DIR/BRIDGE.macs when one starts, and fails the start when the directory is
 * missing. It makes the directory only when it starts a dnsmasq for DHCP,
 * which a lab network (static addresses) never needs, and no Debian package
 * ships it: on a machine where no DHCP network ever ran (a fresh one, or one
 * without systemd to autostart libvirt's default network) it is not there. */
#define LIBVIRT_DNSMASQ_DIR "/var/lib/libvirt/dnsmasq"

int virt_ensure_state_dir(const char *root, struct xerr *e)
{
	_cleanup_free_ char *dir = xasprintf("%s%s", root, LIBVIRT_DNSMASQ_DIR);
	struct xerr why = { 0 };

	if (access(dir, F_OK) == 0)
		return 0;
	/* The mode libvirt itself gives it. */
	if (mkdir_p(dir, 0755, &why) == 0)
		return 0;
	return xerr_set(e, XERR_FAIL,
			"libvirt's network state directory %s is missing and xlab could not make "
			"it (%s); libvirt fails to start a domain on a lab network without it: "
			"as root, `mkdir -p %s`",
			dir, why.msg, dir);
}

/* Only a daemon on this machine shares our filesystem: a remote one (a host
 * in the URI) or a session daemon keeps its state elsewhere. */
static bool virt_is_local_system(struct virt *v)
{
	_cleanup_free_ char *uri = virConnectGetURI(v->conn);

	return uri && strcmp(uri, "qemu:///system") == 0;
}

int virt_check_daemon_state(struct virt *v, struct xerr *e)
{
	return virt_is_local_system(v) ? virt_ensure_state_dir("", e) : 0;
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
			return xerr_set(e, XERR_USAGE,
					"unknown accelerator '%s' (use kvm, qemu or tcg)", force);
		return 0;
	}
	*accel = xstrdup(libvirt_offers_kvm(v) && host_kvm_usable() ? "kvm" : "qemu");
	return 0;
}

/* ---- owners: the xlab <metadata> of domains and networks ---- */

void virt_owner_set(struct virt_owner *o, const char *store_id, const char *lab)
{
	snprintf(o->store, sizeof(o->store), "%s", store_id);
	snprintf(o->lab, sizeof(o->lab), "%s", lab);
}

/* Reads the <xlab:lab name= store=> element out of an object's XML. libvirt
 * keeps the namespace on it in the object's description. */
static void owner_from_xml(const char *xml, const char *root, struct virt_owner *o)
{
	_cleanup_free_ char *lab = NULL, *store = NULL;
	_cleanup_free_ char *q_lab = xasprintf(
		"string(/%s/metadata/*[local-name()='lab' and namespace-uri()='%s']/@name)", root,
		XLAB_XML_NS);
	_cleanup_free_ char *q_store = xasprintf(
		"string(/%s/metadata/*[local-name()='lab' and namespace-uri()='%s']/@store)", root,
		XLAB_XML_NS);

	memset(o, 0, sizeof(*o));
	lab = xml_xpath_string(xml, q_lab);
	store = xml_xpath_string(xml, q_store);
	snprintf(o->lab, sizeof(o->lab), "%s", lab ? lab : "");
	snprintf(o->store, sizeof(o->store), "%s", store ? store : "");
}

static int network_owner(virNetworkPtr net, struct virt_owner *o, struct xerr *e)
{
	_cleanup_free_ char *xml = virNetworkGetXMLDesc(net, 0);

	if (!xml)
		return virt_fail(e, "cannot read network '%s'", virNetworkGetName(net));
	owner_from_xml(xml, "network", o);
	return 0;
}

static int domain_owner(virDomainPtr dom, struct virt_owner *o, struct xerr *e)
{
	/* The persistent definition: what xlab defined, whatever runs now. */
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);

	if (!xml)
		return virt_fail(e, "cannot read domain '%s'", virDomainGetName(dom));
	owner_from_xml(xml, "domain", o);
	return 0;
}

int virt_owner_check(const char *kind, const char *name, const struct virt_owner *have,
		     const struct virt_owner *want, struct xerr *e)
{
	if (!have->lab[0])
		return xerr_set(e, XERR_FAIL,
				"%s '%s' was not made by xlab (no xlab metadata); not touching it",
				kind, name);
	if (!have->store[0])
		return xerr_set(e, XERR_FAIL,
				"%s '%s' of lab '%s' was made by an xlab without store ids, not "
				"by this store; not touching it (remove it with virsh if it is "
				"yours)",
				kind, name, have->lab);
	if (strcmp(have->store, want->store) != 0)
		return xerr_set(e, XERR_FAIL,
				"%s '%s' belongs to lab '%s' of another xlab store (store id %s; "
				"this one is %s); not touching it",
				kind, name, have->lab, have->store, want->store);
	if (strcmp(have->lab, want->lab) != 0)
		return xerr_set(e, XERR_FAIL,
				"%s '%s' belongs to lab '%s', not '%s'; not touching it", kind, name,
				have->lab, want->lab);
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
		xerr_set(e, XERR_FAIL, "network XML defines '%s', not '%s'",
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

/* Whether NET is active (*active), once it is known to be want's: another
 * lab's or store's network is refused before anything is asked of it. */
static int network_active_owned(virNetworkPtr net, const char *name,
				const struct virt_owner *want, int *active, struct xerr *e)
{
	struct virt_owner have;

	if (network_owner(net, &have, e) < 0 ||
	    virt_owner_check("network", name, &have, want, e) < 0)
		return -1;
	*active = virNetworkIsActive(net);
	if (*active < 0)
		return virt_fail(e, "cannot query network '%s'", name);
	return 0;
}

/* NET started unless it is another lab's or store's: refused then. */
static int network_start_owned(virNetworkPtr net, const char *name,
			       const struct virt_owner *want, struct xerr *e)
{
	int active;

	if (network_active_owned(net, name, want, &active, e) < 0)
		return -1;
	if (!active && virNetworkCreate(net) < 0)
		return virt_fail(e, "cannot start network '%s'", name);
	return 0;
}

int virt_network_ensure(struct virt *v, const char *name, const char *xml,
			const struct virt_owner *want, bool *created, struct xerr *e)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);

	*created = false;
	if (!net) {
		if (!virt_last_error_is(VIR_ERR_NO_NETWORK))
			return virt_fail(e, "cannot look up network '%s'", name);
		if (network_define_start(v, name, xml, e) < 0)
			return -1;
		*created = true;
		return 0;
	}
	return network_start_owned(net, name, want, e);
}

int virt_network_remove(struct virt *v, const char *name, const struct virt_owner *want,
			struct xerr *e)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	int active;

	if (!net) {
		if (virt_last_error_is(VIR_ERR_NO_NETWORK))
			return 0;
		return virt_fail(e, "cannot look up network '%s'", name);
	}
	if (network_active_owned(net, name, want, &active, e) < 0)
		return -1;
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

/* domain_lookup, and refused (NULL, *missing false) unless `want` owns it. */
static virDomainPtr domain_lookup_owned(struct virt *v, const char *name,
					const struct virt_owner *want, bool *missing,
					struct xerr *e)
{
	virDomainPtr dom = domain_lookup(v, name, missing, e);
	struct virt_owner have;

	if (dom && (domain_owner(dom, &have, e) < 0 ||
		    virt_owner_check("domain", name, &have, want, e) < 0)) {
		virDomainFree(dom);
		return NULL;
	}
	return dom;
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
		return missing ? xerr_set(e, XERR_FAIL, "no domain '%s' to restart", name) : -1;
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
		return missing ? xerr_set(e, XERR_FAIL, "no domain '%s' to start", name) : -1;
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
	if (domain_owner(dom, &info->owner, e) < 0)
		return -1;
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
		return missing ? xerr_set(e, XERR_FAIL, "no domain '%s'", name) : -1;
	active = virDomainIsActive(dom);
	if (active < 0)
		return virt_fail(e, "cannot query domain '%s'", name);
	if (!active)
		return xerr_set(e, XERR_FAIL, "domain '%s' is not running", name);
	port = domain_vnc_port(dom, &listen);
	if (port < 0)
		return xerr_set(e, XERR_FAIL, "domain '%s' has no VNC display", name);
	/* 0.0.0.0 or :: mean "every address": the local one reaches it too. */
	if (!listen || strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0) {
		free(listen);
		listen = xstrdup("127.0.0.1");
	}
	*display = xasprintf(strchr(listen, ':') ? "[%s]:%d" : "%s:%d", listen, port);
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

int virt_domain_remove(struct virt *v, const char *name, const struct virt_owner *want,
		       struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup_owned(v, name, want, &missing, e);
	int persistent;

	if (!dom)
		return missing ? 0 : -1;
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

int virt_lab_domains(struct virt *v, const struct virt_owner *want, char ***names,
		     struct xerr *e)
{
	virDomainPtr *doms = NULL;
	char **out = NULL;
	size_t cap = 0, n = 0;
	int count, rc = 0;

	count = virConnectListAllDomains(v->conn, &doms, 0);
	if (count < 0)
		return virt_fail(e, "cannot list domains");
	for (int i = 0; i < count; i++) {
		struct virt_owner owner = { 0 };

		if (rc == 0 && domain_owner(doms[i], &owner, e) < 0) {
			/* It vanished while we looked: it is no longer the lab's. */
			if (virt_last_error_is(VIR_ERR_NO_DOMAIN))
				xerr_clear(e);
			else
				rc = -1;
		}
		if (rc == 0 && !strcmp(owner.store, want->store) && !strcmp(owner.lab, want->lab)) {
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

int virt_lab_stores(struct virt *v, const char *lab, char ***stores, struct xerr *e)
{
	virDomainPtr *doms = NULL;
	char **out = NULL;
	size_t cap = 0, n = 0;
	int count;

	count = virConnectListAllDomains(v->conn, &doms, 0);
	if (count < 0)
		return virt_fail(e, "cannot list domains");
	for (int i = 0; i < count; i++) {
		struct virt_owner owner = { 0 };
		struct xerr ignore = { 0 };
		bool seen = false;

		/* One that vanished or cannot be read is no one's lab. */
		if (domain_owner(doms[i], &owner, &ignore) == 0 && !strcmp(owner.lab, lab)) {
			for (size_t k = 0; k < n; k++)
				seen = seen || !strcmp(out[k], owner.store);
			if (!seen) {
				xgrow((void **)&out, &cap, n + 1, sizeof(*out));
				out[n++] = xstrdup(owner.store);
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	xgrow((void **)&out, &cap, n + 1, sizeof(*out));
	out[n] = NULL;
	qsort(out, n, sizeof(*out), name_cmp);
	*stores = out;
	return 0;
}

/* ---- stop / start ---- */

/* Polls until the domain is off or ms have passed: 1 off, 0 still on. */
static int domain_wait_off(virDomainPtr dom, const char *name, int64_t ms, struct xerr *e)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		int active = virDomainIsActive(dom);

		if (active < 0)
			return virt_fail(e, "cannot query domain '%s'", name);
		if (!active)
			return 1;
		if (now_ms() >= deadline)
			return 0;
		usleep(250 * 1000);
	}
}

int virt_domain_shutdown(struct virt *v, const char *name, const struct virt_owner *want,
			 int self_s, int acpi_s, bool *forced, struct xerr *e)
{
	bool missing;
	_cleanup_dom_ virDomainPtr dom = domain_lookup_owned(v, name, want, &missing, e);
	int off;

	*forced = false;
	if (!dom)
		return missing ? 0 : -1;
	off = domain_wait_off(dom, name, (int64_t)self_s * 1000, e);
	if (off != 0)
		return off < 0 ? -1 : 0;
	/* A refusal (no ACPI in the guest, a driver without shutdown) is no
	 * error: the wait below ends in the destroy all the same. */
	if (virDomainShutdown(dom) < 0 && !virt_last_error_is(VIR_ERR_OPERATION_INVALID)) {
		struct xerr ignore = { 0 };

		virt_fail(&ignore, "cannot ask domain '%s' to shut down", name);
	}
	off = domain_wait_off(dom, name, (int64_t)acpi_s * 1000, e);
	if (off != 0)
		return off < 0 ? -1 : 0;
	*forced = true;
	return domain_destroy(dom, name, e);
}

int virt_network_start(struct virt *v, const char *name, const struct virt_owner *want,
		       struct xerr *e)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);

	if (!net) {
		if (!virt_last_error_is(VIR_ERR_NO_NETWORK))
			return virt_fail(e, "cannot look up network '%s'", name);
		return xerr_set(e, XERR_FAIL,
				"the lab's network '%s' is gone from libvirt; `xlab up` with the "
				"lab's spec makes it again",
				name);
	}
	return network_start_owned(net, name, want, e);
}
