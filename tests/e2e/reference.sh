#!/usr/bin/env bash
# The reference spec, end to end, on real nested Xen under libvirt: one
# bring-up checked for many things, then down checked for leftovers.
. "$(dirname "$0")/lib.sh"
# The README's spec, moved to 10.87.0.0/24: a user's own `demo` (this spec as
# is, in the user's store) keeps 10.80.0.0/24 and runs on untouched.
spec=$(spec_on_subnet "$SRC/examples/reference.yaml" 10.80.0. 10.87.0.)
lab=demo

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

ensure_image xen-4.17
"$XLAB" down "$lab" >/dev/null 2>&1 || true

t=$SECONDS
if "$XLAB" up "$spec"; then ok "xlab up (both hosts, both guests, both tests) in $((SECONDS - t)) s"
else bad "xlab up"; "$XLAB" report --last "$lab" || true; finish; exit 1; fi

# Hosts: Xen is really there, and each sees the other by name.
out=$("$XLAB" ssh "$lab" h1 -- xl info)
check "xl info on h1 shows Xen 4.17" grep -q '^xen_version *: *4\.17' <<<"$out"
check "h2 reaches h1 by name over the lab network" "$XLAB" ssh "$lab" h2 -- ping -c 1 -W 5 h1
check "ssh passes the remote exit code through" \
  bash -c '"$0" ssh demo h1 -- sh -c "exit 7"; [ $? -eq 7 ]' "$XLAB"

check "vnc listens on 127.0.0.1 only" bash -c '"$0" vnc demo h1 | grep -Eq "^127\.0\.0\.1:[0-9]+ "' "$XLAB"
check "status --json shows both hosts running" python3 -c '
import json, subprocess, sys
labs = json.loads(subprocess.check_output([sys.argv[1], "status", "demo", "--json"]))
assert [h["vm"] for h in labs[0]["hosts"]] == ["running", "running"], labs' "$XLAB"
echo "xlab-cp-$$" >"$BUILD/cp-probe"
check "cp puts a file into a dom0 and gets it back" bash -c '
  "$0" cp demo "$1/cp-probe" h1:/tmp/cp-probe && "$0" cp demo h1:/tmp/cp-probe "$1/cp-back" &&
  cmp -s "$1/cp-probe" "$1/cp-back"' "$XLAB" "$BUILD"

# Guests: running on their LVs, listed in xl's format.
list=$("$XLAB" list "$lab")
echo "$list"
check "list shows web1 on h1" grep -Eq '^web1 +[0-9]+ +128 +1 ' <<<"$list"
check "list shows db1 on h2" grep -Eq '^db1 +[0-9]+ +256 +1 ' <<<"$list"
check "web1's root is an LV in VG xlab on h1" \
  bash -c '"$0" ssh demo h1 -- lvs --noheadings -o lv_name xlab | grep -qw web1' "$XLAB"
check "db1 answers ping from h1" "$XLAB" ssh "$lab" h1 -- ping -c 1 -W 5 10.87.0.60
check "the controller reaches web1 on the lab network" ping -c 1 -W 5 10.87.0.50
check "db1's console log holds its marker" \
  bash -c '"$0" console demo db1 --log | grep -q "XLAB-GUEST-UP db1"' "$XLAB"

# Tests and the store.
json=$("$XLAB" runs "$lab" --json)
check "the up run is recorded as ok" python3 -c '
import json,sys; runs=json.loads(sys.argv[1]); assert runs[0]["status"]=="ok", runs[0]' "$json"
"$XLAB" report --last "$lab" --junit "$BUILD/e2e-reference.xml" >/dev/null
check "JUnit XML parses and has both tests passing" python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.findall(".//testcase")
names = sorted(c.get("name") for c in cases)
assert names == ["h1-sees-h2", "web1-console"], names
assert not r.findall(".//failure") and not r.findall(".//error")' "$BUILD/e2e-reference.xml"

# The up run's page, before snapshot, revert and a second up make other runs the last.
html=$BUILD/e2e-reference-html
rm -rf "$html"
check "report --last --html writes the run's page" "$XLAB" report --last "$lab" --html "$html"
check "Chromium renders the page: topology, timeline of both hosts, both tests" \
  html_check "$html" --ids header,topology,timeline,steps,tests --svg topology,timeline \
  --text "host h1" --text "guest db1" --text web1-console --text h1-sees-h2

