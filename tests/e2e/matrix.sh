#!/usr/bin/env bash
# The matrix end to end: one small lab on xen-4.17 and xen-4.20, each with
# its guest as pv and as pvh (four copies, one at a time), a host test, a
# console test, osstest's save-restore, the guest's type as Xen reports it,
# and one test that passes on 4.17 only. Expected: exit 1; 4.20/pv fails
# only-4-17 and 4.20/pvh cannot come up (no shadow paging in Debian's 4.20);
# table, JSON and JUnit agree; no copy left afterwards.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/matrix.yaml
copies=(matrix-e2e-x4-17-pv matrix-e2e-x4-17-pvh matrix-e2e-x4-20-pv matrix-e2e-x4-20-pvh)

cleanup() { for l in "${copies[@]}"; do "$XLAB" down "$l" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

# Every image the matrix uses must be there and verify (its manifest against
# its files); a listed image is not yet a sound one.
for img in xen-4.17 xen-4.20; do ensure_image "$img"; done
cleanup

t=$SECONDS
set +e
"$XLAB" matrix "$spec" --xen 4.17,4.20 --types pv,pvh --json --junit "$BUILD/e2e-matrix.xml" >"$BUILD/e2e-matrix.json"
rc=$?
set -e
say "matrix took $((SECONDS - t)) s"
check "xlab matrix exits 1 (cells failed)" test "$rc" -eq 1
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$BUILD/e2e-matrix.json")

check "JSON: versions x types; 4.20/pvh did not come up; else only 4.20/pv only-4-17 failed" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
suites = [c["suite"] for c in m["columns"]]
assert suites == ["xen-4.17/pv", "xen-4.17/pvh", "xen-4.20/pv", "xen-4.20/pvh"], suites
assert [c["guest_type"] for c in m["columns"]] == ["pv", "pvh", "pv", "pvh"], m["columns"]
assert m["tests"] == ["xl-info", "mg1-console", "mg1-type", "mg1-saverestore", "only-4-17"], m["tests"]
up = {c["suite"]: c["bringup"]["passed"] for c in m["columns"]}
assert up == {"xen-4.17/pv": True, "xen-4.17/pvh": True, "xen-4.20/pv": True,
              "xen-4.20/pvh": False}, up
pvh20 = m["columns"][3]
assert "shadow" in (pvh20["message"] or ""), pvh20["message"]
failed = [(c["suite"], t["name"]) for c in m["columns"][:3] for t in c["tests"] if t["state"] != "pass"]
assert failed == [("xen-4.20/pv", "only-4-17")], failed
assert all(t["state"] == "not-run" for t in pvh20["tests"]), pvh20["tests"]
assert not m["passed"]' "$BUILD/e2e-matrix.json"

check "each copy ran its guest as its column says (xl list -l)" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["columns"][:3]:
    out = [t["output"] for t in c["tests"] if t["name"] == "mg1-type"][0] or ""
    assert "\"type\": \"%s\"" % c["guest_type"] in out, (c["suite"], out)' "$BUILD/e2e-matrix.json"

check "each copy that came up records what xl info said inside its own host" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["columns"][:3]:
    v = c["xen_version"] or ""
    assert v == c["xen"] or v.startswith(c["xen"] + ".") or v.startswith(c["xen"] + "-"), c
    assert c["kernel_version"], c
    assert c["image"] == "xen-" + c["xen"] and len(c["image_manifest_sha256"]) == 64, c
    assert c["run_id"] > 0, c' "$BUILD/e2e-matrix.json"

check "JUnit: a testsuite per column, the same failures" python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = r.findall("testsuite")
assert [s.get("name") for s in suites] == ["xen-4.17/pv", "xen-4.17/pvh", "xen-4.20/pv", "xen-4.20/pvh"], suites
for s in suites:
    names = [c.get("name") for c in s.findall("testcase")]
    assert names == ["bring-up", "xl-info", "mg1-console", "mg1-type", "mg1-saverestore", "only-4-17"], names
failed = [(s.get("name"), c.get("name")) for s in suites[:3] for c in s.findall("testcase")
          if c.find("failure") is not None]
assert failed == [("xen-4.20/pv", "only-4-17")], failed
assert all(c.find("failure") is not None for c in suites[3].findall("testcase"))' "$BUILD/e2e-matrix.xml"

set +e
table=$("$XLAB" report --matrix "$id" --junit "$BUILD/e2e-matrix-report.xml")
rrc=$?
set -e
echo "$table"
check "report --matrix exits 1 too" test "$rrc" -eq 1
check "the table: version x type columns, save-restore passed where the copy came up" bash -c '
  grep -Eq "^TEST +xen-4\.17/pv +xen-4\.17/pvh +xen-4\.20/pv +xen-4\.20/pvh" <<<"$1" &&
  grep -Eq "^bring-up +PASS [0-9.]+s +PASS [0-9.]+s +PASS [0-9.]+s +FAIL [0-9.]+s" <<<"$1" &&
  grep -Eq "^mg1-saverestore +PASS [0-9.]+s +PASS [0-9.]+s +PASS [0-9.]+s +-" <<<"$1" &&
  grep -Eq "^only-4-17 +PASS [0-9.]+s +PASS [0-9.]+s +FAIL [0-9.]+s +-" <<<"$1"' _ "$table"
check "report --matrix writes the same JUnit" python3 -c '
import sys, xml.etree.ElementTree as ET
def cells(p):
    return [(s.get("name"), c.get("name"), c.find("failure") is not None)
            for s in ET.parse(p).getroot().findall("testsuite") for c in s.findall("testcase")]
assert cells(sys.argv[1]) == cells(sys.argv[2])' "$BUILD/e2e-matrix.xml" "$BUILD/e2e-matrix-report.xml"

# The pages: a copy's run (with the matrix it belongs to) and the matrix's.
html=$BUILD/e2e-matrix-html
rm -rf "$html"
check "report --last COPY --html writes the copy's page" \
  "$XLAB" report --last matrix-e2e-x4-20-pv --html "$html/copy"
check "Chromium renders the copy's page: its topology, timeline, tests and the matrix table" \
  html_check "$html/copy" --ids header,topology,timeline,tests,matrix,matrix-table \
  --svg topology,timeline --text only-4-17 --text xen-4.20/pvh --text FAIL
check "report --matrix --html writes the matrix's page" \
  "$XLAB" report --matrix "$id" --html "$html/matrix"
check "Chromium renders the matrix's page: the table, the copies, four bring-up timelines" \
  html_check "$html/matrix" --ids header,matrix,matrix-table,columns,timeline --svg timeline \
  --text matrix-e2e-x4-17-pvh --text mg1-saverestore

no_copy_left() {
  local l
  for l in "${copies[@]}"; do
    no_domains_of "$l" && no_network_of "$l" && test ! -e "$HOME_DIR/labs/$l" || return 1
  done
}
check "no copy is left: no domain, network or lab directory" no_copy_left
trap - EXIT
finish
