#!/usr/bin/env bash
# Installs what xlab needs, builds it twice (sanitized for unit and integration
# tests; release with the static agent for the end-to-end suite) and runs
# every suite, printing how long each took. This is what CI runs.
#   scripts/test.sh [unit|integration|fuzz|e2e|fresh ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit integration fuzz e2e fresh)
want() { local s; for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

declare -a report=() failed=()
timed() {
  local name=$1; shift
  local t0=$SECONDS rc=0
  echo "=== $name"
  "$@" || rc=$?
  report+=("$(printf '%-22s %5ss  %s' "$name" $((SECONDS - t0)) "$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
  return $rc
}
# Each test of a meson suite, and the tail of what a failed one printed: CI
# may keep only the end of this run's output, and that must name the culprit.
tests_of() {
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || return 0
  python3 - "$log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print("  %-30s %6.0fs  %s" % (t["name"].split(" / ")[-1], t["duration"], t["result"]))
    if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
        out = ((t.get("stdout") or "") + (t.get("stderr") or "")).splitlines()
        said = [l for l in out[:-25] if "FAIL" in l][:15]
        for l in said + (["    ..."] if said else []) + out[-25:]:
            print("    | " + l)
PY
}
summary() {
  echo
  echo "=== time per step"
  printf '%s\n' "${report[@]}"
  for f in "${failed[@]}"; do
    case $f in
      unit|integration) echo "=== $f, by test"; tests_of build-test ;;
      e2e) echo "=== $f, by test"; tests_of build ;;
    esac
  done
}
trap summary EXIT

timed install bash scripts/install-deps.sh

setup() {
  local dir=$1; shift
  # Inside `timed`, set -e is off (it runs under ||): check each step.
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -60 "$dir.ninja.log"; return 1; }
}
timed build-sanitized setup build-test -Db_sanitize=address,undefined -Db_lundef=false
timed build-release setup build

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if want unit; then
  timed unit meson test -C build-test --suite unit --print-errorlogs --num-processes 2 || failed+=(unit)
fi
if want integration; then
  timed integration meson test -C build-test --suite integration --print-errorlogs --num-processes 2 || failed+=(integration)
fi
if want fuzz && [ -x tests/fuzz/run.sh ]; then
  timed fuzz bash tests/fuzz/run.sh || failed+=(fuzz)
fi
if want e2e; then
  # Images are built here, outside the lab namespace: mmdebstrap needs the
  # Debian mirror, and nothing inside the namespace reaches it. An unchanged
  # image in the store is kept (a no-op build). They go to the user's image
  # store; the suite reads them from there (XLAB_IMAGES) and keeps its labs in
  # a store of its own, $XLAB_TEST_HOME (tests/e2e/lib.sh), never the user's.
  export XLAB_IMAGES=${XLAB_IMAGES:-${XLAB_HOME:-/var/lib/xlab}/images}
  # xen-4.17-debian keeps Debian's stock kernel (tests/e2e/derived.sh boots
  # it beside the lean kernel of the others).
  for img in xen-4.17 xen-4.20 xen-4.17-debian; do
    timed "image $img" build/cli/xlab image build "$img" || failed+=("image-$img")
  done
  # A Xen developer's image: 4.20 with its hypervisor built from source with
  # shadow paging (tests/e2e/derived.sh). The build is cached in the store
  # (about 4 minutes on 2 cores the first time).
  xen_src=${XLAB_XEN_SRC:-}
  for d in "$PWD/../shared/xen-src" /work/shared/xen-src; do
    [ -z "$xen_src" ] && [ -f "$d/xen-4.20.4.tar.xz" ] && xen_src=$d
  done
  if [ -n "$xen_src" ]; then
    timed "image xen-4.20-shadow" build/cli/xlab image build xen-4.20-shadow --from xen-4.20 \
      --xen-source "$xen_src/xen-4.20.4.tar.xz" --kconfig SHADOW_PAGING=y ||
      failed+=("image-xen-4.20-shadow")
    # A Xen Debian does not ship: 4.22's hypervisor and dom0 tools from
    # source into trixie's dom0 (tests/e2e/xen422.sh). Cached like the other.
    if [ -f "$xen_src/xen-4.22.0.tar.xz" ]; then
      timed "image xen-4.22" build/cli/xlab image build xen-4.22 --from xen-4.20 \
        --xen-source "$xen_src/xen-4.22.0.tar.xz" --kconfig SHADOW_PAGING=y ||
        failed+=("image-xen-4.22")
    fi
  else
    # A machine without the sources cannot make it: the e2e test that boots
    # it says it is skipped, nothing else depends on it.
    echo "image xen-4.20-shadow: no Xen sources (../shared/xen-src, or XLAB_XEN_SRC set to" \
      "the directory of xen-4.20.4.tar.xz): e2e 'derived' will be skipped" >&2
  fi
  # Lab traffic stays inside a network namespace this run owns (or the one the
  # running libvirtd already lives in).
  ns=$(bash scripts/libvirtd.sh --netns xlab-ci)
  echo "e2e: libvirtd's lab bridges live in netns '${ns:-root}'"
  export XLAB_E2E_NETNS=$ns
  # A second libvirt server on this machine (its own namespaces, reached over
  # SSH on a veth from the suite's namespace) for the servers test; taken
  # down after the suite whatever it did.
  timed server2 bash scripts/server2.sh up --netns "${ns:-xlab-ci}" || failed+=(server2)
  timed e2e ip netns exec "${ns:-xlab-ci}" meson test -C build --suite e2e --verbose \
    --num-processes 1 --timeout-multiplier 1 || failed+=(e2e)
  bash scripts/server2.sh down || failed+=(server2-down)
fi
if want fresh; then
  # The README's first command and the Debian package, each in a Debian root
  # nobody touched: what this machine has from earlier runs cannot hide a
  # missing install step there.
  timed fresh bash scripts/fresh-check.sh || failed+=(fresh)
fi
# Every suite runs even when an earlier one failed: one CI run shows all.
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
