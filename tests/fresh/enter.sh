#!/usr/bin/env bash
# Runs CMD as root inside the Debian root ROOT, as if ROOT were a machine of
# its own. Called by scripts/fresh-check.sh in fresh PID and mount
# namespaces (and the check's network namespace), so every mount made here
# vanishes with the namespace and nothing is mounted on the host.
#   enter.sh ROOT APT_ARCHIVES CMD...
set -euo pipefail
root=$1 archives=$2; shift 2

# ROOT a mount point of its own, as / is on a real machine: libvirt gives
# each QEMU a private mount namespace and refuses a plain directory root.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
# Packages downloaded by the check's other root are not downloaded again.
mount --bind "$archives" "$root/var/cache/apt/archives"

# A /dev of its own, as udev would make it: the host's devpts (ptmxmode=000)
# cannot give QEMU a serial console PTY, and nothing made in it may land in
# the host's /dev.
dev=$root/dev
mount -t tmpfs -o mode=0755,nosuid tmpfs "$dev"
node() { # node NAME MODE MAJOR MINOR
  mknod -m "$2" "$dev/$1" c "$3" "$4"
}
node null 666 1 3; node zero 666 1 5; node full 666 1 7
node random 666 1 8; node urandom 666 1 9; node tty 666 5 0
# 0666 as udev gives it, so QEMU (libvirt-qemu) may use KVM where there is one.
[ -c /dev/kvm ] && node kvm 666 10 232
mkdir "$dev/net" "$dev/pts" "$dev/shm"
node net/tun 666 10 200
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$dev/pts"
# A ptmx node, as devtmpfs has it: opening it finds the devpts mounted at
# ./pts beside it, the one above. (libvirt copies /dev into each QEMU's
# private /dev; a symlink here left QEMU without a PTY.)
node ptmx 666 5 2
mount -t tmpfs -o mode=1777 tmpfs "$dev/shm"
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"

exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
