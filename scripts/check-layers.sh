#!/bin/bash
# The folders are layers: a file may include headers of its own folder and of
# folders below it, never above. Run as a unit test (meson test layers) and
# by hand: scripts/check-layers.sh [SOURCE_DIR]. Prints each violation as
# FILE: includes HEADER (FOLDER is above LAYER).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
# Bottom to top. agents/ runs in the dom0: it may use only common/ and proto/.
order=(common proto labs db store image host engine features cli)
declare -A rank
for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done

declare -A home
for d in "${order[@]}" agents; do
  for h in "$d"/*.h; do
    [ -e "$h" ] || continue
    b=${h##*/}
    if [ -n "${home[$b]:-}" ]; then
      echo "$h: header name also in ${home[$b]}/ (includes would be ambiguous)"
      exit 1
    fi
    home[$b]=$d
  done
done

bad=0
check() { # check FILE FOLDER
  local f=$1 d=$2 h hd
  while read -r h; do
    hd=${home[$h]:-}
    [ -n "$hd" ] || continue # system or generated (version.h)
    [ "$hd" = "$d" ] && continue
    if [ "$d" = agents ]; then
      case $hd in common | proto) continue ;; esac
      echo "$f: includes $h ($hd/ is not common/ or proto/, all the dom0 agent may use)"
      bad=1
    elif [ "${rank[$hd]}" -gt "${rank[$d]}" ]; then
      echo "$f: includes $h ($hd/ is above $d/)"
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
}
for d in "${order[@]}" agents; do
  for f in "$d"/*.[ch]; do
    [ -e "$f" ] && check "$f" "$d"
  done
done
[ $bad -eq 0 ] && echo "layers: ${order[*]} (agents: common proto): no include goes up"
exit $bad
