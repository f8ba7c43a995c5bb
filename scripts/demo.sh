#!/usr/bin/env bash
# Installs what xlab needs, builds it, and brings up the reference lab:
# two nested Xen hosts with an LVM-backed guest each, and the spec's tests.
#   scripts/demo.sh [SPEC]      (default: examples/reference.yaml)
#   scripts/demo.sh --hints LAB (only the closing hints, for a lab that is up)
# XLAB names the xlab binary (default: build/cli/xlab).
set -euo pipefail
cd "$(dirname "$0")/.."
xlab=${XLAB:-build/cli/xlab}

# The first value of KEY in each object of the JSON array on stdin.
first() {
  python3 -c 'import json, sys
items = json.load(sys.stdin)
print(items[0][sys.argv[1]] if items else "")' "$1"
}

# Names come from xlab's store, not from the spec's text: whatever the spec
# calls its lab, hosts and guests.
hints() {
  local lab=$1 host guest
  host=$("$xlab" status "$lab" --json | python3 -c 'import json, sys
hosts = json.load(sys.stdin)[0]["hosts"]
print(hosts[0]["name"] if hosts else "")')
  guest=$("$xlab" guest list "$lab" --json | first name)
  echo
  echo "The lab is up. Try:"
  [ -z "$host" ] || echo "  $xlab ssh $lab $host -- xl list"
  echo "  $xlab console $lab ${guest:-$host} --log"
  echo "  $xlab down $lab"
}

if [ "${1:-}" = --hints ]; then
  hints "${2:?usage: scripts/demo.sh --hints LAB}"
  exit 0
fi
spec=${1:-examples/reference.yaml}

bash scripts/install-deps.sh --run
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
# Users' machines keep lab bridges in their own namespace; only the tests
# isolate theirs (scripts/test.sh).
bash scripts/libvirtd.sh >/dev/null
xen=$(sed -n 's/^xen: *"\{0,1\}\([0-9.]*\)"\{0,1\}.*/\1/p' "$spec")
"$xlab" image build "xen-${xen:-4.17}"
"$xlab" up "$spec"
# The lab this `up` just brought up is the latest run's.
lab=$("$xlab" runs --limit 1 --json | first lab)
"$xlab" list "$lab"
hints "$lab"
