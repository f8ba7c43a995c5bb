#!/bin/sh
# Init of xlab's guests (the built-in busybox one and the Debian root
# filesystems, which have no init system): bring up the address given on the
# kernel command line (xlab.ip=A.B.C.D/N, xlab.gw=, xlab.name=, and
# xlab.mtu= in a lab across servers, whose VXLAN leaves 1450), start sshd
# where there is one, say so on the console, then stay up so the guest answers
# ping and can be migrated.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin

# Busybox here has no mountpoint applet; the initrd may have moved /dev in.
[ -e /proc/self ] || mount -t proc proc /proc
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /run 2>/dev/null

# Debian minbase has no poweroff(8): sysrq powers off as well.
trap 'sync; poweroff -f 2>/dev/null || echo o >/proc/sysrq-trigger' TERM USR1 USR2
# `xl shutdown` asks the guest's kernel, which runs its poweroff_cmd,
# /sbin/poweroff: neither the busybox tree nor Debian minbase has one, so the
# request was ignored (and `xlab stop` had to destroy the guest). Point the
# kernel at a helper that signals this init instead, before the guest has an
# address: a shutdown asked for as soon as it answers ping (osstest's
# stop-start) must not find the kernel's default, or it is ignored for good.
printf '#!/bin/sh\nkill -USR2 1\n' >/run/xlab-poweroff && chmod 0755 /run/xlab-poweroff &&
	echo /run/xlab-poweroff >/proc/sys/kernel/poweroff_cmd

ip= gw= name=guest mtu=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	xlab.ip=*) ip=${arg#xlab.ip=} ;;
	ip=*) [ -n "$ip" ] || ip=${arg#ip=} ;;
	xlab.gw=*) gw=${arg#xlab.gw=} ;;
	xlab.name=*) name=${arg#xlab.name=} ;;
	xlab.mtu=*) mtu=${arg#xlab.mtu=} ;;
	esac
done
# Debian trixie has no hostname(1) in minbase.
echo "$name" >/proc/sys/kernel/hostname

ip link set lo up
# xen-netfront creates eth0 asynchronously: give it a few seconds.
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /sys/class/net/eth0 ]; then
	# What the NIC took, as the console shows it (checked by tests/e2e/across.sh).
	[ -n "$mtu" ] && ip link set eth0 mtu "$mtu" &&
		echo "XLAB-GUEST-MTU $(cat /sys/class/net/eth0/mtu)"
	ip link set eth0 up
	[ -n "$ip" ] && ip addr add "$ip" dev eth0
	[ -n "$gw" ] && ip route add default via "$gw"
fi

# A second disk is the guest's swap (`swap:` in the spec).
[ -b /dev/xvdb ] && swapon /dev/xvdb && echo "XLAB-SWAP-ON /dev/xvdb"

# A Debian guest: the agent wrote its host key and the lab's authorized key.
if [ -x /usr/sbin/sshd ]; then
	mkdir -p /run/sshd
	/usr/sbin/sshd && echo "XLAB-SSHD-UP $name"
fi

# A guest with a framebuffer (vnc: true) says who it is on it: fbcon shows
# tty1 once xen-fbfront is up.
[ -c /dev/tty1 ] && printf '\033[2J\033[Hxlab guest %s\n%s\n' "$name" "$ip" >/dev/tty1 2>/dev/null

# The kernel gave init the console (hvc0 with console=hvc0).
echo "XLAB-GUEST-UP $name"

# Idle with one fork an hour, not one a second: a PVH or HVM guest on shadow
# paging traps every fork's page-table writes to Xen, dear under TCG. `wait`
# reaps any child (orphans too) and a trapped signal ends it at once.
while :; do
	sleep 3600 &
	wait
done
