/* Allocation and rendering: pure functions of the spec and plan_env. */
#include "plan.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dom0paths.h"
#include "names.h"
#include "paths.h"
#include "serverspec.h"
#include "sha256.h"
#include "subnet.h"
#include "util.h"

#define XLAB_XML_NS "https://xlab.dev/xmlns/libvirt/1"
#define HOST_FIRST 10  /* hosts take .10 .. .49 */
#define GUEST_FIRST 50 /* guests take .50 .. */

void plan_mac(const char *lab, const char *node, char out[18])
{
	_cleanup_free_ char *key = xasprintf("%s/%s", lab, node);
	unsigned char h[32];
	char hex[65];

	sha256_hex(key, strlen(key), hex);
	for (int i = 0; i < 6; i++)
		sscanf(hex + 2 * i, "%2hhx", &h[i]);
	/* Unicast, locally administered: never collides with a vendor's MAC. */
	h[0] = (h[0] & 0xfc) | 0x02;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3], h[4], h[5]);
}

static void ip_format(uint32_t a, char out[16])
{
	struct in_addr in = { .s_addr = htonl(a) };

	inet_ntop(AF_INET, &in, out, 16);
}

static uint32_t ip_parse(const char *s)
{
	struct in_addr in;

	return inet_pton(AF_INET, s, &in) == 1 ? ntohl(in.s_addr) : 0;
}

/* The next free address at or after *next, below the broadcast address. */
static int ip_take(const struct cidr *net, uint32_t *next, uint32_t limit, const uint32_t *used,
		   size_t n_used, const char *node, char out[16], struct xerr *e)
{
	uint32_t bcast = net->addr | (net->prefix ? (0xffffffffu >> net->prefix) : 0xffffffffu);

	for (; *next < bcast && *next < limit; (*next)++) {
		bool taken = false;

		for (size_t i = 0; i < n_used; i++)
			taken |= used[i] == *next;
		if (!taken) {
			ip_format((*next)++, out);
			return 0;
		}
	}
	return xerr_set(e, XERR_USAGE, "no address left for '%s' in the lab subnet; use a "
			"larger `network.subnet`", node);
}

/* --- XML through libxml2's writer: it escapes every value. --- */

struct xw {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
};

static void xw_open(struct xw *x)
{
	x->buf = xmlBufferCreate();
	x->w = xmlNewTextWriterMemory(x->buf, 0);
	xmlTextWriterSetIndent(x->w, 1);
	xmlTextWriterSetIndentString(x->w, BAD_CAST "  ");
}

static char *xw_close(struct xw *x)
{
	char *s;

	xmlTextWriterEndDocument(x->w);
	xmlFreeTextWriter(x->w);
	s = xstrdup((const char *)xmlBufferContent(x->buf));
	xmlBufferFree(x->buf);
	return s;
}

static void el(struct xw *x, const char *name)
{
	xmlTextWriterStartElement(x->w, BAD_CAST name);
}

static void end(struct xw *x)
{
	xmlTextWriterEndElement(x->w);
}

static void attr(struct xw *x, const char *name, const char *value)
{
	xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value);
}

static void text_el(struct xw *x, const char *name, const char *value)
{
	xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST value);
}

/* <name a1=v1 a2=v2 .../> from NULL-terminated name/value pairs. */
static void empty_el(struct xw *x, const char *name, ...)
{
	va_list ap;
	const char *k;

	el(x, name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *)))
		attr(x, k, va_arg(ap, const char *));
	va_end(ap);
	end(x);
}

/* Who owns the object: the lab and the store that made it. */
static void xml_metadata(struct xw *x, const char *store_id, const char *lab, const char *node)
{
	el(x, "metadata");
	xmlTextWriterStartElementNS(x->w, BAD_CAST "xlab", BAD_CAST "lab", BAD_CAST XLAB_XML_NS);
	attr(x, "name", lab);
	attr(x, "store", store_id);
	if (node)
		attr(x, "node", node);
	end(x);
	end(x);
}

static char *network_xml(const struct plan *p, bool gateway)
{
	struct xw x;

	xw_open(&x);
	el(&x, "network");
	text_el(&x, "name", p->network);
	xml_metadata(&x, p->store_id, p->spec->lab, NULL);
	/* No <forward>: the lab network is isolated from everything else. */
	empty_el(&x, "bridge", "name", p->bridge, "stp", "off", "delay", "0", NULL);
	/* Across servers every port of the bridge, the hosts' NICs too (virtio's
	 * host_mtu), leaves room for VXLAN's headers. */
	if (p->spread)
		empty_el(&x, "mtu", "size", PLAN_VXLAN_MTU_TEXT, NULL);
	/* Static addresses everywhere: no dnsmasq, nothing answering on the lab. */
	empty_el(&x, "dns", "enable", "no", NULL);
	/* One gateway on the one L2 network, on the lab's own server. */
	if (gateway)
		empty_el(&x, "ip", "address", p->gateway, "netmask", p->netmask, NULL);
	end(&x);
	return xw_close(&x);
}

