#!/usr/bin/env bash
# One lab across two servers (issue 23): tests/e2e/data/across.yaml puts h1
# here and h2 on box2 (scripts/server2.sh's libvirtd in its own
# namespaces). One lab network: the lab's bridge on each server, joined by a
# VXLAN device on each that sends to the other over the veth "LAN"; the
# gateway address on this machine's bridge only. Checked: where each part
# runs, the VXLAN devices and their peers, the MTU that leaves room for
# VXLAN's headers (a full-size frame between the dom0s gets through with
# "don't fragment"), the spec's pings across, later commands (status,
# console, stop/start rejoining the network), refusals. Before all that,
# box2 goes silent mid-up: h2 fails naming it, the next up goes on. Later box2 goes away:
# `down` removes what it reaches, names box2 and keeps the record; box2 back,
# `down` finishes and nothing of the lab is left on either server. The
# lab's shared disk is a file here served by qemu-nbd to both hosts: guest
# mig migrates live from h1 (here) to h2 (box2) and back. Then a class of
# two copies placed by `--servers local,box2`: one copy on each server,
# status, sheet and reset of the copy there, `class down` leaving nothing;
# and a matrix of two cells over the same two, one on each.
# A scratch store: box2, the lab and the class are no other store's.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/across.yaml

cleanup() {
  # Nothing of the suite's own store: only once the scratch one is made.
  [ -n "$s2_home" ] || return 0
  "$XLAB" down acr >/dev/null 2>&1 || true
  "$XLAB" class down spread >/dev/null 2>&1 || true
  for l in $("$XLAB" status --json 2>/dev/null | jq -r '.[].lab' 2>/dev/null); do
    "$XLAB" down "$l" >/dev/null 2>&1 || true
  done
  box2_end
}
trap cleanup EXIT
box2_begin across || { bad "server add box2"; finish; }

# Debian's Xen 4.20 has no PV log-dirty (no shadow paging): the spec's
# image is 4.20 built with it; without Xen sources there is none, and 4.17
# (Debian's, with shadow) moves the guest instead.
if ! "$XLAB" image inspect xen-4.20-shadow >/dev/null 2>&1; then
  say "no image xen-4.20-shadow (no Xen sources here): the lab runs xen-4.17"
  mkdir -p "$XLAB_HOME/specs"
  sed 's/^image: xen-4.20-shadow$/xen: "4.17"/' "$spec" >"$XLAB_HOME/specs/across.yaml"
  spec=$XLAB_HOME/specs/across.yaml
fi

plan=$("$XLAB" plan "$spec" 2>&1) || bad "plan: $plan"
check "plan places h1 here and h2 on box2, one VXLAN" bash -c '
  grep -q "^# across servers" <<<"$1" && grep -Eq "^## host h1: image .*, ip [0-9.]+$" <<<"$1" &&
  grep -q "^## host h2: .*, server box2$" <<<"$1" && grep -q "^## VXLAN xlvx-" <<<"$1"' _ "$plan"

# box2 goes silent in the middle of up (its cable pulled as h2's agent
# goes in: no reset, no refusal): h1 comes up, h2's step fails naming box2
# once the keepalives give it up, instead of waiting for ever. With the
# cable back, the next up goes on from there: h1 is neither booted nor
# made again.
net=xlab-$(head -c 8 "$XLAB_HOME/store-id").acr
log=$XLAB_HOME/up-cut.log
t=$SECONDS
"$XLAB" up "$spec" >"$log" 2>&1 &
up_pid=$!
for _ in $(seq 1 600); do
  grep -q "h2: agent.push" "$log" 2>/dev/null && break
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 0.2
done
bash "$s2" cable out || bad "pulling box2's cable"
say "box2 silent from $((SECONDS - t)) s into up"
cut=$SECONDS
for _ in $(seq 1 300); do kill -0 "$up_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$up_pid" 2>/dev/null; then
  bad "up still waits 300 s after box2 went silent"
  kill "$up_pid"
fi
wait "$up_pid" && bad "up went through with box2 silent"
say "up gave up $((SECONDS - cut)) s after box2 went silent"
tail -3 "$log"
check "up's error names box2 as not answering, for h2" grep -q "^h2: server 'box2' does not answer" "$log"
check "h1 and its guests came up all the same" bash -c "grep -q 'g1: up on h1' '$log' && grep -q 'mig: up on h1' '$log'"
h1_qemu=$(pgrep -f "guest=$net.h1," || true)
# A guest made again gets another domain id: what the next up must not do.
h1_domids() { "$XLAB" ssh acr h1 -- xl list 2>/dev/null | awk '$1 == "g1" || $1 == "mig" { print $1 "=" $2 }' | sort | tr '\n' ' '; }
h1_guests=$(h1_domids)
bash "$s2" cable in || bad "putting box2's cable back"
for _ in $(seq 1 60); do
  "$XLAB" server list --json 2>/dev/null | jq -e '.[] | select(.name == "box2") | .reachable' >/dev/null && break
  sleep 1
