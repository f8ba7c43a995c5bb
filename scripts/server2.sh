#!/usr/bin/env bash
# A second libvirt server on this machine, to try and test xlab across
# servers (docs/servers.md) without a second machine: a libvirtd, a virtlogd
# and an sshd in a network namespace and a mount namespace of their own.
#   scripts/server2.sh up [--netns NS]  start it; NS is where the controller
#                                       runs (default: this shell's netns)
#   scripts/server2.sh down             stop it and leave nothing running
#   scripts/server2.sh status           exit 0 when it is up
#   scripts/server2.sh uri              the URI for `xlab server add`
#   scripts/server2.sh exec CMD...      run CMD on server2 (its mounts, network
#                                       and hostname: `exec virsh vol-list xlab`)
#   scripts/server2.sh cable out|in     pull its LAN cable and put it back: it
#                                       goes silent (no reset, no refusal), as a
#                                       machine switched off or cut off would,
#                                       while its VMs go on running
#
# What it is made of:
# - network namespace xlab-server2, joined to the controller's by a veth pair
#   (xs2-ctl 10.99.0.1/24 there, xs2-lan 10.99.0.2/24 here): the "LAN"
#   between the two machines. Nothing routes 10.99.0.0/24 anywhere else.
# - a mount namespace (private propagation: nothing mounted in it is seen
#   outside) where $XLAB_SERVER2_DIR/root/{etc/libvirt,var/lib/libvirt,
#   var/log/libvirt,var/cache/libvirt,run} are bound over the real ones, so
#   this libvirtd has its own sockets, pid files, pools and configuration
#   and never meets the machine's libvirtd; and a UTS namespace (hostname
#   xlab-server2).
# - sshd on 10.99.0.2:22 in both, root login with the key this script makes
#   ($XLAB_SERVER2_DIR/client/id_ed25519, accepted from 10.99.0.1 only).
# - a dir pool `default` (its /var/lib/libvirt/images), so `xlab server list`
#   has a pool to measure.
# `down` ends exactly the processes in that mount and network namespace (by
# pid), removes the veth and the network namespace; the mount namespace goes
# with its last process. Keys and the private directories are kept, so the
# server keeps its SSH host key between runs: rm -rf $XLAB_SERVER2_DIR forgets it.
set -euo pipefail
dir=${XLAB_SERVER2_DIR:-/var/lib/xlab-server2}
ns=xlab-server2
ctl_if=xs2-ctl
lan_if=xs2-lan
ctl_addr=10.99.0.1
lan_addr=10.99.0.2
root=$dir/root
binds=(etc/libvirt var/lib/libvirt var/log/libvirt var/cache/libvirt run)

die() { echo "server2.sh: $*" >&2; exit 1; }

# `ip` in the controller's network namespace (recorded at `up`).
ctl_ns() { cat "$dir/ctl-netns" 2>/dev/null || true; }
ctl_ip() {
  local n
  n=$(ctl_ns)
  if [ -n "$n" ]; then ip -n "$n" "$@"; else ip "$@"; fi
}
ctl_run() {
  local n
  n=$(ctl_ns)
  if [ -n "$n" ]; then ip netns exec "$n" "$@"; else "$@"; fi
}

# The libvirtd of server2, from its pid file in the private /run.
daemon_pid() {
  local pid
  pid=$(cat "$root/run/libvirtd.pid" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] || return 1
  # Its pid file is ours only if the process lives in our network namespace.
  [ "$(readlink "/proc/$pid/ns/net")" = "net:[$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)]" ] ||
    return 1
  echo "$pid"
}

# A command inside server2 (its mount, network and UTS namespaces).
inside() {
  local pid
  pid=$(daemon_pid) || die "server2 is not up"
  nsenter -t "$pid" -m -n -u "$@"
}

uri() {
  echo "qemu+ssh://root@$lan_addr/system?keyfile=$dir/client/id_ed25519"
}

status() {
  daemon_pid >/dev/null || return 1
  inside virsh -q -c qemu:///system version >/dev/null 2>&1 || return 1
  ctl_run timeout 2 bash -c "exec 3<>/dev/tcp/$lan_addr/22" 2>/dev/null || return 1
}