static void xml_disk(struct xw *x, const char *format, const char *path, const char *dev,
		     const char *serial, bool readonly)
{
	el(x, "disk");
	attr(x, "type", "file");
	attr(x, "device", "disk");
	empty_el(x, "driver", "name", "qemu", "type", format, NULL);
	empty_el(x, "source", "file", path, NULL);
	empty_el(x, "target", "dev", dev, "bus", "virtio", NULL);
	text_el(x, "serial", serial);
	if (readonly)
		empty_el(x, "readonly", NULL);
	end(x);
}

/* The shared disk: every host writes it, so no host may cache it
 * (cache='none') and libvirt must let the qemus share it (<shareable/>).
 * Across servers it is one qemu-nbd's export, the one writer of the file. */
static void xml_shared_disk(struct xw *x, const struct plan *p, size_t n_extra)
{
	char dev[8], port[8];

	snprintf(dev, sizeof(dev), "vd%c", (char)('d' + n_extra));
	el(x, "disk");
	attr(x, "type", p->shared_nbd_addr ? "network" : "file");
	attr(x, "device", "disk");
	empty_el(x, "driver", "name", "qemu", "type", "raw", "cache", "none", NULL);
	if (p->shared_nbd_addr) {
		snprintf(port, sizeof(port), "%d", p->shared_nbd_port);
		el(x, "source");
		attr(x, "protocol", "nbd");
		attr(x, "name", PLAN_NBD_EXPORT);
		empty_el(x, "host", "name", p->shared_nbd_addr, "port", port, NULL);
		end(x);
	} else {
		empty_el(x, "source", "file", p->shared_disk, NULL);
	}
	empty_el(x, "target", "dev", dev, "bus", "virtio", NULL);
	text_el(x, "serial", PLAN_SHARED_SERIAL);
	empty_el(x, "shareable", NULL);
	end(x);
}

static char *domain_xml(const struct plan *p, const struct plan_host *ph, const char *accel)
{
	const struct spec_host *h = ph->spec;
	char num[32], dev[8];
	struct xw x;

	xw_open(&x);
	el(&x, "domain");
	attr(&x, "type", strcmp(accel, "kvm") == 0 ? "kvm" : "qemu");
	text_el(&x, "name", ph->domain);
	xml_metadata(&x, p->store_id, p->spec->lab, h->name);
	snprintf(num, sizeof(num), "%" PRIu64, h->memory / 1024);
	el(&x, "memory");
	attr(&x, "unit", "KiB");
	xmlTextWriterWriteString(x.w, BAD_CAST num);
	end(&x);
	snprintf(num, sizeof(num), "%d", h->vcpus);
	text_el(&x, "vcpu", num);
	el(&x, "os");
	el(&x, "type");
	attr(&x, "arch", "x86_64");
	attr(&x, "machine", "pc");
	xmlTextWriterWriteString(x.w, BAD_CAST "hvm");
	end(&x);
	if (ph->direct_boot) {
		text_el(&x, "kernel", ph->boot_xen);
		text_el(&x, "initrd", ph->boot_kernel);
		text_el(&x, "cmdline", ph->xen_cmdline);
	} else {
		empty_el(&x, "boot", "dev", "cdrom", NULL);
	}
	end(&x);
	/* Without ACPI libvirt passes -no-acpi and Xen 4.17 panics in get_smp_config. */
	el(&x, "features");
	empty_el(&x, "acpi", NULL);
	empty_el(&x, "apic", NULL);
	end(&x);
	if (strcmp(accel, "kvm") == 0) {
		empty_el(&x, "cpu", "mode", "host-passthrough", NULL);
	} else {
		/* Under TCG `max` exposes SMAP and the PV dom0 faults at once; qemu64
		 * works. TCG emulates AMD SVM with nested paging: with svm Xen can
		 * run PVH and HVM guests, with npt also on HAP (all Debian's 4.20
		 * has; xlab prefers shadow under TCG, see prefer_shadow), and the
		 * PV dom0 boots as before. */
		el(&x, "cpu");
		attr(&x, "mode", "custom");
		attr(&x, "match", "exact");
		text_el(&x, "model", "qemu64");
		empty_el(&x, "feature", "policy", "require", "name", "svm", NULL);
		empty_el(&x, "feature", "policy", "require", "name", "npt", NULL);
		/* TCG emulates RDRAND: the dom0's and guests' random pools are
		 * seeded at once, with no virtio-rng device to probe. */
		empty_el(&x, "feature", "policy", "require", "name", "rdrand", NULL);
		end(&x);
	}
	empty_el(&x, "clock", "offset", "utc", NULL);
	text_el(&x, "on_poweroff", "destroy");
	text_el(&x, "on_reboot", "restart");
	text_el(&x, "on_crash", "destroy");
	el(&x, "devices");
	if (!ph->direct_boot) {
		el(&x, "disk");
		attr(&x, "type", "file");
		attr(&x, "device", "cdrom");
		empty_el(&x, "driver", "name", "qemu", "type", "raw", NULL);
		empty_el(&x, "source", "file", ph->boot_iso, NULL);
		empty_el(&x, "target", "dev", "hdc", "bus", "ide", NULL);
		empty_el(&x, "readonly", NULL);
		end(&x);
	}
	/* Disks are found in dom0 by serial, never by order, but for the root
	 * of a dom0 booted directly: the first virtio disk, vda (DOM0_ARGS). */
	xml_disk(&x, "qcow2", ph->root_overlay, "vda", "xlab-root", false);
	xml_disk(&x, "raw", ph->config_disk, "vdb", "xlab-config", true);
	xml_disk(&x, "qcow2", ph->data_disk, "vdc", "xlab-data", false);
	for (size_t i = 0; i < h->n_disks; i++) {
		char serial[32];

		snprintf(dev, sizeof(dev), "vd%c", (char)('d' + i));
		snprintf(serial, sizeof(serial), "xlab-extra%zu", i + 1);
		xml_disk(&x, "qcow2", ph->extra_disks[i], dev, serial, false);
	}
	if (p->shared_disk)
		xml_shared_disk(&x, p, h->n_disks);
	el(&x, "interface");
	attr(&x, "type", "network");
	empty_el(&x, "source", "network", p->network, NULL);
	empty_el(&x, "mac", "address", ph->mac, NULL);
	empty_el(&x, "model", "type", "virtio", NULL);
	/* The dom0's NIC learns it (virtio's host_mtu), and with it the dom0's
	 * bridge and TCP: a full-size frame would be lost in the VXLAN. */
	if (p->spread)
		empty_el(&x, "mtu", "size", PLAN_VXLAN_MTU_TEXT, NULL);
	end(&x);
	/* A pty keeps `xlab console` live; virtlogd copies it to the log file. */
	el(&x, "serial");
	attr(&x, "type", "pty");
	empty_el(&x, "log", "file", ph->serial_log, "append", "on", NULL);
	empty_el(&x, "target", "port", "0", NULL);
	end(&x);
	el(&x, "console");
	attr(&x, "type", "pty");
	empty_el(&x, "target", "type", "serial", "port", "0", NULL);
	end(&x);
	el(&x, "graphics");
	attr(&x, "type", "vnc");
	attr(&x, "port", "-1");
	attr(&x, "autoport", "yes");
	attr(&x, "listen", "127.0.0.1");
	empty_el(&x, "listen", "type", "address", "address", "127.0.0.1", NULL);
	end(&x);
	el(&x, "video");
	empty_el(&x, "model", "type", "vga", NULL);
	end(&x);
	empty_el(&x, "memballoon", "model", "none", NULL);
	/* No USB: nothing in a dom0 uses it, and the firmware would set it up. */
	empty_el(&x, "controller", "type", "usb", "model", "none", NULL);
	/* Under KVM a CPU may lack RDRAND: without a source the dom0's random
	 * pool fills from interrupts, and sshd (getrandom) waits for it. Under
	 * TCG the CPU has it (above), and every PCI device costs the dom0
	 * kernel a tenth of a second to probe. */
	if (strcmp(accel, "kvm") == 0) {
		el(&x, "rng");
		attr(&x, "model", "virtio");
		el(&x, "backend");
		attr(&x, "model", "random");
		xmlTextWriterWriteString(x.w, BAD_CAST "/dev/urandom");
		end(&x);
		end(&x);
	}
	end(&x);
	end(&x);
	return xw_close(&x);
}

