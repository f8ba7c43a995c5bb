#!/usr/bin/env bash
# The front door on a machine nobody touched. CI's own machine keeps whatever
# earlier runs installed, so a missing install step stays hidden there; this
# check makes a clean Debian 12 root and walks in as a new user would:
#   source  the README's first command, exactly as written, in a clean clone
#           (scripts/demo.sh with a one-host lab), then `xlab down`: the lab
#           came up, its tests passed, and nothing is left behind.
#           Then the Debian package is built there (apt-get build-dep,
#           dpkg-buildpackage).
#   deb     that package installed into a second clean root with
#           `apt-get install ./xlab_*.deb` (no source tree there), an image
#           built and the same lab brought up and taken down.
#
#   scripts/fresh-check.sh [source|deb ...]      (default: both, in order)
# XLAB_FRESH_KEEP=1 keeps the roots of a failed run to look at;
# XLAB_FRESH_DEB=PATH.deb runs the deb phase alone on that package.
#
# Each root runs in a network namespace of its own: the lab's bridges live
# there, and nothing in it is routed anywhere. The Debian mirror (needed by
# apt and by the image build) is reached only through a relay: 127.0.0.1:80
# inside the namespace is joined by socat to deb.debian.org:80, and the
# root's /etc/hosts names that address. Roots live under /var/tmp and are
# removed at the end; only the bootstrap tarball (plain Debian, nothing of
# xlab's) is kept, and made again when it is older than a day.
set -euo pipefail
# A failed mmdebstrap or tar inside $(...) must stop the check, not leave a
# half-made tarball cached for a day.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
top=$PWD
phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(source deb)
for p in "${phases[@]}"; do
  case $p in source | deb) ;; *) echo "fresh-check: unknown phase '$p' (source, deb)" >&2; exit 2 ;; esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run as root (chroot, namespaces)" >&2; exit 1; }
for tool in mmdebstrap socat unshare ip git; do
  command -v "$tool" >/dev/null || { echo "fresh-check: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

mirror_host=deb.debian.org
suite=bookworm
cache=${XLAB_FRESH_CACHE:-/var/cache/xlab-fresh}
spec=examples/one-host.yaml
lab=solo
T0=$SECONDS
say() { printf '[fresh %4ds] %s\n' $((SECONDS - T0)) "$*"; }

work=$(mktemp -d /var/tmp/xlab-fresh.XXXXXX)
ns=xlab-fresh-$$
relay_pids=()
cleanup() {
  local rc=$?
  # Processes of a root die with its PID namespace; the relays are ours.
  for pid in "${relay_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  # Mounts were private to each root's mount namespace: nothing is mounted
  # here, so removing the tree cannot reach the host's /dev or /proc.
  if [ "$rc" -ne 0 ] && [ -n "${XLAB_FRESH_KEEP:-}" ]; then
    echo "fresh-check: failed; roots kept in $work (XLAB_FRESH_KEEP)" >&2
  elif grep -q " $work/" /proc/self/mounts; then
    echo "fresh-check: mounts under $work are still present; not removing it" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT

# A minbase Debian 12 with what a fresh cloud image also has.
bootstrap_tarball() {
  # dpkg without fsync, as container images of Debian have it: the roots
  # are thrown away, and it saves minutes of package installs.
  local tar=$cache/$suite-minbase-unsafe-io.tar
  mkdir -p "$cache"
  if [ -f "$tar" ] && [ -z "$(find "$tar" -mmin +1440)" ]; then
    echo "$tar"
    return
  fi
  say "bootstrap: mmdebstrap $suite minbase (cached for a day at $tar)" >&2
  mmdebstrap --quiet --variant=minbase --include=git,ca-certificates,iproute2 \
    --dpkgopt=force-unsafe-io \
    --format=tar "$suite" "$tar.new" \
    "deb http://$mirror_host/debian $suite main" \
    "deb http://$mirror_host/debian $suite-updates main" \
    "deb http://$mirror_host/debian-security $suite-security main" >&2
  mv "$tar.new" "$tar"
  echo "$tar"
}

start_relay() {
  local sock=$work/mirror.sock
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  socat "UNIX-LISTEN:$sock,fork,mode=600" "TCP:$mirror_host:80" &
  relay_pids+=($!)
  ip netns exec "$ns" socat "TCP-LISTEN:80,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$sock" &
  relay_pids+=($!)
  for _ in $(seq 1 50); do
    [ -S "$sock" ] && ip netns exec "$ns" bash -c ': </dev/tcp/127.0.0.1/80' 2>/dev/null && return 0
    sleep 0.1
  done
  echo "fresh-check: the mirror relay did not start" >&2
  return 1
}

# A limit of this check, not of a fresh machine: libvirt gives each QEMU a
# private /dev (a mount namespace), and inside a chroot the QEMU it starts
# then finds no PTY for its serial console ("Failed to create PTY"), whatever
# /dev the root has. On a machine booted from that root, and on this host,
# the same packages work. Only the roots of this check turn the private /dev
# off; the package root gets the line after its libvirt is installed
# (tests/fresh/deb.sh), since its qemu.conf is a conffile of the package.
qemu_conf_for_chroot() {
  mkdir -p "$(dirname "$1")"
  printf '# fresh-check: no per-QEMU mount namespace inside a chroot\nnamespaces = [ ]\n' >>"$1"
}

make_root() {
  local root=$work/$1
  mkdir "$root"
  tar -xf "$tarball" -C "$root"
  printf '127.0.0.1 localhost %s\n::1 localhost\n' "$mirror_host" >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  echo "$root"
}

# in_root ROOT CMD...: CMD as root inside ROOT (tests/fresh/enter.sh), in the
# check's network namespace and in PID and mount namespaces of its own: a
# libvirtd started there is that root's own and dies with it, and the root's
# mounts are gone when it ends.
# Both roots of one run share the downloaded packages (never kept after it).
in_root() {
  mkdir -p "$work/apt-archives/partial"
  ip netns exec "$ns" unshare --mount --pid --fork --kill-child -- \
    bash "$top/tests/fresh/enter.sh" "$1" "$work/apt-archives" "${@:2}"
}

phase_source() {
  local root t=$SECONDS
  root=$(make_root source)
  qemu_conf_for_chroot "$root/etc/libvirt/qemu.conf"
  git clone --quiet --no-local "$top" "$root/root/xlab"
  say "source: $(git -C "$root/root/xlab" log -1 --format='%h %s') in a clean $suite root"
  in_root "$root" bash /root/xlab/tests/fresh/source.sh "$spec" "$lab"
  deb=$(ls "$root"/root/xlab_*_amd64.deb)
  cp "$deb" "$work/"
  say "source: passed in $((SECONDS - t)) s; package $(basename "$deb")"
}

phase_deb() {
  local root t=$SECONDS deb
  deb=${XLAB_FRESH_DEB:-$(ls "$work"/xlab_*_amd64.deb 2>/dev/null || true)}
  [ -n "$deb" ] || { echo "fresh-check: no package (run the source phase first, or set XLAB_FRESH_DEB=PATH.deb)" >&2; return 1; }
  root=$(make_root deb)
  cp "$deb" "$top/tests/fresh/deb.sh" "$top/tests/fresh/leftovers.sh" "$root/root/"
  say "deb: $(basename "$deb") into a clean $suite root, no source tree"
  in_root "$root" bash /root/deb.sh "/root/$(basename "$deb")" "$lab"
  say "deb: passed in $((SECONDS - t)) s"
}

tarball=$(bootstrap_tarball)
start_relay
for p in "${phases[@]}"; do
  "phase_$p"
done
say "all passed"
