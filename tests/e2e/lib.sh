# Helpers for the end-to-end suite: real libvirt, real nested Xen, real sshd.
# Runs inside the network namespace scripts/test.sh made (lab traffic never
# leaves the machine).
set -euo pipefail
XLAB=${XLAB_BIN:?XLAB_BIN not set (run through meson test)}
SRC=${XLAB_SOURCE_DIR:?}
BUILD=${XLAB_BUILD_DIR:?}
HOME_DIR=${XLAB_HOME:-/var/lib/xlab}
T0=$SECONDS
pass=0
fail=0

say() { printf '[%4ds] %s\n' $((SECONDS - T0)) "$*"; }
ok() { pass=$((pass + 1)); say "ok: $*"; }
bad() { fail=$((fail + 1)); say "FAIL: $*"; }
check() { # check DESCRIPTION CMD...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  say "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

# Images are built by scripts/test.sh before the suite, outside the lab
# namespace (mmdebstrap needs the mirror; nothing in the namespace reaches
# it). Here they must already be in the store and verify.
ensure_image() {
  local name=$1 t=$SECONDS
  if ! "$XLAB" image inspect "$name" >/dev/null; then
    echo "image $name is missing or does not verify: run \`xlab image build $name\`" \
      "outside the lab namespace (scripts/test.sh e2e does it first)" >&2
    exit 1
  fi
  say "image $name verified in $((SECONDS - t)) s"
}