/* Under TCG a dom0 of more vCPUs than one is slower at everything: its
 * vCPUs synchronise (IPIs, TLB shootdowns, stop_machine at a module load)
 * through emulated hardware, and where vCPU threads outnumber the machine's
 * cores one spins while the one it waits for is not running. Two 2-vCPU
 * hosts on two cores: host.boot 25 s with two dom0 vCPUs, 13 s with one
 * (docs/performance.md). The host keeps its vCPUs for guests; under KVM
 * dom0 gets Xen's default, all of them (0: no option). */
static int dom0_vcpus_for(const struct spec_host *h, const char *accel)
{
	if (h->dom0_vcpus)
		return h->dom0_vcpus;
	return strcmp(accel, "kvm") == 0 ? 0 : 1;
}

/* Xen's options. bootscrub=0: QEMU hands the host zeroed RAM, so scrubbing
 * Xen's free memory protects nothing; Xen 4.17 does it in the background
 * after boot, and under TCG that took minutes in which a PV guest's boot
 * (its PIT calibration trapping to Xen port by port) went from 5 s to
 * 17-20 s. */
static char *xen_options(const struct plan_host *ph, const char *accel)
{
	uint64_t dom0_mib = ph->spec->dom0_mem >> 20;
	int dom0_vcpus = dom0_vcpus_for(ph->spec, accel);
	char vcpus[32] = "";

	if (dom0_vcpus)
		snprintf(vcpus, sizeof(vcpus), " dom0_max_vcpus=%d", dom0_vcpus);
	return xasprintf("dom0_mem=%" PRIu64 "M,max:%" PRIu64 "M console=com1 com1=115200,8n1 "
			 "bootscrub=0%s%s%s",
			 dom0_mib, dom0_mib, vcpus, ph->spec->xen_args ? " " : "",
			 ph->spec->xen_args ? ph->spec->xen_args : "");
}

