#!/usr/bin/env bash
# Live migration end to end: two nested Xen hosts sharing a disk, one guest
# on the shared VG, 3 rounds of xl migrate back and forth with a 20 ms ping
# probe; then the report and `down` checked for leftovers (the shared disk).
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/migrate.yaml
lab=mig

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

ensure_image xen-4.17
"$XLAB" down "$lab" >/dev/null 2>&1 || true

t=$SECONDS
if "$XLAB" up --experiments "$spec"; then ok "up --experiments (2 hosts, shared VG, 3 rounds) in $((SECONDS - t)) s"
else bad "up --experiments"; "$XLAB" report --last "$lab" || true; finish; exit 1; fi

check "the shared disk is in the lab's directory" test -f "$HOME_DIR/labs/$lab/shared.img"
check "mig1's LV is on the shared VG, seen from h2 too" \
  bash -c '"$0" ssh mig h2 -- lvs --noheadings -o lv_name shared | grep -qw mig1' "$XLAB"

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
