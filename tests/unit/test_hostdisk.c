/* Hot-plugged host disks: the next free name and serial read from a domain's
 * XML, the <disk> written for libvirt, and a disk found again by serial. */
#include <criterion/criterion.h>
#include <string.h>

#include "hostdisk.h"
#include "util.h"

static const char *const dom =
	"<domain type='qemu'><name>xlab-hands-h1</name><devices>"
	"<disk type='file' device='disk'><source file='/l/root.qcow2'/>"
	"<target dev='vda' bus='virtio'/><serial>xlab-root</serial></disk>"
	"<disk type='file' device='disk'><source file='/l/config.img'/>"
	"<target dev='vdb' bus='virtio'/><serial>xlab-config</serial></disk>"
	"<disk type='file' device='disk'><source file='/l/data.qcow2'/>"
	"<target dev='vdc' bus='virtio'/><serial>xlab-data</serial></disk>"
	"<disk type='file' device='disk'><source file='/l/extra-2.qcow2'/>"
	"<target dev='vde' bus='virtio'/><serial>xlab-extra2</serial><alias name='virtio-disk4'/>"
	"</disk>"
	"<disk type='file' device='cdrom'><source file='/l/boot.iso'/>"
	"<target dev='sda' bus='sata'/></disk>"
	"</devices></domain>";

Test(hostdisk, layout_takes_the_first_free_name_and_next_serial)
{
	struct hostdisk_layout l;
	struct xerr e = { 0 };

	cr_assert_eq(hostdisk_layout(dom, &l, &e), 0, "%s", e.msg);
	cr_expect_str_eq(l.next_dev, "vdd");
	cr_expect_eq(l.next_extra, 3);
}

Test(hostdisk, layout_of_a_host_without_extras)
{
	struct hostdisk_layout l;
	struct xerr e = { 0 };

	cr_assert_eq(hostdisk_layout("<domain><devices/></domain>", &l, &e), 0);
	cr_expect_str_eq(l.next_dev, "vda");
	cr_expect_eq(l.next_extra, 1);
	cr_expect_eq(hostdisk_layout("<domain", &l, &e), -1);
}

Test(hostdisk, disk_xml_escapes_and_names)
{
	_cleanup_free_ char *x = hostdisk_xml("/l/a&b/extra-3.qcow2", "vdd", "xlab-extra3");

	cr_expect_str_eq(x, "<disk type=\"file\" device=\"disk\"><driver name=\"qemu\" "
			    "type=\"qcow2\"/><source file=\"/l/a&amp;b/extra-3.qcow2\"/>"
			    "<target dev=\"vdd\" bus=\"virtio\"/><serial>xlab-extra3</serial>"
			    "</disk>");
}

Test(hostdisk, find_by_serial)
{
	_cleanup_free_ char *disk = NULL, *path = NULL;
	struct xerr e = { 0 };

	cr_assert_eq(hostdisk_find(dom, "xlab-extra2", &disk, &path, &e), 0, "%s", e.msg);
	cr_expect_str_eq(path, "/l/extra-2.qcow2");
	cr_expect(strstr(disk, "<serial>xlab-extra2</serial>"));
	cr_expect(strncmp(disk, "<disk", 5) == 0);
	cr_expect_eq(hostdisk_find(dom, "xlab-extra9", &disk, &path, &e), -1);
	cr_expect_eq(e.kind, XERR_USAGE);
	cr_expect_str_eq(e.msg, "the host has no disk with serial 'xlab-extra9'");
}