/* The dom0's root is the first virtio disk: libvirt gives disks their PCI
 * slots in target order (vda first) and Linux names them in slot order.
 * swiotlb=8192 (16 MiB): a PV dom0 trades its bounce buffer with Xen for
 * machine-contiguous memory 2 MiB at a time, 0.35 s of a TCG boot for the
 * default 64 MiB. Its devices are all virtio, 64-bit and fed from
 * machine-contiguous segments (Xen's bio merging): they seldom bounce. */
#define DOM0_ARGS \
	"root=/dev/vda ro console=hvc0 net.ifnames=0 init=/sbin/xlab-init swiotlb=8192"

static char *grub_cfg(const struct plan_host *ph, const char *accel)
{
	_cleanup_free_ char *xen = xen_options(ph, accel);

	return xasprintf("set timeout=0\n"
			 "set default=0\n"
			 "serial --unit=0 --speed=115200\n"
			 "terminal_input serial console\n"
			 "terminal_output serial console\n"
			 "insmod gzio\n"
			 "menuentry 'Xen (xlab %s)' {\n"
			 "  multiboot /boot/xen.gz %s\n"
			 "  module /boot/vmlinuz " DOM0_ARGS "\n"
			 "  module /boot/initrd.img\n"
			 "}\n",
			 ph->spec->name, xen);
}

/* Booted directly the dom0 kernel has no initrd: it mounts the root
 * itself (rootwait: the disk may be probed after the kernel looks). Xen
 * gives the dom0 what follows " -- " on its own command line. */
static char *direct_cmdline(const struct plan_host *ph, const char *accel)
{
	_cleanup_free_ char *xen = xen_options(ph, accel);

	return xasprintf("%s -- " DOM0_ARGS " rootfstype=ext4 rootwait", xen);
}

static bool xl_has(const struct spec_guest *g, const char *key)
{
	for (size_t i = 0; i < g->n_xl; i++)
		if (strcmp(g->xl[i].key, key) == 0)
			return true;
	return false;
}

