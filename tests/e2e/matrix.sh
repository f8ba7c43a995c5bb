#!/usr/bin/env bash
# The Xen-version matrix end to end: one small lab on xen-4.17 and xen-4.20
# (one copy each, in sequence on a small machine), a host test, a console
# test and one test that passes on 4.17 only. Expected: exit 1, exactly that
# cell failed, table, JSON and JUnit agree, no copy left afterwards.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/matrix.yaml
copies=(matrix-e2e-x4-17 matrix-e2e-x4-20)

cleanup() { for l in "${copies[@]}"; do "$XLAB" down "$l" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

# Every image the matrix uses must be there and verify (its manifest against
# its files); a listed image is not yet a sound one.
for img in xen-4.17 xen-4.20; do ensure_image "$img"; done
cleanup

t=$SECONDS
set +e
"$XLAB" matrix "$spec" --xen 4.17,4.20 --json --junit "$BUILD/e2e-matrix.xml" >"$BUILD/e2e-matrix.json"
rc=$?
set -e
say "matrix took $((SECONDS - t)) s"
check "xlab matrix exits 1 (one cell failed)" test "$rc" -eq 1
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$BUILD/e2e-matrix.json")

check "JSON: both copies came up, exactly xen-4.20/only-4-17 failed" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert [c["suite"] for c in m["columns"]] == ["xen-4.17", "xen-4.20"], m["columns"]
assert m["tests"] == ["xl-info", "mg1-console", "only-4-17"], m["tests"]
for c in m["columns"]:
    assert c["bringup"]["passed"], (c["xen"], c["message"])
    assert c["bringup"]["duration_ms"] > 0
failed = [(c["suite"], t["name"]) for c in m["columns"] for t in c["tests"] if t["state"] != "pass"]
assert failed == [("xen-4.20", "only-4-17")], failed
assert not m["passed"]' "$BUILD/e2e-matrix.json"

check "each cell records what xl info said inside its own host" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["columns"]:
    v = c["xen_version"] or ""
    assert v == c["xen"] or v.startswith(c["xen"] + ".") or v.startswith(c["xen"] + "-"), c
    assert c["kernel_version"], c
    assert c["image"] == "xen-" + c["xen"] and len(c["image_manifest_sha256"]) == 64, c
    assert c["run_id"] > 0, c' "$BUILD/e2e-matrix.json"

check "JUnit: a testsuite per version, the same single failure" python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = r.findall("testsuite")
assert [s.get("name") for s in suites] == ["xen-4.17", "xen-4.20"], suites
for s in suites:
    names = [c.get("name") for c in s.findall("testcase")]
    assert names == ["bring-up", "xl-info", "mg1-console", "only-4-17"], names
failed = [(s.get("name"), c.get("name")) for s in suites for c in s.findall("testcase")
          if c.find("failure") is not None]
assert failed == [("xen-4.20", "only-4-17")], failed' "$BUILD/e2e-matrix.xml"

set +e
table=$("$XLAB" report --matrix "$id" --junit "$BUILD/e2e-matrix-report.xml")
rrc=$?
set -e
echo "$table"
check "report --matrix exits 1 too" test "$rrc" -eq 1
check "the table has one FAIL cell, on only-4-17 under xen-4.20" bash -c '
  [ "$(grep -c "FAIL [0-9]" <<<"$1")" -eq 1 ] &&
  grep -Eq "^only-4-17 +PASS [0-9.]+s +FAIL [0-9.]+s" <<<"$1" &&
  grep -Eq "^bring-up +PASS [0-9.]+s +PASS [0-9.]+s" <<<"$1"' _ "$table"
check "report --matrix writes the same JUnit" python3 -c '
import sys, xml.etree.ElementTree as ET
def cells(p):
    return [(s.get("name"), c.get("name"), c.find("failure") is not None)
            for s in ET.parse(p).getroot().findall("testsuite") for c in s.findall("testcase")]
assert cells(sys.argv[1]) == cells(sys.argv[2])' "$BUILD/e2e-matrix.xml" "$BUILD/e2e-matrix-report.xml"

no_copy_left() {
  local l
  for l in matrix-e2e-x4-17 matrix-e2e-x4-20; do
    no_domains_of "$l" && no_network_of "$l" && test ! -e "$HOME_DIR/labs/$l" || return 1
  done
}
check "no copy is left: no domain, network or lab directory" no_copy_left
trap - EXIT
finish
