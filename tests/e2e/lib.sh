# Helpers for the end-to-end suite: real libvirt, real nested Xen, real sshd.
# Runs inside the network namespace scripts/test.sh made (lab traffic never
# leaves the machine).
set -euo pipefail
XLAB=${XLAB_BIN:?XLAB_BIN not set (run through meson test)}
SRC=${XLAB_SOURCE_DIR:?}
BUILD=${XLAB_BUILD_DIR:?}
# The suite's own store, never the user's: its labs, keys, runs and store id
# live in $XLAB_TEST_HOME (default /var/lib/xlab-test), kept between runs
# (so a crash can be looked at) and cleaned by each script's `down`. Its
# libvirt objects carry that store's id (xlab-SSSSSSSS.LAB.HOST), so a user's
# lab `demo` and the suite's `demo` are different domains, networks and
# bridges, and neither store's commands touch the other's. Images are read
# from the user's image store ($XLAB_IMAGES, default /var/lib/xlab/images),
# which the suite never writes.
HOME_DIR=${XLAB_TEST_HOME:-/var/lib/xlab-test}
export XLAB_HOME=$HOME_DIR
export XLAB_IMAGES=${XLAB_IMAGES:-/var/lib/xlab/images}
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
# This store's libvirt names (labs/names.c): lv_name LAB [HOST] prints
# xlab-SSSSSSSS.LAB[.HOST], SSSSSSSS being the store id's first 8 digits.
sid() { head -c 8 "$HOME_DIR/store-id" 2>/dev/null; }
lv_name() { local IFS=.; echo "xlab-$(sid).$*"; }
# virsh's answer first: a failing virsh must not read as "nothing left".
no_domains_of() { local l; l=$(virsh -q list --all --name) && ! grep -qF "$(lv_name "$1")." <<<"$l"; }
no_network_of() { local l; l=$(virsh -q net-list --all --name) && ! grep -qxF "$(lv_name "$1")" <<<"$l"; }
# A copy of a spec on another subnet (every "A.B.C." of it replaced), so the
# suite's lab does not take the addresses a user's lab from the same example
# may hold: spec_on_subnet SPEC FROM_PREFIX TO_PREFIX prints the copy's path.
spec_on_subnet() {
  local out=$HOME_DIR/specs/$(basename "$1")
  mkdir -p "$HOME_DIR/specs"
  sed "s/${2//./\\.}/$3/g" "$1" >"$out"
  echo "$out"
}
# A page of `xlab report --html` looked at as a person would: parsed, then
# opened in headless Chromium, its elements found by id, its screenshot not
# blank (tests/e2e/htmlcheck.py, the checker the integration suite runs).
# html_check DIR [--ids ID,...] [--svg ID,...] [--text TEXT]...
html_check() {
  local dir=$1; shift
  python3 "$SRC/tests/e2e/htmlcheck.py" "$dir/index.html" --screenshot "$dir/screenshot.png" "$@"
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

# A second libvirt server for the tests that use one (remote, across):
# scripts/server2.sh, brought up unless the suite already did, added as
# box2 to a scratch store of the test's own (XLAB_HOME, 0755: QEMU opens
# disks in it). box2_end removes box2, the store, and server2 when this
# test brought it up. Lab names and box2 are then no other store's.
s2=$SRC/scripts/server2.sh
s2_ours=false
s2_home=
on_box2() { bash "$s2" exec "$@"; }
box2_begin() { # box2_begin TAG
  export XLAB_HOME
  s2_home=$(mktemp -d "/tmp/xlab-e2e-$1-XXXXXX")
  XLAB_HOME=$s2_home
  chmod 755 "$XLAB_HOME"
  if ! bash "$s2" status >/dev/null; then
    bash "$s2" up >/dev/null
    s2_ours=true
  fi
  "$XLAB" server add box2 "$(bash "$s2" uri)" >/dev/null
}
box2_end() {
  "$XLAB" server rm box2 >/dev/null 2>&1 || true
  $s2_ours && bash "$s2" down >/dev/null 2>&1
  # Only the scratch store box2_begin made, never the suite's.
  [ -z "$s2_home" ] || rm -rf "$s2_home"
}