int plan_vnc_port(const char *ip, int prefix)
{
	struct in_addr a;
	uint32_t offset;

	if (prefix < 1 || prefix > 32 || inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	offset = ntohl(a.s_addr) & (prefix == 32 ? 0 : UINT32_MAX >> prefix);
	return offset <= 65535 - PLAN_VNC_PORT_BASE ? PLAN_VNC_PORT_BASE + (int)offset : -1;
}

/* Every type boots the guest kit's kernel directly, its console on hvc0
 * (an HVM guest's too: printk through an emulated UART costs minutes under
 * TCG; its serial port stays for the firmware). An HVM guest's NIC is PV
 * only (an emulated one needs /dev/net/tun in dom0), and its framebuffer
 * is the device model's VGA rather than a PV vfb. */
static void xl_cfg_boot(struct buf *b, const struct plan *p, const struct plan_guest *pg)
{
	const struct spec_guest *g = pg->spec;
	bool hvm = g->type == SPEC_GUEST_HVM;

	buf_printf(b, "type = \"%s\"\n", spec_guest_type_name(g->type));
	buf_printf(b, "memory = %" PRIu64 "\n", g->memory >> 20);
	buf_printf(b, "vcpus = %d\n", g->vcpus);
	buf_printf(b, "kernel = \"%s/vmlinuz\"\n", PLAN_GUEST_KIT);
	buf_printf(b, "ramdisk = \"%s/initrd.img\"\n", PLAN_GUEST_KIT);
	buf_printf(b, "root = \"/dev/xvda ro\"\n");
	/* Across servers the guest's frames must fit the VXLAN too: its init
	 * sets the MTU the lab network has (images/guest-init.sh). */
	buf_printf(b, "extra = \"console=hvc0 xlab.name=%s xlab.ip=%s/%d xlab.gw=%s%s\"\n",
		   g->name, pg->ip, p->prefix, p->gateway,
		   p->spread ? " xlab.mtu=" PLAN_VXLAN_MTU_TEXT : "");
	if (hvm)
		buf_printf(b, "serial = \"pty\"\n");
}

#define DISK_SPEC "format=raw,vdev=%s,access=w%s,target=%s%s"

static void xl_cfg_devices(struct buf *b, const struct plan *p, const struct plan_guest *pg)
{
	const struct spec_guest *g = pg->spec;
	bool hvm = g->type == SPEC_GUEST_HVM;
	int display = g->vnc ? plan_vnc_port(pg->ip, p->prefix) - PLAN_VNC_PORT_BASE : -1;
	/* xlab's lean hotplug scripts (agents/hotplug.c), unless the spec asks
	 * for Xen's: seconds off every create, start and migration under TCG.
	 * target= comes last: it takes the rest of the spec. */
	const char *block = g->xen_hotplug ? "" : ",script=" DOM0_HOTPLUG_BLOCK;
	const char *vif = g->xen_hotplug ? "" : ",script=" DOM0_HOTPLUG_VIF;

	if (g->swap)
		buf_printf(b, "disk = [ \"" DISK_SPEC "\", \"" DISK_SPEC "\" ]\n", "xvda", block,
			   pg->lv, "", "xvdb", block, pg->lv, "-swap");
	else
		buf_printf(b, "disk = [ \"" DISK_SPEC "\" ]\n", "xvda", block, pg->lv, "");
	buf_printf(b, "vif = [ \"mac=%s,bridge=xenbr0%s%s\" ]\n", pg->mac, hvm ? ",type=vif" : "",
		   vif);
	if (hvm && g->vnc)
		buf_printf(b, "vnc = 1\nvnclisten = \"127.0.0.1\"\nvncunused = 0\nvncdisplay = %d\n",
			   display);
	else if (hvm)
		buf_printf(b, "vnc = 0\n");
	else if (g->vnc)
		buf_printf(b, "vfb = [ \"vnc=1,vnclisten=127.0.0.1,vncunused=0,vncdisplay=%d\" ]\n",
			   display);
}

static char *xl_cfg(const struct plan *p, const struct plan_guest *pg)
{
	const struct spec_guest *g = pg->spec;
	struct buf b = { 0 };

	buf_printf(&b, "# xlab: lab %s, guest %s on host %s\n", p->spec->lab, g->name,
		   pg->host->spec->name);
	buf_printf(&b, "name = \"%s\"\n", g->name);
	xl_cfg_boot(&b, p, pg);
	xl_cfg_devices(&b, p, pg);
	if (!xl_has(g, "on_crash"))
		buf_printf(&b, "on_crash = \"destroy\"\n");
	for (size_t i = 0; i < g->n_xl; i++)
		buf_printf(&b, "%s = %s\n", g->xl[i].key, g->xl[i].value);
	return buf_steal(&b);
}

static char **host_storage_steps(const struct spec *s, const struct plan_host *ph, bool first)
{
	size_t n = ph->spec->n_disks, k = 0;
	char **v = xcalloc(2 * n + 5, sizeof(char *));

	v[k++] = xstrdup("pvcreate <disk xlab-data>");
	v[k++] = xasprintf("vgcreate %s <disk xlab-data>", s->vg);
	for (size_t i = 0; i < n; i++) {
		v[k++] = xasprintf("pvcreate <disk xlab-extra%zu>", i + 1);
		v[k++] = xasprintf("vgextend %s <disk xlab-extra%zu>", s->vg, i + 1);
	}
	if (s->shared_vg && first) {
		v[k++] = xstrdup("pvcreate <disk " PLAN_SHARED_SERIAL ">");
		v[k++] = xasprintf("vgcreate %s <disk " PLAN_SHARED_SERIAL "> (through this host only)",
				   s->shared_vg);
	} else if (s->shared_vg) {
		v[k++] = xasprintf("pvscan --cache; vgchange -ay %s (after the first host made it)",
				   s->shared_vg);
	}
	return v;
}

static char **guest_lvm_steps(const struct spec *s, const struct plan_guest *pg)
{
	char **v = xcalloc(7, sizeof(char *));
	size_t k = 0;

	v[k++] = xasprintf("lvcreate -n %s -L %" PRIu64 "b %s", pg->spec->name, pg->spec->disk,
			   pg->spec->shared ? s->shared_vg : s->vg);
	if (pg->spec->swap) {
		v[k++] = xasprintf("lvcreate -n %s-swap -L %" PRIu64 "b %s", pg->spec->name,
				   pg->spec->swap, pg->spec->shared ? s->shared_vg : s->vg);
		v[k++] = xasprintf("mkswap %s-swap", pg->lv);
	}
	v[k++] = xasprintf("mkfs.ext4 -d <rootfs %s> %s", pg->spec->rootfs, pg->lv);
	v[k++] = xasprintf("write /etc/fstab: /dev/xvda / ext4 defaults 0 1%s",
			   pg->spec->swap ? "; /dev/xvdb none swap sw 0 0" : "");
	v[k++] = xasprintf("xl create /etc/xen/xlab/%s.cfg", pg->spec->name);
	return v;
}

/* A host's files: in its directory here, or, for a lab on another server,
 * volumes of that server's pool named after the domain ("DOMAIN.root.qcow2":
 * every name of a lab starts with its network's name and a dot). The config
 * disk and the boot files are made here either way. */
static void host_paths(struct plan_host *ph, const char *state_dir, const char *volume_dir,
		       bool direct_boot)
{
	/* A host here never has volumes, whatever it was given. */
	volume_dir = ph->server ? volume_dir : NULL;
	const struct spec_host *h = ph->spec;
	_cleanup_free_ char *base = volume_dir ? xasprintf("%s/%s.", volume_dir, ph->domain) : NULL;

	ph->dir = names_host_dir(state_dir, h->name);
	if (!base)
		base = xasprintf("%s/", ph->dir);
	ph->root_overlay = xasprintf("%sroot.qcow2", base);
	ph->data_disk = xasprintf("%sdata.qcow2", base);
	ph->extra_disks = xcalloc(h->n_disks + 1, sizeof(char *));
	for (size_t i = 0; i < h->n_disks; i++)
		ph->extra_disks[i] = xasprintf("%sextra-%zu.qcow2", base, i + 1);
	ph->config_disk = xasprintf("%sconfig.img", base);
	ph->serial_log = xasprintf("%sserial.log", base);
	ph->config_build = xasprintf("%s/config.img", ph->dir);
	/* QEMU's multiboot loader takes its -initrd as a comma-separated list
	 * of modules, each a path and then its arguments: a path with a comma
	 * or a space boots from grub instead. */
	ph->direct_boot = direct_boot && !strpbrk(base, ", ");
	if (ph->direct_boot) {
		/* Unpacked here, the dom0 kernel spares Xen 0.4 s of a TCG boot;
		 * a server is sent the image's bzImage, a quarter of its size. */
		const char *kernel = ph->server ? "vmlinuz" : "vmlinux";

		ph->unpack_kernel = !ph->server;
		ph->boot_xen = xasprintf("%sxen", base);
		ph->boot_kernel = xasprintf("%s%s", base, kernel);
		ph->xen_build = xasprintf("%s/xen", ph->dir);
		ph->kernel_build = xasprintf("%s/%s", ph->dir, kernel);
	} else {
		ph->boot_iso = xasprintf("%sboot.iso", base);
		ph->iso_build = xasprintf("%s/boot.iso", ph->dir);
	}
}

char *plan_volume_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return xstrdup(slash ? slash + 1 : path);
}

