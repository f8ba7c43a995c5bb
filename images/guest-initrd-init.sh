#!/bin/sh
# /init of the guest initrd: load the Xen front drivers and ext4 (Debian's
# kernel; xlab's lean one has them built in), then boot
# the root filesystem on /dev/xvda when there is one; a diskless guest keeps
# running the busybox init of this initrd.
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

root=/dev/xvda
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	root=/dev/*) root=${arg#root=} ;;
	esac
done
root=${root%% *}

# xen-blkfront probes the disk asynchronously.
i=0
while [ ! -b "$root" ] && [ $i -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -b "$root" ] && mount -t ext4 -o rw "$root" /newroot 2>/dev/null; then
	if [ -x /newroot/sbin/init ]; then
		umount /proc /sys
		mount --move /dev /newroot/dev 2>/dev/null || umount /dev
		exec switch_root /newroot /sbin/init
	fi
	umount /newroot
fi
exec /sbin/init
