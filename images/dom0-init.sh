#!/bin/sh
# /sbin/xlab-init: PID 1 of an xlab dom0 (no systemd: a host reaches ssh in
# seconds under TCG instead of a minute). Mounts the basics, loads the Xen
# backends, applies the per-host config disk (tar on the disk whose virtio
# serial is xlab-config), makes xenbr0, starts the Xen daemons and sshd, then
# reaps children until told to power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022

say() { echo "xlab-init: $*"; }

mounted() { mountpoint -q "$1" 2>/dev/null; }
mounted /proc || mount -t proc proc /proc
mounted /sys || mount -t sysfs sysfs /sys
mounted /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mounted /dev/pts || mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mounted /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mounted /run || mount -t tmpfs -o mode=755 tmpfs /run
mount -o remount,rw /
mkdir -p /run/lock /run/sshd /run/xen /run/xenstored /var/log/xen /var/lib/xen /tmp
chmod 1777 /tmp
# devtmpfs lacks these (udev makes them); Xen's hotplug scripts stat /dev/stdin.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
ln -sfn /proc/mounts /etc/mtab 2>/dev/null

say "loading modules"
# One modprobe for all: every process costs under TCG. (Built-in ones, e.g.
# xen-privcmd on Debian, are no error with -q.)
modprobe -q -a xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback \
	xen-netback dm-mod bridge loop
mkdir -p /proc/xen
mounted /proc/xen || mount -t xenfs xenfs /proc/xen

ip link set lo up

# The config disk: found by serial, never by order.
cfg=/run/xlab-config
mkdir -p "$cfg"
cfgdev=
for d in /sys/block/vd*; do
	[ -e "$d/serial" ] || continue
	if [ "$(cat "$d/serial")" = xlab-config ]; then
		cfgdev=/dev/${d##*/}
		break
	fi
done
if [ -n "$cfgdev" ]; then
	tar -xf "$cfgdev" -C "$cfg" 2>/dev/null || say "cannot read config disk $cfgdev"
	chmod 700 "$cfg"
else
	say "no config disk (serial xlab-config)"
fi

if [ -s "$cfg/hostname" ]; then
	read -r name <"$cfg/hostname"
	hostname "$name"
	echo "$name" >/etc/hostname
fi
{
	echo "127.0.0.1	localhost"
	echo "::1	localhost ip6-localhost ip6-loopback"
	[ -f "$cfg/hosts" ] && cat "$cfg/hosts"
} >/etc/hosts

if [ -f "$cfg/authorized_keys" ]; then
	mkdir -p /root/.ssh
	chmod 700 /root/.ssh
	cp "$cfg/authorized_keys" /root/.ssh/authorized_keys
	chmod 600 /root/.ssh/authorized_keys
fi
if [ -f "$cfg/ssh_host_ed25519_key" ]; then
	rm -f /etc/ssh/ssh_host_*
	cp "$cfg/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key
	chmod 600 /etc/ssh/ssh_host_ed25519_key
	[ -f "$cfg/ssh_host_ed25519_key.pub" ] &&
		cp "$cfg/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub
fi

# network: KEY=VALUE lines, read as data (never sourced).
address= gateway=
if [ -f "$cfg/network" ]; then
	while IFS='=' read -r k v; do
		case "$k" in
		ADDRESS) address=$v ;;
		GATEWAY) gateway=$v ;;
		esac
	done <"$cfg/network"
fi
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /sys/class/net/eth0 ]; then
	# The bridge takes eth0's MAC so DHCP/ARP entries keyed on the VM's MAC hold.
	ip link add xenbr0 type bridge forward_delay 0 stp_state 0 2>/dev/null
	ip link set xenbr0 address "$(cat /sys/class/net/eth0/address)"
	ip link set eth0 master xenbr0
	ip link set eth0 up
	ip link set xenbr0 up
	[ -n "$address" ] && ip addr add "$address" dev xenbr0
	[ -n "$gateway" ] && ip route add default via "$gateway"
else
	say "no eth0"
fi

xenbin=
for d in /usr/lib/xen-*/bin; do
	[ -x "$d/xl" ] && xenbin=$d
done
if [ -n "$xenbin" ] && [ -e /proc/xen/capabilities ]; then
	say "starting xenstored from $xenbin"
	xs=$xenbin/xenstored
	[ -x "$xs" ] || xs=$xenbin/oxenstored
	XENSTORED_ROOTDIR=/run/xenstored "$xs" --pid-file /run/xenstore.pid
	i=0
	while ! xenstore-read -s / >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	"$xenbin/xen-init-dom0" >/dev/null
	"$xenbin/xenconsoled" --pid-file /run/xenconsoled.pid
else
	say "not running on Xen: no xenstored"
fi

say "starting sshd"
/usr/sbin/sshd
echo "XLAB-DOM0-READY $(hostname)"

trap 'say "powering off"; sync; busybox poweroff -f' TERM USR1 USR2 INT
trap 'say "rebooting"; sync; busybox reboot -f' HUP
while :; do
	wait
	sleep 1
done