make_keys() {
  mkdir -p "$dir/ssh" "$dir/client"
  chmod 0700 "$dir" "$dir/ssh" "$dir/client"
  [ -f "$dir/ssh/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C xlab-server2 -f "$dir/ssh/ssh_host_ed25519_key"
  [ -f "$dir/client/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C xlab-server2-client -f "$dir/client/id_ed25519"
  echo "from=\"$ctl_addr\" $(cat "$dir/client/id_ed25519.pub")" >"$dir/ssh/authorized_keys"
  chmod 0600 "$dir/ssh/authorized_keys"
  cat >"$dir/ssh/sshd_config" <<EOF
ListenAddress $lan_addr:22
HostKey $dir/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
AllowUsers root
AuthorizedKeysFile $dir/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding yes
EOF
}

# A dir pool `default` that starts with the daemon.
make_pool() {
  local st=$root/etc/libvirt/storage
  # dnsmasq/: what Debian's libvirt-daemon-system package leaves there; the
  # network driver writes a lab network's MAC list into it at a domain start.
  mkdir -p "$st/autostart" "$root/var/lib/libvirt/images" "$root/var/lib/libvirt/dnsmasq"
  cat >"$st/default.xml" <<'EOF'
<pool type='dir'>
  <name>default</name>
  <target><path>/var/lib/libvirt/images</path></target>
</pool>
EOF
  ln -sf ../default.xml "$st/autostart/default.xml"
}

make_lan() {
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ctl_ip link add "$ctl_if" type veth peer name "$lan_if" netns "$ns"
  ctl_ip addr add "$ctl_addr/24" dev "$ctl_if"
  ctl_ip link set "$ctl_if" up
  ip -n "$ns" addr add "$lan_addr/24" dev "$lan_if"
  ip -n "$ns" link set "$lan_if" up
}

# Runs in the new mount and UTS namespaces (`up` starts it there).
inside_start() {
  hostname xlab-server2
  for b in "${binds[@]}"; do
    mkdir -p "$root/$b" "/$b"
    mount --bind "$root/$b" "/$b"
  done
  mkdir -p /run/libvirt /run/sshd
  chmod 0755 /run/sshd
  virtlogd -d
  libvirtd -d
  /usr/sbin/sshd -f "$dir/ssh/sshd_config"
}

up() {
  local ctl=$1
  if status; then
    echo "server2.sh: already up" >&2
    uri
    return 0
  fi
  [ -e "/run/netns/$ns" ] && down
  mkdir -p "$dir"
  echo "$ctl" >"$dir/ctl-netns"
  make_keys
  make_pool
  # Stale sockets and pid files of a run that ended without `down`.
  rm -rf "${root:?}/run"
  mkdir -p "$root/run"
  make_lan
  ip netns exec "$ns" unshare --mount --uts --propagation private \
    env XLAB_SERVER2_DIR="$dir" bash "$0" inside-start
  for _ in $(seq 1 100); do
    status && break
    sleep 0.2
  done
  status || { down; die "server2 did not come up"; }
  uri
}

# Every process in server2's network namespace: its daemons and whatever
# they started (capability probes, ssh sessions), each by pid.
ns_pids() {
  local want p
  want="net:[$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)]"
  [ "$want" = "net:[]" ] && want=
  for p in /proc/[0-9]*; do
    # In server2's network namespace, or in its mount namespace (its
    # binds of $root): the second finds a server2 started by `up` from
    # inside `ip netns exec` (a test), whose /run/netns entry never
    # reached this mount namespace.
    if { [ -n "$want" ] && [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$want" ]; } ||
      grep -qsF "$root/" "$p/mountinfo"; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

down() {
  local pids
  pids=$(ns_pids)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 50); do
      pids=$(ns_pids)
      [ -z "$pids" ] && break
      sleep 0.2
    done
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null || true
    fi
  fi
  ctl_ip link del "$ctl_if" 2>/dev/null || true
  [ -e "/run/netns/$ns" ] && ip netns del "$ns"
  rm -rf "${root:?}/run"
  return 0
}

cmd=${1:-}
shift || true
case $cmd in
  up)
    ctl=$(ip netns identify $$ 2>/dev/null || true)
    [ "${1:-}" = "--netns" ] && ctl=${2:?namespace name}
    [ -z "$ctl" ] || [ -e "/run/netns/$ctl" ] || die "no network namespace '$ctl'"
    up "$ctl"
    ;;
  down) down ;;
  status)
    if status; then echo up; else echo down; exit 1; fi
    ;;
  uri) uri ;;
  exec)
    [ $# -gt 0 ] || die "usage: server2.sh exec COMMAND [ARGS...]"
    inside "$@"
    ;;
  cable)
    case ${1:-} in
      out) inside ip link set "$lan_if" down ;;
      in) inside ip link set "$lan_if" up ;;
      *) die "usage: server2.sh cable out|in" ;;
    esac
    ;;
  inside-start) inside_start ;;
  *) die "usage: server2.sh up [--netns NS] | down | status | uri | exec COMMAND... | cable out|in" ;;
esac
