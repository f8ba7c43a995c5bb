#!/usr/bin/env bash
# Working a running lab by hand, on one bring-up: a guest made from the
# command line, a disk hot-plugged into the VG and removed again, a volume
# grown while its guest runs, a guest adopted from an xl.cfg, a Debian guest
# answering SSH; a snapshot, the lab stopped and started again, the snapshot
# reverted to; then down leaves nothing. (An HVM guest is in tests/e2e/checks.sh.)
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/hands.yaml
lab=hands

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Another lab may be using the image: building it again is then refused.
"$XLAB" image list 2>/dev/null | grep -q '^xen-4\.17 ' || ensure_image xen-4.17
"$XLAB" down "$lab" >/dev/null 2>&1 || true

# The bring-up doubles as the boot watchdog's test: the host is paused early
# in its boot, as a dom0 kernel that stops under TCG looks (a silent
# console), and up must restart it once and come up all the same.
t=$SECONDS
up_log=$(mktemp)
XLAB_BOOT_STALL_S=20 "$XLAB" up "$spec" >"$up_log" 2>&1 & up_pid=$!
# Up to 5 min: a define can take a minute when libvirt probes QEMU again
# (seen in a full run: host.define 72 s, and the pause came too late).
for _ in $(seq 3000); do
  [ "$(virsh -q domstate "$(lv_name hands h1)" 2>/dev/null)" = running ] && break; sleep 0.1
done
sleep 3
virsh -q suspend "$(lv_name hands h1)" >/dev/null || say "note: could not pause h1"
up_rc=0; wait "$up_pid" || up_rc=$?
cat "$up_log"
if [ "$up_rc" -eq 0 ]; then ok "xlab up (one host, no spec guest) in $((SECONDS - t)) s"
else bad "xlab up"; rm -f "$up_log"; "$XLAB" report --last "$lab" || true; finish; exit 1; fi
check "a host whose console went silent while booting was restarted once" \
  grep -q 'h1: no console output for 20 s .*restarting it, once' "$up_log"