done
t=$SECONDS
out=$("$XLAB" up "$spec" 2>&1) && ok "up acr again goes on ($((SECONDS - t)) s)" || { bad "up acr again: $out"; finish; }
check "the next up did not boot h1 again (same QEMU, pid $h1_qemu)" test "$(pgrep -f "guest=$net.h1," || true)" = "$h1_qemu"
# By what xl says, not by which steps printed "done": a step prints that
# whenever it takes a second, which a loaded machine's checks can.
check "nor made h1's guests again ($h1_guests-> $(h1_domids)), and brought h2 and g2 up" bash -c '
  [ -n "$1" ] && [ "$1" = "$2" ] && grep -q "g2: up on h2" <<<"$3"' _ "$h1_guests" "$(h1_domids)" "$out"
br=$(sed -n 's/.*(bridge \(xlbr-[0-9a-f]*\),.*/\1/p' <<<"$plan" | head -1)
vx=${br/xlbr-/xlvx-}

# Where each part is.
check "h1 runs here, not on box2" bash -c "virsh -q list --name | grep -qx '$net.h1' &&
  ! bash '$s2' exec virsh -q list --all --name | grep -qx '$net.h1'"
check "h2 runs on box2, not here" bash -c "bash '$s2' exec virsh -q list --name | grep -qx '$net.h2' &&
  ! virsh -q list --all --name | grep -qx '$net.h2'"
check "h2's disks are volumes of box2's pool" bash -c "bash '$s2' exec virsh -q vol-list xlab | grep -q '$net.h2.root.qcow2'"
check "the lab network is on both servers" bash -c "virsh -q net-list --name | grep -qx '$net' &&
  bash '$s2' exec virsh -q net-list --name | grep -qx '$net'"
check "one gateway: an address on this machine's bridge, none on box2's" bash -c "
  ip -o addr show dev '$br' | grep -q ' 10.91.0.1/24' && ! bash '$s2' exec ip -o addr show dev '$br' | grep -q inet"
check "box2's VXLAN device is in its lab bridge and sends here (10.99.0.1)" bash -c "
  bash '$s2' exec ip -d link show dev '$vx' | grep -q 'master $br' &&
  bash '$s2' exec bridge fdb show dev '$vx' | grep -q '^00:00:00:00:00:00 dst 10.99.0.1 '"
check "this machine's VXLAN device sends to box2 (10.99.0.2), same VNI" bash -c "
  ip -d link show dev '$vx' | grep -q 'master $br' &&
  bridge fdb show dev '$vx' | grep -q '^00:00:00:00:00:00 dst 10.99.0.2 ' &&
  [ \"\$(ip -d link show dev '$vx' | grep -o 'vxlan id [0-9]*')\" = \"\$(bash '$s2' exec ip -d link show dev '$vx' | grep -o 'vxlan id [0-9]*')\" ]"
check "the lab subnet is not routed on box2" bash -c "! bash '$s2' exec ip route get 10.91.0.10 2>/dev/null | grep -q ' dev $br'"

# The lab network works across: the spec's tests (h1 pings h2, g2 on h2
# pings g1 on h1) passed in up; full-size frames fit the VXLAN.
up_run=$("$XLAB" runs acr --json | jq -r '[.[] | select(.command == "up")] | max_by(.id) | .id')
check "the spec's pings across servers passed (h1 to h2, g2 to g1)" \
  bash -c "'$XLAB' report $up_run --json | jq -e '[.tests[] | select(.passed)] | length == 2' >/dev/null"
mtu=$("$XLAB" ssh acr h2 -- cat /sys/class/net/eth0/mtu 2>&1)
check "h2's NIC has the lab network's MTU, 1450 ($mtu)" test "$mtu" = 1450
check "g2 (on h2) took the lab's MTU too, as its console says" \
  bash -c "'$XLAB' console acr g2 --log | grep -q 'XLAB-GUEST-MTU 1450'"
check "a full-size frame gets from h2 to h1 unfragmented" \
  "$XLAB" ssh acr h2 -- ping -c 1 -W 5 -M do -s 1422 h1
# Live migration between servers, over the shared disk's NBD export.
check "qemu-nbd serves the shared disk here, on this machine's LAN address" \
  bash -c "pgrep -ax qemu-nbd | grep -q -- '--bind=10.99.0.1 .*$XLAB_HOME/labs/acr/shared.img'"
check "h2 (on box2) sees the shared VG and mig's volume" bash -c "'$XLAB' ssh acr h2 -- lvs --noheadings -o lv_name shared | grep -qw mig"
t=$SECONDS
if "$XLAB" experiment acr between; then ok "mig migrated h1 -> h2 -> h1 across servers ($((SECONDS - t)) s)"
else bad "experiment between"; fi
exp_run=$("$XLAB" runs acr --json | jq -r '[.[] | select(.command == "experiment")] | max_by(.id) | .id')
exp_json=$("$XLAB" report "$exp_run" --json)
check "both rounds ok, across and back, a downtime measured for each" jq -e \
  '[.experiments[0].rounds[] | select(.ok and .downtime_ms > 0 and .came_back) |
    "\(.from)>\(.to)"] == ["h1>h2", "h2>h1"]' <<<"$exp_json"
