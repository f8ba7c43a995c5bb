/* libvirt, as xlab uses it: one connection, lab networks and host domains.
 * Every object xlab defines carries <metadata> naming its lab, so `down`
 * finds all of a lab's domains even when the spec is gone. */
#ifndef XLAB_VIRT_H
#define XLAB_VIRT_H

#include <stdbool.h>

#include "err.h"

struct virt;

#define XLAB_XML_NS "https://xlab.dev/xmlns/libvirt/1"

struct virt_dom_info {
	bool exists;
	bool running;
	char uuid[40];
	unsigned long long memory_kib;
	int vcpus;
	int vnc_port; /* -1 when none or not running */
};

/* --connect, else the spec's `libvirt:`, else $XLAB_CONNECT, else qemu:///system. */
const char *virt_default_uri(const char *flag, const char *spec_uri);
/* `xlab --connect URI COMMAND`: as if every --connect of the command said
 * URI (a command's own --connect still wins). Also exported as
 * $XLAB_CONNECT so the xlab processes a command spawns use it. */
void virt_uri_override(const char *uri);
int virt_open(const char *uri, struct virt **out, struct xerr *e);
void virt_close(struct virt *v);

/* "kvm" when libvirt's domain capabilities offer it and the CPU has VT-x/AMD-V
 * and /dev/kvm opens (or force == "kvm"), else "qemu" (TCG). A bad force is
 * XLAB_EXIT_USAGE. force may be NULL, "kvm" or "qemu"/"tcg". *accel is malloc'd. */
int virt_detect_accel(struct virt *v, const char *force, char **accel, struct xerr *e);

/* Defines and starts the network from xml unless one of that name exists;
 * starts it when defined but inactive. */
int virt_network_ensure(struct virt *v, const char *name, const char *xml, bool *created,
			struct xerr *e);
/* Destroys and undefines; a missing network is not an error. */
int virt_network_remove(struct virt *v, const char *name, struct xerr *e);

/* Defines a persistent domain; writes its UUID string into uuid[40]. */
int virt_domain_define(struct virt *v, const char *xml, char uuid[40], struct xerr *e);
int virt_domain_start(struct virt *v, const char *name, struct xerr *e);
/* Off and on again (a hung or paused machine too): the domain stays defined. */
int virt_domain_power_cycle(struct virt *v, const char *name, struct xerr *e);
/* info->exists false (and 0 returned) when there is no such domain. */
int virt_domain_info(struct virt *v, const char *name, struct virt_dom_info *info,
		     struct xerr *e);
/* Destroys and undefines the domain if it exists and belongs to lab (metadata);
 * refuses a domain of that name that xlab did not make for this lab. */
int virt_domain_remove(struct virt *v, const char *name, const char *lab, struct xerr *e);
/* Names of every domain whose xlab metadata names lab, sorted; NULL-terminated, strv_free. */
int virt_lab_domains(struct virt *v, const char *lab, char ***names, struct xerr *e);
/* "HOST:PORT" (malloc'd) of a running domain's VNC server, for `xlab vnc`;
 * HOST is its listen address, 127.0.0.1 when it listens everywhere or says nothing. */
int virt_domain_vnc(struct virt *v, const char *name, char **display, struct xerr *e);

/* Whether /proc/cpuinfo text shows VT-x or AMD-V (a "vmx" or "svm" flag). */
bool virt_cpuinfo_has_hwvirt(const char *cpuinfo);

/* The raw connection, for the few callers that stream (console). */
#include <libvirt/libvirt.h>
virConnectPtr virt_conn(struct virt *v);

#endif
