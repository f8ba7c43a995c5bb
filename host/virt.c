/* libvirt, as xlab uses it. Every libvirt failure is turned into an xerr right
 * where it happens, from libvirt's thread-local last error, so parallel
 * callers never see each other's messages. */
#include "virt.h"

#include <fcntl.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connuri.h"
#include "util.h"
#include "virt_int.h"

virConnectPtr virt_conn(struct virt *v)
{
	return v->conn;
}

/* libvirt prints every error to stderr by default; xlab prints each once, at the top. */
static void virt_ignore_error(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* "WHAT: libvirt's message". Call right after the failing libvirt call. */
int virt_fail(struct xerr *e, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return xerr_set(e, XERR_FAIL, "%s: %s", what, virGetLastErrorMessage());
}

bool virt_last_error_is(int code)
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

/* A server that vanishes without closing the connection (switched off, its
 * cable pulled) would leave a call waiting for its reply for ever, even
 * the close. libvirt's keepalive ends such a connection and fails the
 * call, but only while the client runs an event loop, as virsh does: one
 * thread for the process, running libvirt's default loop. */
#define VIRT_KEEPALIVE_INTERVAL_S 5
#define VIRT_KEEPALIVE_COUNT 6

static pthread_t virt_event_thread;
static bool virt_event_running;
static atomic_bool virt_event_quit;

static void *virt_event_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&virt_event_quit))
		if (virEventRunDefaultImpl() < 0)
			return NULL;
	return NULL;
}

static void virt_event_wake(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

/* At exit, before the libraries tear themselves down: a closed remote
 * connection's socket is let go in the loop's thread, and its libssh2
 * session freed there after libssh2 was gone crashed `server list` now
 * and then. A timer that fires at once ends the loop's wait. */
static void virt_event_loop_stop(void)
{
	if (!virt_event_running)
		return;
	atomic_store(&virt_event_quit, true);
	if (virEventAddTimeout(0, virt_event_wake, NULL, NULL) >= 0)
		pthread_join(virt_event_thread, NULL);
	virt_event_running = false;
}

static void virt_event_loop_start(void)
{
	sigset_t stops, old;

	if (virEventRegisterDefaultImpl() < 0)
		return;
	/* Stop signals stay the command's main thread's (stop.h). */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	if (pthread_create(&virt_event_thread, NULL, virt_event_loop, NULL) == 0) {
		virt_event_running = true;
		atexit(virt_event_loop_stop);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static pthread_once_t virt_event_once = PTHREAD_ONCE_INIT;
static bool virt_event_deferred;

void virt_event_loop_defer(bool defer)
{
	virt_event_deferred = defer;
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
	if (!virt_event_deferred)
		pthread_once(&virt_event_once, virt_event_loop_start);
	conn = virConnectOpen(uri);
	if (!conn && strcmp(uri, "qemu:///system") == 0 && access(LIBVIRT_SOCKET, F_OK) != 0)
		return virt_fail(e, "cannot connect to libvirt at '%s' (no libvirtd runs here: "
				    "`systemctl start libvirtd`, or without systemd `virtlogd -d; "
				    "libvirtd -d`, as scripts/libvirtd.sh does)", uri);
	if (!conn)
		return virt_fail(e, "cannot connect to libvirt at '%s'", uri);
	virConnSetErrorFunc(conn, NULL, virt_ignore_error);
	/* Drivers without a daemon (test:///) have no keepalive: nothing to lose. */
	(void)virConnectSetKeepAlive(conn, VIRT_KEEPALIVE_INTERVAL_S, VIRT_KEEPALIVE_COUNT);
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

bool virt_alive(struct virt *v)
{
	return virConnectIsAlive(v->conn) == 1;
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
char *xml_xpath_string(const char *xml, const char *expr)
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

bool virt_kvm_nested_text_on(const char *text)
{
	return text && (text[0] == 'Y' || text[0] == 'y' || text[0] == '1');
}

bool virt_kvm_nested_off(struct virt *v, const char **param)
{
	static const char *const params[] = {
		"/sys/module/kvm_amd/parameters/nested",
		"/sys/module/kvm_intel/parameters/nested",
	};
	_cleanup_free_ char *uri = virConnectGetURI(v->conn);

	/* A daemon elsewhere runs another machine's KVM: its agent says. */
	if (!uri || strncmp(uri, "qemu:///", 8) != 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		_cleanup_free_ char *text = NULL;
		struct xerr ignored = { 0 };
		size_t len;

		if (file_read_all(params[i], 64, &text, &len, &ignored) < 0)
			continue;
		*param = params[i];
		return !virt_kvm_nested_text_on(text);
	}
	return false;
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

/* The server's own CPU shows VT-x or AMD-V, as its libvirt reports it:
 * what /proc/cpuinfo tells for this machine. A /dev/kvm without them (a
 * VM that exposes none) offers "kvm" in domain capabilities all the same. */
static bool server_cpu_has_hwvirt(struct virt *v)
{
	_cleanup_free_ char *caps = virConnectGetCapabilities(v->conn), *n = NULL;

	if (!caps)
		return false;
	n = xml_xpath_string(caps, "string(count(/capabilities/host/cpu/feature[@name='vmx' "
				   "or @name='svm']))");
	return n && strcmp(n, "0") != 0;
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
	*accel = xstrdup(libvirt_offers_kvm(v) &&
					 (virt_is_remote(v) ? server_cpu_has_hwvirt(v) : host_kvm_usable())
				 ? "kvm"
				 : "qemu");
	virResetLastError();
	return 0;
}

bool virt_is_remote(struct virt *v)
{
	_cleanup_free_ char *uri = virConnectGetURI(v->conn);
	const char *p = uri ? strstr(uri, "://") : NULL;

	virResetLastError();
	/* "qemu:///system" names no host; "qemu+libssh2://root@box2/system" does. */
	return p && p[3] != '/' && p[3] != '\0';
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

int domain_owner(virDomainPtr dom, struct virt_owner *o, struct xerr *e)
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