check "mig runs on h1 again, answering" bash -c "'$XLAB' ssh acr h1 -- xl list mig >/dev/null &&
  '$XLAB' ssh acr h2 -- ping -c 1 -W 5 mig >/dev/null"
hn=$("$XLAB" ssh acr h2 -- hostname 2>&1)
check "xlab ssh reaches h2 over the VXLAN ($hn)" test "$hn" = h2
st=$("$XLAB" status acr 2>&1)
check "status: across local and box2, both hosts running" bash -c "
  grep -q 'across servers local, box2' <<<'$st' && grep -Eq 'h1 +up +running' <<<'$st' &&
  grep -Eq 'h2 +up +running' <<<'$st'"
check "status --json says each host's server" bash -c "
  '$XLAB' status acr --json | jq -e '.[0].hosts | map({(.name): .server}) | add == {h1: \"local\", h2: \"box2\"}' >/dev/null"
check "console --log of h2 reads box2's pool" bash -c "'$XLAB' console acr h2 --log | grep -q 'XLAB-DOM0-READY h2'"
out=$("$XLAB" server rm box2 2>&1) && bad "server rm went through with h2 on it"
check "server rm refuses while acr has a host on box2" grep -q "still has hosts of lab acr" <<<"$out"
out=$("$XLAB" class up "$spec" --copies 2 2>&1) && bad "class up of a spec across servers went on"
check "class up refuses a spec with servers in it (it places copies itself)" grep -q "a class places its copies itself" <<<"$out"

# stop, start: the network is joined again (a server that restarted lost
# its VXLAN device with its bridge: here box2's is removed by hand).
"$XLAB" stop acr >/dev/null || bad "stop acr"
on_box2 ip link del "$vx" || bad "removing box2's VXLAN device by hand"
t=$SECONDS
if "$XLAB" start acr >/dev/null; then ok "start acr ($((SECONDS - t)) s)"; else bad "start acr"; fi
check "start joined box2 again" bash -c "bash '$s2' exec ip -d link show dev '$vx' | grep -q 'master $br'"
check "h1 reaches h2 after start" "$XLAB" ssh acr h1 -- ping -c 1 -W 5 h2
check "mig is back on the shared disk after start" "$XLAB" ssh acr h1 -- xl list mig

# box2 goes away: down removes what is here, names box2, keeps the record.
bash "$s2" down >/dev/null
out=$("$XLAB" down acr 2>&1) && bad "down went through without box2"
echo "$out" | tail -4
check "down without box2 fails naming it" grep -q "^  server .box2.: " <<<"$out"
check "what was here is gone: h1, the network, the VXLAN device, qemu-nbd" bash -c "
  ! virsh -q list --all --name | grep -qx '$net.h1' && ! virsh -q net-list --all --name | grep -qx '$net' &&
  ! ip link show dev '$vx' >/dev/null 2>&1 && ! pgrep -ax qemu-nbd | grep -qF '$XLAB_HOME/' &&
  [ ! -e /run/xlab/$net.nbd.pid ]"
check "the lab's record is kept for the next down" test -e "$XLAB_HOME/labs/acr/placement"
t=$SECONDS
bash "$s2" up >/dev/null
say "box2 back in $((SECONDS - t)) s"
check "down acr finishes" "$XLAB" down acr
check "nothing of acr on box2: domain, network, VXLAN device, volumes" bash -c "
  ! bash '$s2' exec virsh -q list --all --name | grep -qF '$net.' &&
  ! bash '$s2' exec virsh -q net-list --all --name | grep -qxF '$net' &&
  ! bash '$s2' exec ip link show dev '$vx' >/dev/null 2>&1 &&
  ! bash '$s2' exec virsh -q vol-list xlab | grep -qF '$net.'"
