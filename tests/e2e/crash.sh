#!/usr/bin/env bash
# Crash anywhere and converge: `up` is killed with SIGKILL (XLAB_FAULT) at a
# chain of step boundaries, each next `up` picking up where the last one
# died; then the final `up` must leave a complete lab. `down` is killed too,
# and the next `down` must leave nothing. The sample of boundaries covers
# every phase (keys, network, host files, define, start, boot, agent,
# storage, guest) on one boot, which is what CI's time allows; the README
# says how to run the full sweep (XLAB_CRASH_FULL=1: one bring-up per boundary).
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/crash.yaml
lab=crash

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT
ensure_image xen-4.17
"$XLAB" down "$lab" >/dev/null 2>&1 || true

up_killed_at() { # the run must die at exactly that boundary
  local fault=$1 rc=0
  XLAB_FAULT=$fault "$XLAB" up "$spec" >"$BUILD/crash-up.log" 2>&1 || rc=$?
  if [ "$rc" -eq 137 ] && grep -q "killing myself at $fault" "$BUILD/crash-up.log"; then
    ok "up killed at $fault"
  else
    bad "up killed at $fault (exit $rc)"; tail -20 "$BUILD/crash-up.log"
  fi
}

boundaries=(end:keys end:network.ensure end:host.prepare@c1 end:host.define@c1
  end:host.start@c1 begin:agent.push@c1 end:storage.init@c1 end:guest.create@cg1
  begin:guest.boot@cg1)
if [ "${XLAB_CRASH_FULL:-0}" = 1 ]; then
  for b in "${boundaries[@]}"; do
    up_killed_at "$b"
    check "up after a kill at $b converges" "$XLAB" up "$spec"
    check "down after $b" "$XLAB" down "$lab"
  done
fi
for b in "${boundaries[@]}"; do up_killed_at "$b"; done
check "the next up finishes the lab" "$XLAB" up "$spec"
check "the guest runs on its host" bash -c '"$0" list crash | grep -Eq "^cg1 +[0-9]+ +128 "' "$XLAB"
check "hotplug: xen: its config names no script, its disk and vif are connected" bash -c '
  ! "$0" ssh crash c1 -- grep -q script= /etc/xen/xlab/cg1.cfg &&
  "$0" ssh crash c1 -- xl block-list cg1 | grep -Eq "^51712 +0 +[0-9]+ +4 " &&
  "$0" ssh crash c1 -- xl network-list cg1 | grep -Eq "^0 +0 +[0-9a-f:]+ +[0-9]+ +4 "' "$XLAB"
json=$("$XLAB" runs "$lab" --json)
check "killed runs are recorded as interrupted, the last as ok" python3 -c '
import json, sys
runs = json.loads(sys.argv[1]); n = int(sys.argv[2])
ups = [r for r in runs if r["command"] == "up"]
assert ups[0]["status"] == "ok", ups[0]
assert all(r["status"] == "interrupted" for r in ups[1:n + 1]), [r["status"] for r in ups]' \
  "$json" "${#boundaries[@]}"

rc=0; XLAB_FAULT=begin:network.remove "$XLAB" down "$lab" >/dev/null 2>&1 || rc=$?
check "down killed before removing the network" test "$rc" -eq 137
check "the next down finishes" "$XLAB" down "$lab"
check "no domain of the lab is left" no_domains_of crash
check "no network of the lab is left" no_network_of crash
check "no file of the lab is left" test ! -e "$HOME_DIR/labs/crash"
check "the store is intact after the kills" python3 -c '
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]
assert r == "ok", r' "$HOME_DIR/xlab.db"
trap - EXIT
finish