/* Explicit addresses first, so allocated ones go around them. */
static uint32_t *explicit_ips(const struct spec *s, size_t *n)
{
	uint32_t *v = xcalloc(s->n_hosts + s->n_guests + 1, sizeof(uint32_t));

	*n = 0;
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].ip)
			v[(*n)++] = ip_parse(s->hosts[i].ip);
	for (size_t i = 0; i < s->n_guests; i++)
		if (s->guests[i].ip)
			v[(*n)++] = ip_parse(s->guests[i].ip);
	return v;
}

static int macs_unique(const struct plan *p, struct xerr *e)
{
	size_t n = p->n_hosts + p->n_guests;
	const char **macs = xcalloc(n, sizeof(char *));
	const char **names = xcalloc(n, sizeof(char *));
	int rc = 0;

	for (size_t i = 0; i < p->n_hosts; i++) {
		macs[i] = p->hosts[i].mac;
		names[i] = p->hosts[i].spec->name;
	}
	for (size_t i = 0; i < p->n_guests; i++) {
		macs[p->n_hosts + i] = p->guests[i].mac;
		names[p->n_hosts + i] = p->guests[i].spec->name;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = i + 1; j < n && rc == 0; j++)
			if (strcmp(macs[i], macs[j]) == 0)
				rc = xerr_set(e, XERR_USAGE,
					      "'%s' and '%s' hash to the same MAC %s; rename one",
					      names[i], names[j], macs[i]);
	free(macs);
	free(names);
	return rc;
}

static int plan_addresses(struct plan *p, const struct cidr *net, struct xerr *e)
{
	const struct spec *s = p->spec;
	size_t n_used;
	_cleanup_free_ uint32_t *used = explicit_ips(s, &n_used);
	uint32_t next = net->addr + HOST_FIRST;

	for (size_t i = 0; i < p->n_hosts; i++) {
		struct plan_host *ph = &p->hosts[i];

		if (ph->spec->ip)
			snprintf(ph->ip, sizeof(ph->ip), "%s", ph->spec->ip);
		else if (ip_take(net, &next, net->addr + GUEST_FIRST, used, n_used, ph->spec->name,
				 ph->ip, e) < 0)
			return -1;
	}
	next = net->addr + GUEST_FIRST;
	for (size_t i = 0; i < p->n_guests; i++) {
		struct plan_guest *pg = &p->guests[i];

		if (pg->spec->ip)
			snprintf(pg->ip, sizeof(pg->ip), "%s", pg->spec->ip);
		else if (ip_take(net, &next, UINT32_MAX, used, n_used, pg->spec->name, pg->ip,
				 e) < 0)
			return -1;
	}
	return 0;
}

static char *hosts_file(const struct plan *p)
{
	struct buf b = { 0 };

	buf_printf(&b, "# lab %s (xlab)\n", p->spec->lab);
	for (size_t i = 0; i < p->n_hosts; i++)
		buf_printf(&b, "%s %s\n", p->hosts[i].ip, p->hosts[i].spec->name);
	for (size_t i = 0; i < p->n_guests; i++)
		buf_printf(&b, "%s %s\n", p->guests[i].ip, p->guests[i].spec->name);
	return buf_steal(&b);
}

static const struct plan_host *host_by_name(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_hosts; i++)
		if (strcmp(p->hosts[i].spec->name, name) == 0)
			return &p->hosts[i];
	return NULL;
}

