#!/usr/bin/env bash
# Installs what xlab needs, builds it, and brings up the reference lab:
# two nested Xen hosts with an LVM-backed guest each, and the spec's tests.
#   scripts/demo.sh [SPEC]      (default: examples/reference.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/reference.yaml}

bash scripts/install-deps.sh --run
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
# Users' machines keep lab bridges in their own namespace; only the tests
# isolate theirs (scripts/test.sh).
bash scripts/libvirtd.sh >/dev/null
xen=$(sed -n 's/^xen: *"\{0,1\}\([0-9.]*\)"\{0,1\}.*/\1/p' "$spec")
build/orchestrator/xlab image build "xen-${xen:-4.17}"
build/orchestrator/xlab up "$spec"
lab=$(sed -n 's/^lab: *//p' "$spec")
build/orchestrator/xlab list "$lab"
cat <<MSG

The lab is up. Try:
  build/orchestrator/xlab ssh $lab h1 -- xl list
  build/orchestrator/xlab console $lab web1 --log
  build/orchestrator/xlab down $lab
MSG