# Snapshots: the running lab kept whole, changed three ways, brought back.
t=$SECONDS
if "$XLAB" snapshot "$lab" s1; then ok "snapshot of the running lab in $((SECONDS - t)) s"
else bad "snapshot"; fi
check "snapshot list: s1 holds both hosts and both guests" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert [x["name"] for x in s] == ["s1"] and s[0]["hosts"] == ["h1", "h2"] and s[0]["guests"] == 2, s
' "$("$XLAB" snapshot list "$lab" --json)"
check "a second snapshot of that name is refused" \
  bash -c 'out=$("$0" snapshot demo s1 2>&1); [ $? -ne 0 ] && grep -q "already has a snapshot" <<<"$out"' "$XLAB"
"$XLAB" ssh "$lab" h1 -- sh -c 'echo changed >/root/after-snapshot'
"$XLAB" ssh "$lab" h2 -- xl destroy db1
t=$SECONDS
if "$XLAB" guest create "$lab" hand1 --host h1 memory=128M >/dev/null; then
  ok "after the snapshot: a file written, db1 destroyed, hand1 made by hand ($((SECONDS - t)) s)"
else bad "guest create hand1 after the snapshot"; fi
check "db1 is gone from h2 before the revert" bash -c '! "$0" ssh demo h2 -- xl list db1 >/dev/null 2>&1' "$XLAB"
t=$SECONDS
if "$XLAB" revert "$lab" s1; then ok "revert to s1 in $((SECONDS - t)) s"; else bad "revert"; fi
check "the file written after the snapshot is gone" "$XLAB" ssh "$lab" h1 -- test ! -e /root/after-snapshot
check "db1 runs again on h2" "$XLAB" ssh "$lab" h2 -- xl list db1
check "db1 answers ping from h1 right after the revert" "$XLAB" ssh "$lab" h1 -- ping -c 3 -W 5 10.87.0.60
check "the controller reaches web1 right after the revert" ping -c 3 -W 5 10.87.0.50
check "hand1 is gone from h1's Xen" bash -c '! "$0" ssh demo h1 -- xl list hand1 >/dev/null 2>&1' "$XLAB"
check "hand1's volume is gone from h1" \
  bash -c '! "$0" ssh demo h1 -- lvs --noheadings -o lv_name xlab | grep -qw hand1' "$XLAB"
check "hand1 is gone from the store, web1 and db1 are up" python3 -c '
import json, sys
g = {x["name"]: x["state"] for x in json.loads(sys.argv[1])}
assert g == {"web1": "up", "db1": "up"}, g' "$("$XLAB" guest list "$lab" --json)"
check "the dom0's clock is today's again" bash -c '
  d=$("$0" ssh demo h1 -- date +%s) && [ $(( $(date +%s) - d )) -lt 120 ] && [ $(( d - $(date +%s) )) -lt 120 ]' "$XLAB"
check "snapshot rm removes it from libvirt and the store" bash -c '
  "$0" snapshot rm demo s1 && "$0" snapshot list demo --json | python3 -c "import json,sys; assert json.load(sys.stdin) == []" &&
  ! virsh -q snapshot-list "$1" --name | grep -qx s1' "$XLAB" "$(lv_name demo h1)"

# A second up changes nothing and says so quickly.
t0=$(date +%s%N)
out=$("$XLAB" up "$spec" 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
check "second up is a no-op (${ms} ms)" grep -q "nothing to do" <<<"$out"

# Down leaves nothing of the lab.
t=$SECONDS
if "$XLAB" down "$lab"; then ok "xlab down in $((SECONDS - t)) s"; else bad "xlab down (after $((SECONDS - t)) s)"; fi
check "no libvirt domain of the lab is left" no_domains_of demo
check "no libvirt network of the lab is left" no_network_of demo
check "no file of the lab is left" test ! -e "$HOME_DIR/labs/demo"
# The store must not remember a host or guest of a lab that is gone: the
# next `up` would take the lab for finished, and a lab made again under
# this name from another spec would inherit them.
check "the store forgets every host and guest of the lab" python3 -c '
import json, sys
labs = json.loads(sys.argv[1])
assert all(not l.get("hosts") and not l.get("guests") for l in labs), labs' "$("$XLAB" status "$lab" --json)"
trap - EXIT
finish