int plan_build(const struct spec *s, const struct plan_env *env, struct plan **out,
	       struct xerr *e)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	struct cidr net;

	p->spec = s;
	if (!env->store_id || !xlab_store_id_valid(env->store_id)) {
		xerr_set(e, XERR_FAIL, "the plan needs the store's id (a UUID), not '%s'",
			 env->store_id ? env->store_id : "(none)");
		goto fail;
	}
	p->store_id = xstrdup(env->store_id);
	if (cidr_parse(env->subnet, &net, e) < 0)
		goto fail;
	cidr_format(&net, p->subnet, sizeof(p->subnet));
	p->prefix = net.prefix;
	ip_format(net.addr + 1, p->gateway);
	ip_format(net.prefix ? 0xffffffffu << (32 - net.prefix) : 0, p->netmask);
	p->network = names_network(p->store_id, s->lab);
	names_bridge(p->store_id, s->lab, p->bridge);
	p->spread = spec_spread(s);
	if (p->spread)
		names_vxlan(p->store_id, s->lab, p->vxlan, &p->vni);
	/* On the lab's own server: its first host's. */
	if (s->shared_vg && s->n_hosts && spec_host_server(s, &s->hosts[0]) && env->volume_dirs &&
	    env->volume_dirs[0])
		p->shared_disk = xasprintf("%s/%s.shared.img", env->volume_dirs[0], p->network);
	else if (s->shared_vg)
		p->shared_disk = xasprintf("%s/shared.img", env->state_dir);
	if (s->shared_vg && p->spread) {
		p->shared_nbd_addr = xstrdup(env->shared_nbd_addr ? env->shared_nbd_addr
								  : "OWN-SERVER-ADDRESS");
		p->shared_nbd_port = PLAN_NBD_PORT_BASE + (int)(p->vni % PLAN_NBD_PORTS);
	}

	p->n_hosts = s->n_hosts;
	p->hosts = xcalloc(s->n_hosts ? s->n_hosts : 1, sizeof(*p->hosts));
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct plan_host *ph = &p->hosts[i];

		ph->spec = &s->hosts[i];
		ph->image = spec_host_image_name(s, ph->spec);
		ph->domain = names_domain(p->store_id, s->lab, ph->spec->name);
		plan_mac(s->lab, ph->spec->name, ph->mac);
		ph->server = spec_host_server(s, ph->spec);
		host_paths(ph, env->state_dir, env->volume_dirs ? env->volume_dirs[i] : NULL,
			   env->direct_boot && env->direct_boot[i]);
	}
	p->n_guests = s->n_guests;
	p->guests = xcalloc(s->n_guests ? s->n_guests : 1, sizeof(*p->guests));
	for (size_t i = 0; i < s->n_guests; i++) {
		struct plan_guest *pg = &p->guests[i];

		pg->spec = &s->guests[i];
		pg->host = host_by_name(p, pg->spec->host);
		if (!pg->host) {
			xerr_set(e, XERR_USAGE, "guest '%s': no host '%s'", pg->spec->name,
				 pg->spec->host);
			goto fail;
		}
		plan_mac(s->lab, pg->spec->name, pg->mac);
		pg->lv = xasprintf("/dev/%s/%s", pg->spec->shared ? s->shared_vg : s->vg,
				   pg->spec->name);
	}
	if (macs_unique(p, e) < 0 || plan_addresses(p, &net, e) < 0)
		goto fail;
	for (size_t i = 0; i < p->n_guests; i++) {
		const struct plan_guest *pg = &p->guests[i];

		if (pg->spec->vnc && plan_vnc_port(pg->ip, p->prefix) < 0) {
			xerr_set(e, XERR_USAGE,
				 "guest '%s': vnc needs an address within the first %d of the "
				 "subnet (its display port is 5900 + that offset), not %s",
				 pg->spec->name, 65535 - PLAN_VNC_PORT_BASE, pg->ip);
			goto fail;
		}
	}
	p->network_xml = network_xml(p, true);
	if (p->spread)
		p->network_xml_peer = network_xml(p, false);
	p->hosts_file = hosts_file(p);
	for (size_t i = 0; i < p->n_hosts; i++) {
		struct plan_host *ph = &p->hosts[i];

		if (ph->direct_boot)
			ph->xen_cmdline = direct_cmdline(ph, env->accel);
		else
			ph->grub_cfg = grub_cfg(ph, env->accel);
		ph->domain_xml = domain_xml(p, ph, env->accel);
		ph->storage_steps = host_storage_steps(s, ph, i == 0);
	}
	for (size_t i = 0; i < p->n_guests; i++) {
		p->guests[i].xl_cfg = xl_cfg(p, &p->guests[i]);
		p->guests[i].prefer_shadow = strcmp(env->accel, "kvm") != 0 &&
					     p->guests[i].spec->type != SPEC_GUEST_PV &&
					     !xl_has(p->guests[i].spec, "hap");
		p->guests[i].lvm_steps = guest_lvm_steps(s, &p->guests[i]);
	}
	*out = p;
	return 0;
