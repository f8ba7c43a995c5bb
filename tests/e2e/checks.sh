#!/usr/bin/env bash
# osstest's guest checks on every guest type, on real nested Xen 4.17 under
# TCG: a PV, a PVH and an HVM guest on one host, each saved and restored,
# migrated to its own host, stopped and started, twice (about 4 minutes with
# the lean kernel; it was the by-hand e2e-long suite while Debian's kernel
# made HVM take minutes per round).
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/checks.yaml
lab=chk

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

ensure_image xen-4.17
"$XLAB" down "$lab" >/dev/null 2>&1 || true

t=$SECONDS
rc=0
"$XLAB" up "$spec" || rc=$?
say "up with 9 guest checks and 2 host checks: exit $rc in $((SECONDS - t)) s"
json=$("$XLAB" report --last "$lab" --json)
"$XLAB" report --last "$lab" | sed -n '/^tests/,$p'
for g in pv1 pvh1 hvm1; do
  for a in saverestore localmigrate stopstart; do
    check "$g-$a: passed, 2 rounds each step ok" jq -e --arg n "$g-$a" '
      ([.tests[] | select(.name == $n and .kind == "action" and .passed)] | length == 1) and
      ([.actions[] | select(.test == $n) | .steps | length >= 2 and all(.[]; .n == 2 and .ok == 2)]
        == [true])' \
      <<<"$json"
  done
done
check "after every check: nothing leaked, and xl dmesg is clean" jq -e '
  [.tests[] | select(.name == "h1-leaks" or .name == "h1-dmesg") | .passed] == [true, true]' <<<"$json"
check "Xen runs each guest as its type" bash -c '
  for g in pv1:pv pvh1:pvh hvm1:hvm; do
    [ "$("$0" ssh chk h1 -- xl list -l "${g%%:*}" | jq -r ".[0].config.c_info.type")" = "${g#*:}" ] || exit 1
  done' "$XLAB"
# The HVM guest (once in hands.sh; here so .ci/run stays short): its device
# model in the dom0 boots the guest kernel directly, on shadow paging.
check "hvm1 runs with its device model, its kept config asks for shadow paging" bash -c '
  "$0" ssh chk h1 -- pgrep -f "qemu-system-i386 -xen-domid" >/dev/null &&
  "$0" ssh chk h1 -- grep -qx "hap = 0" /etc/xen/xlab/hvm1.cfg' "$XLAB"
check "hvm1 answers ping from the dom0" \
  bash -c '"$0" ssh chk h1 -- ping -c 1 -W 10 10.87.0.52 >/dev/null' "$XLAB"
check "hvm1's console (xl console -t pv) shows its marker" \
  bash -c '"$0" console --log chk hvm1 | grep -q "XLAB-GUEST-UP hvm1"' "$XLAB"
check "the up run passed" test "$rc" -eq 0

t=$SECONDS
"$XLAB" down "$lab" >/dev/null
gone() { no_domains_of "$1" && no_network_of "$1"; }
check "down in $((SECONDS - t)) s leaves no domain or network" gone "$lab"
finish
