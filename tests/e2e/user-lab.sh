#!/usr/bin/env bash
# The suite beside a user's own lab. `up` runs first: a lab named `demo` (as
# the README's and the suite's reference lab are) from a store of its own,
# standing for the user's /var/lib/xlab. `check` runs last, after every other
# e2e script made, broke and took down its labs (its own `demo` among them,
# up at the same time as this one): the user's lab must be untouched, the
# same domain never restarted, the same dom0 boot, ssh answering, its guest
# still running; then it is taken down.
#   user-lab.sh up|check
. "$(dirname "$0")/lib.sh"
USER_HOME=${XLAB_TEST_HOME:-/var/lib/xlab-test}-user
state=$USER_HOME/suite-state
lab=demo
u() { XLAB_HOME=$USER_HOME "$XLAB" "$@"; }
user_domain() { echo "xlab-$(head -c 8 "$USER_HOME/store-id").$lab.h1"; }
boot_id() { u ssh "$lab" h1 -- cat /proc/sys/kernel/random/boot_id; }
guest_runs() { u list "$lab" | grep -Eq "^$1 "; }

case ${1:-} in
up)
  ensure_image xen-4.17
  u down "$lab" >/dev/null 2>&1 || true
  t=$SECONDS
  if u up "$SRC/tests/e2e/data/user-demo.yaml"; then ok "the user's lab demo is up in $((SECONDS - t)) s"
  else bad "the user's lab demo did not come up"; finish; exit 1; fi
  dom=$(user_domain)
  { echo "domid=$(virsh domid "$dom")"; echo "boot=$(boot_id)"; } >"$state"
  cat "$state"
  ;;
check)
  # shellcheck disable=SC1090
  . "$state"
  dom=$(user_domain)
  check "the user's domain $dom still runs with the same id" \
    test "$(virsh domid "$dom" 2>/dev/null)" = "$domid"
  check "its dom0 never rebooted (same boot id) and ssh answers" test "$(boot_id)" = "$boot"
  check "its guest web1 still runs" guest_runs web1
  check "the suite's own demo came up beside it (the suite's store has a good up of demo)" \
    python3 -c '
import json, subprocess, sys
runs = json.loads(subprocess.check_output([sys.argv[1], "runs", "demo", "--json"]))
assert any(r["command"] == "up" and r["status"] == "ok" for r in runs), runs' "$XLAB"
  check "its store is not the suite's (another store id)" \
    bash -c '[ -s "$0/store-id" ] && [ -s "$1/store-id" ] && ! cmp -s "$0/store-id" "$1/store-id"' \
    "$USER_HOME" "$HOME_DIR"
  check "the user's store holds no lab of the suite's" \
    bash -c '[ "$(ls "$0/labs")" = demo ]' "$USER_HOME"
  t=$SECONDS
  check "the user's demo goes down" u down "$lab"
  say "down in $((SECONDS - t)) s"
  check "nothing of the user's demo is left in libvirt" \
    bash -c 'doms=$(virsh -q list --all --name) && ! grep -qF "$0." <<<"$doms"' "${dom%.h1}"
  ;;
*) echo "usage: user-lab.sh up|check" >&2; exit 2 ;;
esac
finish
