#!/usr/bin/env bash
# After `xlab down LAB`: no domain, network, bridge, store directory or QEMU
# of the lab is left. Prints what it finds; exits 1 if anything is.
#   leftovers.sh LAB [XLAB_HOME]
set -euo pipefail
lab=$1 home=${2:-/var/lib/xlab}
left=()
while read -r d; do [ -n "$d" ] && left+=("domain $d"); done < <(virsh -q list --all --name)
while read -r n; do [ -n "$n" ] && left+=("network $n"); done < <(virsh -q net-list --all --name)
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
