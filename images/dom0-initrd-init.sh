#!/bin/sh
# /init of the dom0 initrd: no udev, and with Debian's kernel only virtio and
# ext4 to load (xlab's lean kernel has them built in). Finds the root
# disk by its virtio serial (xlab-root), falling back to root=, mounts it
# read-only and hands over to init= (default /sbin/xlab-init).
export PATH=/sbin:/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# Debian's kernel needs its drivers loaded; xlab's lean one has them built in.
if [ -f /lib/modules/order ]; then
	while read -r mod; do
		insmod "/lib/modules/$mod.ko" 2>/dev/null
	done </lib/modules/order
fi

root= init=/sbin/xlab-init fstype=ext4
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	root=/dev/*) root=${arg#root=} ;;
	init=*) init=${arg#init=} ;;
	rootfstype=*) fstype=${arg#rootfstype=} ;;
	esac
done

# Sets dev to the disk whose virtio serial is $1 (builtins only: forks are
# slow in a PV dom0 under TCG).
find_by_serial() {
	for d in /sys/block/vd*; do
		[ -e "$d/serial" ] || continue
		s=
		read -r s <"$d/serial"
		if [ "$s" = "$1" ]; then
			dev=/dev/${d##*/}
			return 0
		fi
	done
	return 1
}

dev=
i=0
while [ $i -lt 100 ]; do
	find_by_serial xlab-root && break
	if [ -n "$root" ] && [ -b "$root" ] && [ $i -ge 20 ]; then
		dev=$root
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
[ -n "$dev" ] || dev=$root

if [ -z "$dev" ] || ! mount -t "$fstype" -o ro "$dev" /root; then
	echo "xlab initrd: cannot mount the root disk (${dev:-none}); dropping to a shell"
	exec sh
fi
umount /proc /sys
mount --move /dev /root/dev 2>/dev/null || umount /dev
exec switch_root /root "$init"