fail:
	plan_free(p);
	return -1;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	free(p->store_id);
	for (size_t i = 0; i < p->n_hosts; i++) {
		struct plan_host *ph = &p->hosts[i];

		free(ph->domain);
		free(ph->dir);
		free(ph->image);
		free(ph->root_overlay);
		free(ph->data_disk);
		strv_free(ph->extra_disks);
		free(ph->config_disk);
		free(ph->boot_iso);
		free(ph->serial_log);
		free(ph->config_build);
		free(ph->iso_build);
		free(ph->grub_cfg);
		free(ph->boot_xen);
		free(ph->boot_kernel);
		free(ph->xen_cmdline);
		free(ph->xen_build);
		free(ph->kernel_build);
		free(ph->domain_xml);
		strv_free(ph->storage_steps);
	}
	for (size_t i = 0; i < p->n_guests; i++) {
		free(p->guests[i].lv);
		free(p->guests[i].xl_cfg);
		strv_free(p->guests[i].lvm_steps);
	}
	free(p->hosts);
	free(p->guests);
	free(p->network);
	free(p->network_xml);
	free(p->network_xml_peer);
	free(p->hosts_file);
	free(p->shared_disk);
	free(p->shared_nbd_addr);
	free(p);
}

const char *plan_server_name(const char *server)
{
	return server ? server : SERVER_LOCAL;
}

void plan_print(const struct plan *p, FILE *f)
{
	fprintf(f, "# lab %s: network %s (bridge %s, subnet %s, gateway %s, isolated)\n",
		p->spec->lab, p->network, p->bridge, p->subnet, p->gateway);
	fprintf(f, "\n## network %s%s%s\n%s", p->network, p->spread ? " on server " : "",
		p->spread ? plan_server_name(p->n_hosts ? p->hosts[0].server : NULL) : "",
		p->network_xml);
	if (p->spread) {
		fprintf(f, "\n## network %s on the other servers (%s)\n%s", p->network,
			"no address: one gateway on the lab network", p->network_xml_peer);
		fprintf(f, "\n## VXLAN %s (VNI %u, UDP %d, MTU %d) in bridge %s on every server, "
			   "to every other\n",
			p->vxlan, p->vni, PLAN_VXLAN_PORT, PLAN_VXLAN_MTU, p->bridge);
	}
	fprintf(f, "\n## /etc/hosts on every host\n%s", p->hosts_file);
	if (p->shared_disk)
		fprintf(f, "\n## shared disk\n%s (%" PRIu64 " bytes, raw, on every host as "
			   "serial " PLAN_SHARED_SERIAL "; volume group %s)\n",
			p->shared_disk, p->spec->shared_size, p->spec->shared_vg);
	if (p->shared_nbd_addr)
		fprintf(f, "served by qemu-nbd on server %s as nbd://%s:%d/%s to every host\n",
			plan_server_name(p->hosts[0].server), p->shared_nbd_addr, p->shared_nbd_port,
			PLAN_NBD_EXPORT);
	for (size_t i = 0; i < p->n_hosts; i++) {
		const struct plan_host *ph = &p->hosts[i];

		fprintf(f, "\n## host %s: image %s, domain %s, mac %s, ip %s%s%s\n", ph->spec->name,
			ph->image, ph->domain, ph->mac, ph->ip, ph->server ? ", server " : "",
			ph->server ? ph->server : "");
		fprintf(f, "### disks\n");
		fprintf(f, "%s (qcow2 overlay of the image's root.qcow2)\n", ph->root_overlay);
		fprintf(f, "%s (%" PRIu64 " bytes, sparse)\n", ph->data_disk, ph->spec->data_disk);
		for (size_t k = 0; k < ph->spec->n_disks; k++)
			fprintf(f, "%s (%" PRIu64 " bytes, sparse)\n", ph->extra_disks[k],
				ph->spec->disks[k]);
		fprintf(f, "%s (config disk: hostname, network, hosts, keys)\n", ph->config_disk);
		fprintf(f, "### storage (agent)\n");
		for (char **st = ph->storage_steps; *st; st++)
			fprintf(f, "%s\n", *st);
		if (ph->direct_boot)
			fprintf(f, "### boot: QEMU loads Xen and the dom0 kernel directly\n"
				   "%s (the image's boot/xen.gz unpacked)\n"
				   "%s (the image's boot/vmlinuz%s, Xen's one module)\n"
				   "command line: %s\n",
				ph->boot_xen, ph->boot_kernel, ph->unpack_kernel ? " unpacked" : "",
				ph->xen_cmdline);
		else
			fprintf(f, "### grub.cfg (boot ISO %s)\n%s", ph->boot_iso, ph->grub_cfg);
		fprintf(f, "### libvirt domain\n%s", ph->domain_xml);
	}
	for (size_t i = 0; i < p->n_guests; i++) {
		const struct plan_guest *pg = &p->guests[i];

		fprintf(f, "\n## guest %s on %s: %s, mac %s, ip %s, volume %s\n", pg->spec->name,
			pg->host->spec->name, spec_guest_type_name(pg->spec->type), pg->mac, pg->ip,
			pg->lv);
		fprintf(f, "### LVM and root filesystem (agent)\n");
		for (char **st = pg->lvm_steps; *st; st++)
			fprintf(f, "%s\n", *st);
		fprintf(f, "### /etc/xen/xlab/%s.cfg\n%s", pg->spec->name, pg->xl_cfg);
		if (pg->prefer_shadow)
			fprintf(f, "hap = 0 (TCG: added by the agent; a Xen without shadow "
				   "paging is refused, unless xl.hap is given)\n");
	}
}
