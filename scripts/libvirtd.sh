#!/usr/bin/env bash
# Makes sure a libvirtd is running and prints the network namespace its lab
# bridges live in (empty: the root namespace).
#   scripts/libvirtd.sh           start libvirtd here if none runs (users)
#   scripts/libvirtd.sh --netns NS  keep lab traffic inside NS (tests, CI):
#     reuse a libvirtd already running in some namespace, else create NS and
#     start virtlogd and libvirtd inside it.
set -euo pipefail
ns=""
[ "${1:-}" = "--netns" ] && ns="${2:?namespace name}"

# The libvirtd that serves this machine's /run/libvirt, from its pid file: a
# process list would also show the libvirtd of another root (the fresh-root
# check runs one in a PID namespace of its own) or a dying one.
running_ns() {
  local pid
  pid=$(cat /run/libvirtd.pid 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] || return 1
  ip netns identify "$pid" 2>/dev/null || true
}

wait_socket() {
  for _ in $(seq 1 100); do
    [ -S /var/run/libvirt/libvirt-sock ] && virsh -c qemu:///system version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "libvirtd.sh: libvirtd did not come up" >&2
  return 1
}

if cur=$(running_ns); then
  if [ -n "$ns" ] && [ -z "$cur" ]; then
    # A libvirtd in the root namespace would put test bridges there: restart
    # it inside ours so no lab traffic leaves the namespace.
    echo "libvirtd.sh: restarting libvirtd inside namespace $ns" >&2
    kill "$(cat /run/libvirtd.pid)" 2>/dev/null || true
    for _ in $(seq 1 50); do running_ns >/dev/null || break; sleep 0.1; done
  else
    wait_socket
    echo "$cur"
    exit 0
  fi
fi

run=()
if [ -n "$ns" ]; then
  ip netns add "$ns" 2>/dev/null || true
  ip netns exec "$ns" ip link set lo up
  run=(ip netns exec "$ns")
fi
mkdir -p /var/run/libvirt /var/log/libvirt
# QEMU runs as libvirt-qemu (group kvm). A root-only /dev/kvm makes libvirt
# re-probe QEMU on every define (a minute each); give the group access as
# udev would on a desktop.
if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi
# A machine without procps has no pgrep: virtlogd's pid file tells.
vpid=$(cat /run/virtlogd.pid 2>/dev/null || true)
[ -n "$vpid" ] && [ "$(cat "/proc/$vpid/comm" 2>/dev/null)" = virtlogd ] || "${run[@]}" virtlogd -d
"${run[@]}" libvirtd -d
wait_socket
echo "$ns"
