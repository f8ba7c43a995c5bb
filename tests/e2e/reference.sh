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

# The run's page, before a second up makes another run the last.
html=$BUILD/e2e-reference-html
rm -rf "$html"
check "report --last --html writes the run's page" "$XLAB" report --last "$lab" --html "$html"
check "Chromium renders the page: topology, timeline of both hosts, both tests" \
  html_check "$html" --ids header,topology,timeline,steps,tests --svg topology,timeline \
  --text "host h1" --text "guest db1" --text web1-console --text h1-sees-h2

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