rm -f "$up_log"
# The image holds the agent of the xlab that built it: a host made from it
# starts that one when it is this build's, with no push; else it is pushed.
img_agent=$("$XLAB" image inspect xen-4.17 --json | python3 -c '
import json, sys; print(json.load(sys.stdin)["manifest"].get("agent", {}).get("sha256", ""))')
our_agent=$(sha256sum "$("$XLAB" version --paths | awk '$1 == "agent" { print $2 }')" | cut -d' ' -f1)
push=$("$XLAB" report --last "$lab" --json | python3 -c '
import json, sys
s = [s for s in json.load(sys.stdin)["steps"] if s["name"] == "agent.push"][0]
print(s["status"], s["message"] or "")')
if [ "$img_agent" = "$our_agent" ]; then
  check "h1 started the agent its image holds, this build's ($push)" \
    grep -q "^skipped the agent its image holds is ours" <<<"$push"
else
  check "h1 was pushed this build's agent, its image holding another ($push)" grep -q "^ok" <<<"$push"
fi
info=$("$XLAB" ssh "$lab" h1 -- xl info 2>&1)
cmdline=$(sed -n 's/^xen_commandline *: //p' <<<"$info")
# Under TCG dom0 gets one of the host's two vCPUs (KVM: no option, all).
check "Xen booted with xlab's options, bootscrub=0, then the spec's xen_args ($cmdline)" \
  grep -Eq "console=com1 com1=115200,8n1 bootscrub=0( dom0_max_vcpus=1)? loglvl=all guest_loglvl=all$" <<<"$cmdline"
if grep -q dom0_max_vcpus=1 <<<"$cmdline"; then
  dom0_vcpus=$("$XLAB" ssh "$lab" h1 -- xl list 0 2>&1 | awk '$1 == "Domain-0" { print $4 }')
  check "dom0 runs on one vCPU ($dom0_vcpus), Xen on the host's two ($(sed -n 's/^nr_cpus *: //p' <<<"$info"))" \
    bash -c '[ "$0" = 1 ] && grep -Eq "^nr_cpus +: 2$" <<<"$1"' "$dom0_vcpus" "$info"
fi
# xlab's lean kernel (images/lean-kernel.config): no modules in the dom0.
release=$("$XLAB" ssh "$lab" h1 -- cat /proc/sys/kernel/osrelease 2>&1 | tr -d '\r')
check "the dom0 runs xlab's lean kernel ($release), built without modules" bash -c '
  [[ $1 == *-xlab ]] &&
  "$0" ssh hands h1 -- sh -c "test -e /proc/modules || echo no-modules" | grep -q no-modules' \
  "$XLAB" "$release"
# Its image's kernel needs no initrd, so QEMU loaded Xen and it directly:
# no cdrom, no grub; the kernel mounted its root itself.
check "h1 booted directly: Xen and the kernel from its directory, no boot ISO" bash -c '
  xml=$(virsh dumpxml "$0") && grep -q "<kernel>.*/hosts/h1/xen</kernel>" <<<"$xml" &&
  ! grep -q "device=.cdrom." <<<"$xml"' "$(lv_name hands h1)"
# Xen would unpack a bzImage itself, 0.4 s of an emulated host's boot.
check "h1's dom0 kernel is the ELF unpacked from the image's bzImage" bash -c '
  k=$(virsh dumpxml "$0" | sed -n "s|.*<initrd>\(.*/hosts/h1/vmlinux\)</initrd>.*|\1|p") &&
  [ -n "$k" ] && [ "$(head -c 4 "$k" | od -An -c | tr -d " ")" = "177ELF" ]' "$(lv_name hands h1)"
check "the dom0 kernel mounted its root itself, no initrd (/dev/root, rootwait)" bash -c '
  "$0" ssh hands h1 -- cat /proc/cmdline | grep -q "root=/dev/vda ro .*rootwait" &&
  "$0" ssh hands h1 -- grep -q "^/dev/root / ext4 rw" /proc/mounts' "$XLAB"
# 16 MiB of bounce buffer, not 64: traded with Xen 2 MiB at a time at boot.
check "the dom0's swiotlb is 16 MiB (swiotlb=8192)" bash -c '
  "$0" ssh hands h1 -- dmesg | grep -q "software IO TLB: mapped .*(16MB)"' "$XLAB"

vg_size() { "$XLAB" storage "$lab" h1 --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
print([v for v in d["vgs"] if v["vg_name"]=="xlab"][0]["vg_size"])'; }
lv_size() { "$XLAB" storage "$lab" h1 --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
print([v for v in d["lvs"] if v["lv_name"]==sys.argv[1]][0]["lv_size"])' "$1"; }

# Bad arguments are refused before anything happens, naming the argument.
rc=0; out=$("$XLAB" guest create "$lab" web --host h1 memory=12X 2>&1) || rc=$?
check "a bad KEY=VALUE exits 2" test "$rc" -eq 2
check "and names the argument" grep -q "argument 'memory=12X'" <<<"$out"
out=$("$XLAB" guest create "$lab" web --host h1 memory=96M swap=32M xl.on_crash=preserve --dry-run)
echo "$out"
check "--dry-run prints the xl config with the lab address" \
  grep -q 'extra = "console=hvc0 xlab.name=web xlab.ip=10.84.0.50/24' <<<"$out"
check "--dry-run prints the LVM steps" grep -q 'lvcreate -n web -L' <<<"$out"
check "--dry-run makes nothing" bash -c '! "$0" guest list hands | grep -q "^web "' "$XLAB"

# A guest from the command line, recorded as made by hand.
t=$SECONDS
if "$XLAB" guest create "$lab" web --host h1 memory=96M swap=32M xl.on_crash=preserve; then
  ok "guest create (with swap) boots in $((SECONDS - t)) s"
else bad "guest create"; fi
check "its console shows its marker" \
  bash -c '"$0" guest console hands web | grep -q "XLAB-GUEST-UP web"' "$XLAB"
check "it booted the lean kernel too" \
  bash -c '"$0" guest console hands web | grep -q "Linux version [^ ]*-xlab "' "$XLAB"
list=$("$XLAB" list "$lab"); echo "$list"
check "xlab list shows it on h1" grep -Eq '^web +[0-9]+ +96 +1 ' <<<"$list"
check "guest list says made by hand" \
  bash -c '"$0" guest list hands | grep -Eq "^web +h1 +10\.84\.0\.50 +up +hand"' "$XLAB"
# (xlab ssh runs the command on a pty: lines end in \r\n.)
check "its swap LV is made swap" \
  bash -c '"$0" ssh hands h1 -- blkid -o value -s TYPE /dev/xlab/web-swap | grep -q "^swap"' "$XLAB"
# Its root is the image's busybox.ext4, copied onto the LV and grown to it
# (256M of 4 KiB blocks), not a tree unpacked and mkfs'd in the dom0.
check "its root filesystem is the image's, grown to the whole LV" bash -c '
  out=$("$0" ssh hands h1 -- dumpe2fs -h /dev/xlab/web 2>/dev/null | tr -d "\r") &&
  grep -q "^Filesystem volume name: *xlab-busybox$" <<<"$out" &&
  grep -q "^Block count: *65536$" <<<"$out"' "$XLAB"
check "the guest turned its swap on" \
  bash -c '"$0" guest console hands web | grep -q "XLAB-SWAP-ON /dev/xvdb"' "$XLAB"
check "a second up leaves it alone" bash -c '"$0" up "$1" && "$0" list hands | grep -q "^web "' \
  "$XLAB" "$spec"

# Storage: add a disk, grow a volume while the guest runs, remove the disk.
before=$(vg_size)
serial=$("$XLAB" storage "$lab" h1 add-disk 1G | tail -1)
after=$(vg_size)
say "VG xlab: $before -> $after bytes; new disk $serial"
check "add-disk grows the VG by about 1G" test $((after - before)) -gt $((900 << 20))
lv0=$(lv_size web)
out=$("$XLAB" storage "$lab" h1 resize web 512M 2>&1) || true; echo "$out"
lv1=$(lv_size web)
check "resize grows web's LV ($lv0 -> $lv1) while it runs" test "$lv1" -eq $((512 << 20))
check "the guest is still running" bash -c '"$0" list hands | grep -q "^web "' "$XLAB"
check "resize says what the guest sees" grep -q "xvda is now 512M" <<<"$out"
check "remove-disk $serial" "$XLAB" storage "$lab" h1 remove-disk "$serial"
check "the VG is back to its size" test "$(vg_size)" -eq "$before"
check "the disk is gone from the host's definition" \
  bash -c '! virsh dumpxml "$1" | grep -q "$0"' "$serial" "$(lv_name hands h1)"

# guest rm, then down.
check "guest rm" "$XLAB" guest rm "$lab" web
check "the guest is gone from xl list" bash -c '! "$0" list hands | grep -q "^web "' "$XLAB"
check "its LVs are gone" bash -c '! "$0" ssh hands h1 -- lvs --noheadings -o lv_name xlab | grep -q web' "$XLAB"

# A second guest by hand, adopted from an xl.cfg (--from-xl), then removed.
xlcfg=$(mktemp)
cat >"$xlcfg" <<'CFG'
name = "fromxl"
memory = 96
disk = [ 'phy:/dev/xlab/fromxl,xvda,w' ]
vif = [ 'bridge=xenbr0' ]
on_crash = "preserve"
CFG
t=$SECONDS
if "$XLAB" guest create "$lab" fromxl --host h1 --from-xl "$xlcfg"; then
  ok "guest create --from-xl boots in $((SECONDS - t)) s"
else bad "guest create --from-xl"; fi
rm -f "$xlcfg"
check "its console shows its marker" \
  bash -c '"$0" guest console hands fromxl | grep -q "XLAB-GUEST-UP fromxl"' "$XLAB"
check "guest rm fromxl" "$XLAB" guest rm "$lab" fromxl
check "its LV is gone" bash -c '! "$0" ssh hands h1 -- lvs --noheadings -o lv_name xlab | grep -q fromxl' "$XLAB"
# A Debian guest: a real root filesystem whose sshd has a host key xlab
# pinned, reached with `xlab ssh` from the controller; its swap is on.
t=$SECONDS
if "$XLAB" guest create "$lab" deb --host h1 rootfs=debian memory=256M disk=512M swap=32M; then
  ok "guest create rootfs=debian boots in $((SECONDS - t)) s"
else bad "guest create rootfs=debian"; fi
check "its console says sshd is up" \
  bash -c '"$0" guest console hands deb | grep -q "XLAB-SSHD-UP deb"' "$XLAB"
out=$("$XLAB" ssh "$lab" deb -- cat /etc/os-release /etc/hostname /proc/swaps 2>&1 | tr -d '\r') || true
echo "$out"
check "xlab ssh answers from the guest: Debian bookworm" grep -q '^VERSION_CODENAME=bookworm' <<<"$out"
check "its hostname is its name" grep -qx deb <<<"$out"
check "its swap is in /proc/swaps" grep -q '^/dev/xvdb ' <<<"$out"
check "its fstab (written into its unpacked tree) names the swap" bash -c '"$0" ssh hands h1 -- \
  debugfs -R "cat /etc/fstab" /dev/xlab/deb 2>/dev/null | grep -q "^/dev/xvdb none swap sw"' "$XLAB"
rc=0; out=$("$XLAB" guest create "$lab" tx --host h1 rootfs=debian-trixie 2>&1) || rc=$?
check "rootfs=debian-trixie on a bookworm image is refused" test "$rc" -ne 0
check "naming what the image carries" grep -q "carries debian-bookworm only" <<<"$out"
check "guest rm deb" "$XLAB" guest rm "$lab" deb
check "its pinned host key goes with it" test ! -e "$HOME_DIR/labs/hands/guests/deb"
# A guest with a framebuffer: its screen, reached through `xlab vnc` (an SSH
# tunnel to the dom0's loopback, nothing opened on the lab network) and
# captured by a real VNC client, shows the guest's name.
t=$SECONDS
if "$XLAB" guest create "$lab" fb --host h1 vnc=true; then
  ok "guest create vnc=true boots in $((SECONDS - t)) s"
else bad "guest create vnc=true"; fi
check "its xl config has the framebuffer on the dom0's loopback" bash -c '"$0" ssh hands h1 -- \
  cat /etc/xen/xlab/fb.cfg | grep -q "vfb = \[ \"vnc=1,vnclisten=127.0.0.1"' "$XLAB"
vnc_out=$(mktemp); jpg=$(mktemp --suffix=.jpg)
"$XLAB" vnc "$lab" fb --port 5987 --once >"$vnc_out" 2>&1 & vnc_pid=$!
for _ in $(seq 50); do grep -q '^127.0.0.1:5987' "$vnc_out" && break; sleep 0.2; done
cat "$vnc_out"
check "xlab vnc listens on 127.0.0.1:5987" grep -q '^127.0.0.1:5987 ' "$vnc_out"
check "vncsnapshot captures fb's screen through the tunnel" \
  timeout 300 vncsnapshot -quiet -allowblank 127.0.0.1:87 "$jpg"
lit=$(djpeg -pnm "$jpg" 2>/dev/null | python3 -c '
import sys
d = sys.stdin.buffer.read()
# P6 header: magic, width height, maxval, each ending in whitespace.
parts = d.split(maxsplit=4)
print(sum(1 for b in parts[4] if b > 100) if len(parts) == 5 else 0)')
say "the snapshot has $lit lit bytes"
check "the screen is not blank" test "${lit:-0}" -gt 300
# --once: the tunnel ends with vncsnapshot's connection, and says so by its status.
for _ in $(seq 50); do kill -0 "$vnc_pid" 2>/dev/null || break; sleep 0.2; done
kill "$vnc_pid" 2>/dev/null || true
vnc_rc=0; wait "$vnc_pid" || vnc_rc=$?
check "xlab vnc --once ended cleanly with that connection (status $vnc_rc)" test "$vnc_rc" -eq 0
rm -f "$vnc_out" "$jpg"
check "guest rm fb" "$XLAB" guest rm "$lab" fb
"$XLAB" guest create "$lab" left --host h1 >/dev/null || bad "guest create left"

# Parked and brought back (issue 16): stop shuts the guest and the host down
# and keeps their disks; start brings the hand-made guest back from its kept
# volume. mkfs gives every new filesystem a new UUID: the same UUID after
# start is the same filesystem. A file in the dom0's root proves its disk.
fs_uuid() { "$XLAB" ssh "$lab" h1 -- blkid -p -o export /dev/xlab/left | grep '^UUID='; }
uuid_before=$(fs_uuid) || bad "reading left's filesystem UUID"
say "left's filesystem: $uuid_before"
# A snapshot taken before the stop survives stop and start (checked after).
check "snapshot before the stop" "$XLAB" snapshot "$lab" before-stop
"$XLAB" ssh "$lab" h1 -- sh -c 'echo parked >/root/xlab-stop-marker' || bad "marker in h1"
t=$SECONDS
stop_rc=0; stop_out=$("$XLAB" stop "$lab" 2>&1) || stop_rc=$?
printf '%s\n' "$stop_out"
check "xlab stop" test "$stop_rc" -eq 0
say "stop took $((SECONDS - t)) s"
check "stop says the lab is stopped" grep -q "lab 'hands' is stopped" <<<"$stop_out"
check "status says the lab is stopped" bash -c '"$0" status hands | grep -q "^lab hands: stopped"' "$XLAB"
check "the host's domain is shut off, still defined" \
  bash -c '[ "$(virsh -q domstate "$0")" = "shut off" ]' "$(lv_name hands h1)"
check "its disks are kept" test -s "$HOME_DIR/labs/hands/hosts/h1/data.qcow2"
check "the host powered itself off (not destroyed)" \
  bash -c '! grep -q "did not power off" <<<"$0"' "$stop_out"
# The guests' init answers the kernel's poweroff request (images/guest-init.sh):
# none may need the sysrq sync and destroy.
check "every guest honoured xl shutdown" \
  bash -c '! grep -q "ignored the shutdown request" <<<"$0"' "$stop_out"
rc=0; out=$("$XLAB" up "$spec" 2>&1) || rc=$?
check "up of a stopped lab is refused, naming start" grep -q "xlab start hands" <<<"$out"
t=$SECONDS
check "xlab start" "$XLAB" start "$lab"
say "start took $((SECONDS - t)) s"
check "status says the lab is up" bash -c '"$0" status hands | grep -q "^lab hands: up"' "$XLAB"
check "the hand-made guest runs again" bash -c '"$0" list hands | grep -q "^left "' "$XLAB"
check "guest list says it is up" bash -c '"$0" guest list hands | grep -Eq "^left +h1 .* up +hand"' "$XLAB"
uuid_after=$(fs_uuid) || true
check "its filesystem is the one it had ($uuid_after)" test -n "$uuid_before" -a "$uuid_before" = "$uuid_after"
check "ssh to the host works, its root disk kept" \
  bash -c '[ "$("$0" ssh hands h1 -- cat /root/xlab-stop-marker)" = parked ]' "$XLAB"
check "the snapshot survived stop and start" bash -c '"$0" snapshot list hands | grep -q "^before-stop "' "$XLAB"
t=$SECONDS
check "revert to it after start" "$XLAB" revert "$lab" before-stop
say "revert took $((SECONDS - t)) s"
check "the marker written after the snapshot is gone" \
  bash -c '! "$0" ssh hands h1 -- test -e /root/xlab-stop-marker' "$XLAB"
check "the hand-made guest runs, as it did then" bash -c '"$0" ssh hands h1 -- xl list left >/dev/null' "$XLAB"
check "xlab down" "$XLAB" down "$lab"
check "down forgets the lab's snapshots" \
  bash -c '"$0" snapshot list hands --json | python3 -c "import json,sys; assert json.load(sys.stdin) == []"' "$XLAB"
check "down forgets hand-made guests" bash -c '! "$0" guest list hands | grep -q "^left "' "$XLAB"
check "no libvirt domain of the lab is left" no_domains_of hands
check "no file of the lab is left" test ! -e "$HOME_DIR/labs/hands"
trap - EXIT
finish