check "no file of acr here" test ! -e "$XLAB_HOME/labs/acr"

# Placement: where `up --servers` would put a host that names no server.
plan=$("$XLAB" plan "$spec" --servers box2 2>&1) || bad "plan --servers: $plan"
check "plan --servers box2 places h1 there too (one server: no VXLAN)" bash -c '
  grep -q "^## host h1: .*, server box2$" <<<"$1" && ! grep -q "^## VXLAN" <<<"$1"' _ "$plan"
out=$("$XLAB" plan "$spec" --servers local,nosuch 2>&1) && bad "plan with an unknown server went on"
check "an unknown server in --servers is refused, naming it" grep -q "no server 'nosuch'" <<<"$out"

# A class spread over the two servers: one copy each (equal machines: the
# second copy goes where the first did not).
cspec=$SRC/tests/e2e/data/spread.yaml
t=$SECONDS
if "$XLAB" class up "$cspec" --servers local,box2; then ok "class up of 2 copies over local and box2 ($((SECONDS - t)) s)"
else bad "class up --servers"; "$XLAB" class status spread || true; fi
cj=$("$XLAB" class status spread --json)
check "one copy on each server, both up" jq -e \
  '[.copies[] | "\(.server) \(.state)"] | sort == ["box2 up", "local up"]' <<<"$cj"
there=$(jq -r '.copies[] | select(.server == "box2") | .copy' <<<"$cj")
here=$(jq -r '.copies[] | select(.server == "local") | .copy' <<<"$cj")
cnet=xlab-$(head -c 8 "$XLAB_HOME/store-id").$there
check "$there's host runs on box2, $here's here" bash -c "bash '$s2' exec virsh -q list --name | grep -qx '$cnet.h1' &&
  ! virsh -q list --all --name | grep -qx '$cnet.h1' && virsh -q list --name | grep -q '\.$here\.h1\$'"
sheet=$("$XLAB" class sheet spread --jump teacher@gw.example 2>&1)
check "the sheet sends $there's students through box2 (teacher@10.99.0.2), $here's through the jump" bash -c '
  grep -q -- "-J teacher@10.99.0.2 root@" <<<"$1" && grep -q -- "-J teacher@gw.example root@" <<<"$1"' _ "$sheet"
"$XLAB" ssh "$there" h1 -- touch /root/mark >/dev/null || bad "marking $there"
t=$SECONDS
if "$XLAB" class reset spread "${there##*-}"; then ok "class reset of the copy on box2 ($((SECONDS - t)) s)"
else bad "class reset spread ${there##*-}"; fi
check "the reset copy on box2 is back to its start (the mark is gone)" \
  bash -c "! '$XLAB' ssh '$there' h1 -- test -e /root/mark"
check "class down spread" "$XLAB" class down spread
check "nothing of the class on box2 or here" bash -c "
  ! bash '$s2' exec virsh -q list --all --name | grep -qF '.spread-0' &&
  ! bash '$s2' exec virsh -q vol-list xlab | grep -qF '.spread-0' &&
  ! virsh -q list --all --name | grep -qF '.spread-0'"

# A matrix spread over the two servers: two cells (two images), each whole
# on one server, started where the most room is: one here, one on box2.
img2=xen-4.20-shadow
"$XLAB" image inspect "$img2" >/dev/null 2>&1 || img2=xen-4.17
t=$SECONDS
mx=$("$XLAB" matrix "$cspec" --image "xen-4.20,$img2" --servers local,box2 --keep --json) ||
  bad "matrix --servers"
say "matrix of 2 cells over local and box2 in $((SECONDS - t)) s"
check "matrix --servers: both cells came up" jq -e '[.columns[].bringup.passed] == [true, true]' <<<"$mx"
mlabs=$(jq -r '.columns[].lab' <<<"$mx")
where=$(for l in $mlabs; do "$XLAB" status "$l" --json | jq -r '.[0].hosts[0].server'; done | sort | tr '\n' ' ')
check "one cell on each server ($where)" test "$where" = "box2 local "
for l in $mlabs; do "$XLAB" down "$l" >/dev/null || bad "down $l"; done
check "nothing of the cells on box2" bash -c "! bash '$s2' exec virsh -q list --all --name | grep -qF '.spread-'"
check "server rm box2 now" "$XLAB" server rm box2
finish
