#!/usr/bin/env bash
# Inside a second clean Debian root (scripts/fresh-check.sh): xlab as a Debian
# user gets it, from its package alone. No source tree is here.
#   deb.sh PACKAGE.deb LAB
set -euo pipefail
deb=$1 lab=$2
T0=$SECONDS
say() { printf '[root %4ds] %s\n' $((SECONDS - T0)) "$*"; }

export DEBIAN_FRONTEND=noninteractive
# What systemd would do on a desktop: keep package scripts from starting
# daemons here (there is no init), start libvirtd below ourselves.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
say "apt-get install $deb"
apt-get update -qq
apt-get install -y -qq "$deb" >/root/apt.log 2>&1 || { tail -30 /root/apt.log; exit 1; }
rm -f /usr/sbin/policy-rc.d
# scripts/fresh-check.sh: a chroot cannot give libvirt's per-QEMU /dev a PTY.
printf '# fresh-check: no per-QEMU mount namespace inside a chroot\nnamespaces = [ ]\n' \
  >>/etc/libvirt/qemu.conf
if find / -xdev -name meson.build -path '*xlab*' -print -quit | grep -q .; then
  echo "a source tree is present in the package root" >&2
  exit 1
fi
xlab version --paths
virtlogd -d
libvirtd -d
for _ in $(seq 1 100); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
# What the packages defined themselves (libvirt's network 'default').
{ virsh -q list --all --name; virsh -q net-list --all --name; } >/root/libvirt.before

spec=/usr/share/xlab/examples/one-host.yaml
say "xlab image build xen-4.17"
xlab image build xen-4.17
say "xlab up $spec"
xlab up "$spec"
xlab list "$lab"
xlab down "$lab"
bash /root/leftovers.sh "$lab" /root/libvirt.before
say "package root: ok"
