#!/bin/sh
# /sbin/xlab-init: PID 1 of an xlab dom0 (no systemd: a host reaches ssh in
# seconds under TCG instead of a minute). Mounts the basics, loads the Xen
# backends (with Debian's kernel; xlab's has them built in), applies the
# per-host config disk (tar on the disk whose virtio
# serial is xlab-config), makes xenbr0, starts sshd and the Xen daemons, then
# reaps children until told to power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022

say() { echo "xlab-init: $*"; }

# Under TCG every fork+exec of a PV dom0 is dear: shell builtins where
# possible, one process for many files where not, and the static busybox
# for the basic tools: a dynamically linked tool costs several times more
# to start (ld.so and libc's mappings, every page-table write a hypercall;
# measured: mount 150 ms, install 100 ms, ln 64 ms, busybox's 22 ms).
if command -v busybox >/dev/null 2>&1; then
	bb() { busybox "$@"; }
else
	bb() { "$@"; }
fi
[ -e /proc/self ] || bb mount -t proc proc /proc
# True when $1 is a mount point (read with builtins from /proc/mounts).
mounted() {
	while read -r _src _dir _rest; do
		[ "$_dir" = "$1" ] && return 0
	done </proc/mounts
	return 1
}
mounted /sys || bb mount -t sysfs sysfs /sys
mounted /dev || bb mount -t devtmpfs devtmpfs /dev
mounted /run || bb mount -t tmpfs -o mode=755 tmpfs /run
bb mount -o remount,rw /
bb mkdir -p /dev/pts /dev/shm /run/lock /run/sshd /run/xen /run/xenstored /var/log/xen \
	/var/lib/xen /tmp /proc/xen
mounted /dev/pts || bb mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mounted /dev/shm || bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# devtmpfs lacks these (udev makes them); Xen's hotplug scripts stat /dev/stdin.
bb ln -sfn /proc/self/fd /dev/fd
bb ln -sfn /proc/self/fd/0 /dev/stdin
bb ln -sfn /proc/self/fd/1 /dev/stdout
bb ln -sfn /proc/self/fd/2 /dev/stderr

# eth0 up now, through sysfs (no process): the kernel marks it operational
# only at its next link-state pass, which runs at most once a second. Had
# eth0 come up with the bridge, its port would forward a second after the
# bridge was made, and the controller's first ARP and SYN be lost with it.
if [ -w /sys/class/net/eth0/flags ]; then
	read -r flags </sys/class/net/eth0/flags
	echo $((flags | 1)) >/sys/class/net/eth0/flags 2>/dev/null
fi

# Debian's kernel: one modprobe for all, every process costs under TCG.
# (Built-in ones, e.g. xen-privcmd on Debian, are no error with -q.)
# virtio-rng first: under KVM it fills the random pool sshd waits for, while
# the rest load (under TCG the CPU's RDRAND does, and there is no such
# device). xlab's lean kernel has them all built in and no /lib/modules.
read -r release </proc/sys/kernel/osrelease
if [ -d "/lib/modules/$release" ]; then
	say "loading modules"
	modprobe -q -a virtio-rng xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd \
		xen-blkback xen-netback dm-mod bridge loop
fi
mounted /proc/xen || bb mount -t xenfs xenfs /proc/xen

