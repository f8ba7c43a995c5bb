#!/usr/bin/env bash
# After `xlab down LAB`: no domain, network, bridge, store directory or QEMU
# of the lab is left. Prints what it finds; exits 1 if anything is.
#   leftovers.sh LAB [BEFORE]
# BEFORE, when given, lists the domains and networks libvirt had before the
# lab came up (Debian's libvirt-daemon-system defines a network 'default'):
# those are not the lab's.
set -euo pipefail
lab=$1 before=${2:-/dev/null} home=/var/lib/xlab
left=()
theirs() { grep -qxF -- "$1" "$before"; }
while read -r d; do [ -n "$d" ] && ! theirs "$d" && left+=("domain $d"); done < <(virsh -q list --all --name)
while read -r n; do [ -n "$n" ] && ! theirs "$n" && left+=("network $n"); done < <(virsh -q net-list --all --name)
while read -r b; do left+=("bridge $b"); done < <(ip -o link show type bridge | awk -F': ' '{print $2}')
[ -e "$home/labs/$lab" ] && left+=("directory $home/labs/$lab")
# No pgrep in a minbase root: the process names themselves.
for comm in /proc/[0-9]*/comm; do
  [[ $(cat "$comm" 2>/dev/null) == qemu-system* ]] && left+=("qemu process ${comm//[^0-9]/}")
done
if [ ${#left[@]} -gt 0 ]; then
  printf 'left after down: %s\n' "${left[@]}" >&2
  exit 1
fi
echo "down left nothing: no domain, network, bridge, lab directory or QEMU"
