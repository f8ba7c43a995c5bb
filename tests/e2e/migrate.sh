#!/usr/bin/env bash
# Live migration end to end: two nested Xen hosts sharing a disk, one guest
# on the shared VG, 3 rounds of xl migrate back and forth with a 20 ms ping
# probe; then the report and `down` checked for leftovers (the shared disk).
# The same lab holds a PVH guest, migrated twice, on shadow paging (what
# xlab gives PVH and HVM guests under TCG). After the guest checks, each host
# is checked for leftovers and for Xen reporting a bug (xl dmesg).
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/migrate.yaml
lab=mig

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

ensure_image xen-4.17
"$XLAB" down "$lab" >/dev/null 2>&1 || true

plan=$("$XLAB" plan "$spec")
check "plan: each guest's type, and shadow paging for pvh under TCG" bash -c '
  grep -q "^## guest pvh1 on h1: pvh," <<<"$1" &&
  grep -q "^## guest mig1 on h1: pv," <<<"$1" && [ "$(grep -c "^hap = 0 (TCG" <<<"$1")" -eq 1 ] &&
  grep -q "<feature policy=\"require\" name=\"npt\"/>" <<<"$1"' _ "$plan"

t=$SECONDS
if "$XLAB" up --experiments "$spec"; then ok "up --experiments (2 hosts, shared VG, PV 3 rounds, PVH 2) in $((SECONDS - t)) s"
else bad "up --experiments"; "$XLAB" report --last "$lab" || true; finish; exit 1; fi

check "the shared disk is in the lab's directory" test -f "$HOME_DIR/labs/$lab/shared.img"
check "mig1's LV is on the shared VG, seen from h2 too" \
  bash -c '"$0" ssh mig h2 -- lvs --noheadings -o lv_name shared | grep -qw mig1' "$XLAB"

# What Xen itself says about each guest (xl list -l), on the host it is on.
xl_type() { "$XLAB" ssh "$lab" "$1" -- xl list -l "$2" | jq -r '.[0].config.c_info.type'; }
check "Xen runs pvh1 as a PVH guest" test "$(xl_type h1 pvh1)" = pvh
check "Xen runs mig1 as a PV guest (on h2 after 3 rounds)" test "$(xl_type h2 mig1)" = pv
check "pvh1's kept config asks for shadow paging (hap = 0), mig1's does not" bash -c '
  "$0" ssh mig h1 -- grep -qx "hap = 0" /etc/xen/xlab/pvh1.cfg &&
  ! "$0" ssh mig h1 -- grep -q "^hap" /etc/xen/xlab/mig1.cfg' "$XLAB"
check "pvh1's console log (xl console -t pv) has its marker" \
  bash -c '"$0" console --log mig pvh1 | grep -q "XLAB-GUEST-UP pvh1"' "$XLAB"

# The guest actions are tests of the up run; the experiments are a run of their own.
up_run=$("$XLAB" runs "$lab" --json | jq -r '[.[] | select(.command == "up")] | max_by(.id) | .id')
up_json=$("$XLAB" report "$up_run" --json)
check "osstest's checks: mig1 saved and restored, stopped and started, migrated to its own host, answering after each" \
  jq -e '[.tests[] | select(.kind == "action" and .passed and .target != "h1" and
    .target != "h2")] | map(.name) |
    sort == ["mig1-localmigrate", "mig1-saverestore", "mig1-stopstart"]' <<<"$up_json"
check "osstest's host checks passed on h1 and h2, after every other test (h1's come first in the spec)" \
  jq -e '[.tests[] | "\(.name) \(.kind) \(.target) \(.passed)"] | .[-4:] ==
    ["h1-leaks action h1 true", "h1-dmesg action h1 true",
     "h2-leaks action h2 true", "h2-dmesg action h2 true"]' <<<"$up_json"
check "leak-check names what it looked at: h1's guests, the shared VG's LVs from both hosts, xenstore, backends" jq -e '
  def out(n): [.tests[] | select(.name == n) | .output] | first;
  (out("h1-leaks") | test("leak-check: passed, nothing found") and
    test("xl list: Domain-0 \\(id 0\\), [^\n]*mig1 \\(id [0-9]+\\)") and
    test("xl list: [^\n]*pvh1 \\(id [0-9]+\\)") and
    test("LVs in VG xlab, shared: [^\n]*shared/mig1") and
    test("xenstore /local/domain: 0, [0-9]") and
    test("backends in /local/domain/0/backend: [^\n]*vbd/[0-9]+") and
    test("accounted for: guests mig1 pvh1; LVs ")) and
  (out("h2-leaks") | test("leak-check: passed, nothing found") and
    test("xl list: Domain-0 \\(id 0\\)\n") and
    test("LVs in VG xlab, shared: [^\n]*shared/pvh1") and
    test("accounted for: guests none; LVs shared/mig1 shared/mig1-swap shared/pvh1"))' <<<"$up_json"