# The config disk: found by serial, never by order.
cfg=/run/xlab-config
bb mkdir -m 700 "$cfg"
cfgdev=
for d in /sys/block/vd*; do
	[ -e "$d/serial" ] || continue
	# sysfs serial has no newline: read fails at EOF but still sets it.
	serial=
	read -r serial <"$d/serial"
	if [ "$serial" = xlab-config ]; then
		cfgdev=/dev/${d##*/}
		break
	fi
done
if [ -n "$cfgdev" ]; then
	bb tar -xf "$cfgdev" -C "$cfg" 2>/dev/null || say "cannot read config disk $cfgdev"
else
	say "no config disk (serial xlab-config)"
fi

name=xlab
[ -s "$cfg/hostname" ] && read -r name <"$cfg/hostname"
echo "$name" >/proc/sys/kernel/hostname
echo "$name" >/etc/hostname
{
	echo "127.0.0.1	localhost"
	echo "::1	localhost ip6-localhost ip6-loopback"
	if [ -f "$cfg/hosts" ]; then
		while IFS= read -r line; do echo "$line"; done <"$cfg/hosts"
	fi
} >/etc/hosts

# Keys are text: copied line by line with builtins where `install` was a
# process each. A new file's mode is the umask's (an existing one keeps
# its own: xlab-init made it so before).
copy_text() { # SRC DST UMASK
	[ -f "$1" ] || return 1
	umask "$3"
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
	done <"$1" >"$2"
	umask 022
}
if [ -f "$cfg/authorized_keys" ] || [ -f "$cfg/dom0_id_ed25519" ]; then
	[ -d /root/.ssh ] || bb mkdir -m 700 /root/.ssh
fi
copy_text "$cfg/authorized_keys" /root/.ssh/authorized_keys 077
# The lab's dom0 key and every host's pinned key: `xl migrate` runs `ssh
# HOST xl migrate-receive` (authorized_keys above already accepts the key).
if copy_text "$cfg/dom0_id_ed25519" /root/.ssh/id_ed25519 077; then
	copy_text "$cfg/dom0_id_ed25519.pub" /root/.ssh/id_ed25519.pub 022
	copy_text "$cfg/known_hosts" /root/.ssh/known_hosts 022
fi
key=/etc/ssh/ssh_host_ed25519_key
if copy_text "$cfg/ssh_host_ed25519_key" "$key" 077; then
	copy_text "$cfg/ssh_host_ed25519_key.pub" "$key.pub" 022
elif [ ! -f "$key" ]; then
	# Booted without a config disk: a throw-away key, so sshd still starts.
	ssh-keygen -q -t ed25519 -N '' -f "$key"
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
	# Addresses only: these become words of ip commands.
	case "$address$gateway" in
	*[!0-9a-fA-F.:/]*)
		say "bad address in $cfg/network: ADDRESS=$address GATEWAY=$gateway"
		address= gateway= ;;
	esac
fi
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /sys/class/net/eth0 ]; then
	echo 1 >/proc/sys/net/ipv4/conf/default/arp_notify
	# The bridge takes eth0's MAC so DHCP/ARP entries keyed on the VM's MAC hold.
	read -r mac </sys/class/net/eth0/address
	{
		echo "link set lo up"
		echo "link add xenbr0 type bridge forward_delay 0 stp_state 0"
		echo "link set xenbr0 address $mac"
		[ -n "$address" ] && echo "addr add $address dev xenbr0"
		echo "link set eth0 up"
		echo "link set eth0 master xenbr0"
		# Last: the bridge opens with a forwarding port (eth0 has been
		# operational since early on), so the gratuitous ARP it sends as it
		# comes up (arp_notify) reaches the controller, whose boot-wait
		# probe may be waiting on an unanswered ARP of its own.
		echo "link set xenbr0 up"
		[ -n "$gateway" ] && echo "route add default via $gateway"
	} | ip -force -batch -
else
	say "no eth0"
	ip link set lo up
fi

# sshd before Xen's daemons: the controller's connection, its agent and
# storage.init need none of them and overlap their start (0.3-0.5 s under
# TCG). The agent waits for the marker to go before it runs xl or talks to
# xenstored (agents/sys.c xen_daemons_wait).
xen_starting=/run/xlab-xen-starting
: >"$xen_starting"
say "starting sshd"
/usr/sbin/sshd

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
bb rm -f "$xen_starting"
echo "XLAB-DOM0-READY $name"

trap 'say "powering off"; sync; busybox poweroff -f' TERM USR1 USR2 INT
trap 'say "rebooting"; sync; busybox reboot -f' HUP
while :; do
	wait
	sleep 1
done
