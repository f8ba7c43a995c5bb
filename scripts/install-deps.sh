#!/usr/bin/env bash
# Installs what xlab needs on Debian 12 (root; no systemd needed). Safe to run
# again.
#   scripts/install-deps.sh          build, run labs, and run every test suite
#   scripts/install-deps.sh --run    build and run labs only (scripts/demo.sh)
set -euo pipefail

build=(
  meson ninja-build pkg-config gcc libc6-dev
  libvirt-dev libssh-dev libyaml-dev libcurl4-openssl-dev libsqlite3-dev
  libjson-c-dev libxml2-dev libssl-dev libarchive-dev libcriterion-dev
  libmd-dev
)
run=(
  # libvirt with QEMU, disk tools
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  qemu-system-x86 qemu-utils dnsmasq-base iproute2 iptables
  # a lab across servers: its VXLAN devices (ip, bridge) and its shared
  # disk's qemu-nbd (found and ended with pgrep/pkill)
  procps
  # building dom0 images: Debian bootstrap, boot media, filesystems
  mmdebstrap grub-pc-bin grub-common xorriso mtools e2fsprogs cpio
  busybox-static xz-utils zstd ca-certificates
  # scripts/demo.sh reads xlab's JSON for its closing hints
  python3
  # a Xen hypervisor built from source (`xlab image build --xen-source`)
  make bison flex
  # the dom0s' and guests' lean kernel (image/kernelbuild.c): Debian's Linux
  # source, built once per source and configuration
  linux-source-6.12 bc libelf-dev
  # a whole Xen from source builds its dom0 tools in a Debian root that
  # mmdebstrap makes (their build dependencies go there, image/buildroot.c,
  # not here) and changes the base's root disk with debugfs and qemu-img:
  # mmdebstrap, e2fsprogs and qemu-utils above
)
tests=(
  # fuzzing (clang's libFuzzer and sanitizer runtimes)
  clang libclang-rt-14-dev
  # the e2e scripts and the bench
  iputils-ping time jq
  # a real sshd and client
  openssh-server openssh-client
  # `xlab report --plot`: migration experiments' CDFs as SVG
  gnuplot-nox
  # `xlab graph --format svg`: Graphviz's dot draws a lab's topology
  graphviz
  # `xlab report --html`: its pages are opened in headless Chromium and
  # looked at (tests/e2e/htmlcheck.py); under CI a missing one fails
  chromium
  # a real VNC client captures a guest's screen through `xlab vnc`
  vncsnapshot libjpeg-turbo-progs
  # the fresh-root check relays the Debian mirror into its namespace
  socat
)
case ${1:-} in
  --run) packages=("${build[@]}" "${run[@]}") ;;
  "") packages=("${build[@]}" "${run[@]}" "${tests[@]}") ;;
  *) echo "usage: install-deps.sh [--run]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# libvirt runs QEMU as libvirt-qemu; Debian's libvirt-daemon-system (which
# pulls in an init system) normally creates that account: create it the same
# way, so QEMU never runs as root.
ensure_qemu_user() {
  getent group kvm >/dev/null || addgroup --system --quiet kvm
  getent group libvirt-qemu >/dev/null || addgroup --system --quiet libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    adduser --system --ingroup libvirt-qemu --quiet --disabled-password \
      --home /var/lib/libvirt --no-create-home --gecos "Libvirt Qemu" libvirt-qemu
  adduser --quiet libvirt-qemu kvm
}
if [ ${#missing[@]} -eq 0 ]; then
  ensure_qemu_user
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps package scripts from starting daemons on machines without
# an init system; xlab's scripts start libvirtd themselves.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.xlab
chmod +x /usr/sbin/policy-rc.d.xlab
if [ ! -e /usr/sbin/policy-rc.d ]; then
  cp /usr/sbin/policy-rc.d.xlab /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
rm -f /usr/sbin/policy-rc.d.xlab
ensure_qemu_user
echo "install-deps: done"