check "xen-dmesg-clean names what it read on each host" jq -e '
  [.tests[] | select(.name == "h1-dmesg" or .name == "h2-dmesg") | .output |
    test("xen-dmesg-clean: passed, nothing found\nchecked: [1-9][0-9]* lines of Xen.s in xl dmesg, for \"Xen BUG at\"")] ==
    [true, true]' <<<"$up_json"
check "the checks' output says each step" jq -e '
  ([.tests[] | select(.name == "mig1-saverestore") | .output] | first |
    test("xl save: done") and test("xl restore: done") and test("ping 10.85.0.50: answered")) and
  ([.tests[] | select(.name == "mig1-stopstart") | .output] | first |
    test("xl shutdown -w: done") and test("xl create: done")) and
  ([.tests[] | select(.name == "mig1-localmigrate") | .output] | first |
    test("xl migrate to itself: done"))' <<<"$up_json"
check "the report's figures per action step (xl save, xl restore, ping...)" jq -e '
  ([.actions[] | select(.test == "mig1-saverestore") | .steps[] | "\(.step) \(.ok)/\(.n)"] ==
    ["xl save 1/1", "xl restore 1/1", "ping 1/1"]) and
  ([.actions[] | select(.test == "mig1-stopstart") | .steps[] | .step] ==
    ["xl shutdown -w", "xl create", "ping"])' <<<"$up_json"
json=$("$XLAB" report --last "$lab" --json)
check "3 rounds recorded, all ok" \
  jq -e '[.experiments[0].rounds[] | select(.ok)] | length == 3' <<<"$json"
check "rounds went h1->h2, h2->h1, h1->h2" \
  jq -e '[.experiments[0].rounds[] | "\(.from)>\(.to)"] == ["h1>h2","h2>h1","h1>h2"]' <<<"$json"
check "every downtime is > 0 and < the round's wall time" \
  jq -e 'all(.experiments[0].rounds[]; .downtime_ms > 0 and .downtime_ms < .wall_ms)' <<<"$json"
check "the guest answered after every round" \
  jq -e 'all(.experiments[0].rounds[]; .came_back)' <<<"$json"
check "the distribution is in the JSON report" \
  jq -e '.experiments[0].downtime_ms.p95 > 0 and .experiments[0].wall_ms.median > 0' <<<"$json"
check "pvh-pingpong: 2 rounds h1->h2, h2->h1, all ok, the guest answered after each" \
  jq -e '.experiments[1].name == "pvh-pingpong" and
         ([.experiments[1].rounds[] | select(.ok and .came_back) | "\(.from)>\(.to)"]
          == ["h1>h2","h2>h1"])' <<<"$json"
check "pvh1 is back on h1 and answers" bash -c '
  "$0" ssh mig h1 -- xl domid pvh1 >/dev/null && ping -c 1 -W 5 10.85.0.51 >/dev/null' "$XLAB"
check "no guest triple-faulted on either host (xl dmesg)" bash -c '
  for h in h1 h2; do "$0" ssh mig $h -- xl dmesg | grep -q "Triple fault" && exit 1; done; :' "$XLAB"
list=$("$XLAB" list "$lab")
echo "$list"
check "mig1 ends on h2 (odd number of rounds)" \
  bash -c '"$0" ssh mig h2 -- xl domid mig1 >/dev/null' "$XLAB"
check "mig1 is gone from h1" bash -c '! "$0" ssh mig h1 -- xl domid mig1 >/dev/null 2>&1' "$XLAB"
check "the controller still reaches mig1" ping -c 1 -W 5 10.85.0.50

run=$(jq -r .id <<<"$json")
text=$("$XLAB" report "$run")
echo "$text"
check "report prints min/median/p95/max" grep -Eq 'seconds +min +median +p95 +max' <<<"$text"
check "report prints the downtime row" grep -Eq '^ +downtime +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' <<<"$text"

t=$SECONDS
"$XLAB" down "$lab"
say "down in $((SECONDS - t)) s"
check "down removed the shared disk" test ! -e "$HOME_DIR/labs/$lab/shared.img"
check "down removed every domain of the lab" no_domains_of "$lab"
finish
