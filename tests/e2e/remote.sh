#!/usr/bin/env bash
# A whole lab on another server (issue 23): tests/e2e/data/remote.yaml says
# `server: box2`, scripts/server2.sh's libvirtd in its own namespaces. Its
# image is pushed there, two hosts boot from volumes of box2's pool on a lab
# network that exists on box2 only, the agent, a guest and the spec's tests
# reach them through box2's sshd (the controller has no route to the lab
# subnet), later commands (ssh, cp, console, vnc, status, guest create,
# stop/start) do the same; with box2 gone `down` fails naming it and keeps
# the record, and once box2 is back `down` leaves nothing of the lab on
# either machine. A scratch store: box2 and the lab are no other store's.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/remote.yaml

cleanup() {
  # Nothing of the suite's own store: only once the scratch one is made.
  [ -n "$s2_home" ] || return 0
  "$XLAB" down rmt >/dev/null 2>&1 || true
  box2_end
}
trap cleanup EXIT
box2_begin remote || { bad "server add box2"; finish; }
out=$("$XLAB" plan "$spec" 2>&1) || bad "plan: $out"
check "plan says the lab is on box2, its disks volumes there" bash -c \
  "grep -q '^# on server box2' <<<\"\$0\" && grep -q '/var/lib/libvirt/xlab/xlab-.*\.rmt\.h1\.root\.qcow2' <<<\"\$0\"" "$out"
out=$("$XLAB" up "$spec" --server nosuch 2>&1) && bad "up on an unknown server went on"
check "an unknown server is refused, naming it" grep -q "no server 'nosuch' in the store" <<<"$out"

t=$SECONDS
if "$XLAB" up "$spec"; then ok "up rmt on box2 ($((SECONDS - t)) s)"; else bad "up rmt on box2"; finish; fi
net=xlab-$(head -c 8 "$XLAB_HOME/store-id").rmt

# Where it runs: box2's libvirt has the domains and the network, this
# machine's none; the disks are volumes of box2's pool.
doms=$(on_box2 virsh -q list --name)
check "both hosts run on box2" bash -c "grep -qx '$net.h1' <<<'$doms' && grep -qx '$net.h2' <<<'$doms'"
check "the lab network is on box2" bash -c "on=\$(bash '$s2' exec virsh -q net-list --name); grep -qx '$net' <<<\"\$on\""
check "and not on this machine" bash -c "! virsh -q list --all --name | grep -qF '$net.'"
vols=$(on_box2 virsh -q vol-list xlab | awk '{print $1}')
check "the root disk is a volume over the pushed image" \
  bash -c "bash '$s2' exec qemu-img info -U /var/lib/libvirt/xlab/$net.h1.root.qcow2 | grep -q 'backing file: /var/lib/libvirt/xlab/sha256-'"
check "config disk and the boot files (Xen, the dom0 kernel) were uploaded" bash -c \
  "grep -qx '$net.h2.config.img' <<<'$vols' && grep -qx '$net.h2.xen' <<<'$vols' && grep -qx '$net.h2.vmlinuz' <<<'$vols'"
check "and no boot ISO: QEMU loads them directly" bash -c "! grep -q 'boot.iso' <<<'$vols'"
check "the domain boots Xen from box2's pool" bash -c \
  "bash '$s2' exec virsh dumpxml $net.h2 | grep -q '<kernel>/var/lib/libvirt/xlab/$net.h2.xen</kernel>'"

# Reached through box2 only: no route here to the lab subnet, yet ssh works.
check "the lab subnet is not routed here" bash -c "! ping -c 1 -W 1 10.89.0.10 >/dev/null 2>&1"
hn=$("$XLAB" ssh rmt h1 -- hostname 2>&1)
check "xlab ssh reaches h1 through box2 ($hn)" test "$hn" = h1
check "xlab cp copies from h2 through box2" bash -c "'$XLAB' cp rmt h2:/etc/hostname '$XLAB_HOME/h2name' && grep -qx h2 '$XLAB_HOME/h2name'"
log=$("$XLAB" console rmt h1 --log 2>&1)
check "console --log reads h1's console from box2's pool" grep -q "XLAB-DOM0-READY h1" <<<"$log"
vnc_out=$(mktemp)
"$XLAB" vnc rmt h2 --port 5986 --once >"$vnc_out" 2>&1 & vnc_pid=$!
for _ in $(seq 50); do grep -q '^127.0.0.1:5986' "$vnc_out" && break; sleep 0.2; done
banner=$(timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5986; head -c 12 <&3' 2>&1 | tr -d '\n')
wait "$vnc_pid" 2>/dev/null || true
cat "$vnc_out"
check "vnc tunnels to h2's display on box2's loopback ($banner)" grep -q "^RFB 00" <<<"$banner"
rm -f "$vnc_out"
st=$("$XLAB" status rmt 2>&1)
check "status asks box2: both hosts running" bash -c "grep -Eq 'h1 +up +running' <<<'$st' && grep -Eq 'h2 +up +running' <<<'$st'"
check "a guest made by hand on a host there" "$XLAB" guest create rmt g2 --host h2
out=$("$XLAB" up "$spec" --server local 2>&1) && bad "up moved a running lab to local"
check "a running lab is not moved to another server" grep -q "runs on server 'box2', not 'local'" <<<"$out"
out=$("$XLAB" server rm box2 2>&1) && bad "server rm went through with a lab on it"
check "server rm refuses while rmt runs there" grep -q "still has hosts of lab rmt" <<<"$out"

t=$SECONDS
if "$XLAB" stop rmt && "$XLAB" start rmt; then
  ok "stop and start on box2 ($((SECONDS - t)) s)"
else
  bad "stop and start on box2"
fi
check "g2 is back after start" bash -c "'$XLAB' ssh rmt h2 -- xl list g2 >/dev/null"

# The server goes away (its daemons and the hosts' QEMUs end): down says
# which server it could not reach and keeps the lab's record; once the
# server is back, down finishes.
bash "$s2" down >/dev/null
out=$("$XLAB" down rmt 2>&1) && bad "down went through without its server"
check "down without box2 names it and fails" grep -q "server 'box2'" <<<"$out"
check "and keeps the lab's record for the next down" test -e "$XLAB_HOME/labs/rmt/server"
t=$SECONDS
bash "$s2" up >/dev/null
say "server2 back in $((SECONDS - t)) s"
check "down rmt" "$XLAB" down rmt
check "no domain of rmt on box2" bash -c "! bash '$s2' exec virsh -q list --all --name | grep -qF '$net.'"
check "no network of rmt on box2" bash -c "! bash '$s2' exec virsh -q net-list --all --name | grep -qxF '$net'"
check "no volume or log of rmt on box2" bash -c "! bash '$s2' exec virsh -q vol-list xlab | grep -qF '$net.'"
check "no file of rmt here" test ! -e "$XLAB_HOME/labs/rmt"
check "server rm box2 now" "$XLAB" server rm box2
finish
