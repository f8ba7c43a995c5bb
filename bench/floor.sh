#!/usr/bin/env bash
# The floor: the same image, the same libvirt XML and the same PV guest as
# xlab, brought up by hand with virsh, qemu-img, tar, zcat (or grub-mkrescue) and ssh
# (no xlab). Prints "ssh_s=N guest_s=N" (seconds from start).
#   bench/floor.sh XLAB IMAGE_DIR WORKDIR [XEN]   (run inside the lab's netns;
#                                                 XEN: the image's, default 4.17)
set -euo pipefail
XLAB=$1 IMG=$2 W=$3 XEN=${4:-4.17}
rm -rf "$W"; mkdir -p "$W"
spec=$W/floor.yaml
cat >"$spec" <<YAML
lab: floor
xen: "$XEN"
network: {subnet: 10.86.0.0/24}
hosts:
  - {name: f1, memory: 1536M, dom0_mem: 768M, data_disk: 2G, vcpus: 1}
guests:
  - {name: fg1, host: f1}
YAML
# The plan gives the exact XML and configs xlab would use, with paths in $W.
XLAB_HOME=$W/home "$XLAB" plan --accel qemu "$spec" >"$W/plan.txt"
d=$W/home/labs/floor/hosts/f1
mkdir -p "$d" "$W/cfg"
sed -n '/^## network /,/^<\/network>/p' "$W/plan.txt" | sed 1d >"$W/net.xml"
sed -n '/^### libvirt domain/,/^<\/domain>/p' "$W/plan.txt" | sed 1d >"$W/dom.xml"
# libvirt names carry the store's id (xlab-ID.floor, xlab-ID.floor.f1).
net=$(sed -n 's|^ *<name>\(.*\)</name>|\1|p' "$W/net.xml" | head -n 1)
dom=$(sed -n 's|^ *<name>\(.*\)</name>|\1|p' "$W/dom.xml" | head -n 1)
sed -n '/^### grub.cfg/,/^}/p' "$W/plan.txt" | sed 1d >"$W/grub.cfg"
sed -n '/^### \/etc\/xen\/xlab\/fg1.cfg/,$p' "$W/plan.txt" | sed 1d >"$W/fg1.cfg"

cleanup() {
  virsh -q destroy "$dom" >/dev/null 2>&1 || true
  virsh -q net-destroy "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
t0=$(date +%s.%N)
ssh-keygen -q -t ed25519 -N '' -f "$W/id" -C floor
ssh-keygen -q -t ed25519 -N '' -f "$W/cfg/ssh_host_ed25519_key" -C f1
cp "$W/id.pub" "$W/cfg/authorized_keys"
echo f1 >"$W/cfg/hostname"
printf 'ADDRESS=10.86.0.10/24\nGATEWAY=10.86.0.1\nLAB=floor\n' >"$W/cfg/network"
printf '10.86.0.10 f1\n10.86.0.50 fg1\n' >"$W/cfg/hosts"
echo "f1,10.86.0.10 $(cut -d' ' -f1,2 "$W/cfg/ssh_host_ed25519_key.pub")" >"$W/known_hosts"
tar -C "$W/cfg" -cf "$d/config.img" .
qemu-img create -q -f qcow2 -b "$IMG/root.qcow2" -F qcow2 "$d/root.qcow2"
qemu-img create -q -f qcow2 "$d/data.qcow2" 2G
# The boot files the plan's XML names: Xen and the kernel QEMU loads
# directly (an image of xlab's lean kernel), or grub's ISO.
if grep -q '<kernel>' "$W/dom.xml"; then
  zcat "$IMG/boot/xen.gz" >"$d/xen"
  "$(dirname "$0")/unpack-kernel.py" "$IMG/boot/vmlinuz" "$d/vmlinux"
else
  mkdir -p "$W/iso/boot/grub"
  ln "$IMG"/boot/* "$W/iso/boot/" 2>/dev/null || cp "$IMG"/boot/* "$W/iso/boot/"
  cp "$W/grub.cfg" "$W/iso/boot/grub/grub.cfg"
  grub-mkrescue -o "$d/boot.iso" "$W/iso" 2>/dev/null
fi
virsh -q net-create "$W/net.xml" >/dev/null
virsh -q create "$W/dom.xml" >/dev/null
ssh_=(ssh -i "$W/id" -o UserKnownHostsFile="$W/known_hosts" -o StrictHostKeyChecking=yes
  -o BatchMode=yes root@10.86.0.10)
# Probe with a short timeout, as xlab does; the commands after it get a long
# one (ConnectTimeout covers the banner, which a busy TCG dom0 sends late).
until "${ssh_[@]}" -o ConnectTimeout=3 true 2>/dev/null; do sleep 0.5; done
ssh_+=(-o ConnectTimeout=60)
t_ssh=$(date +%s.%N)
# The guest, as the seed does it by hand: PV, VG, LV, filesystem, xl create,
# with the two hotplug scripts the config names (xlab's recipe since Dec 2026).
"${ssh_[@]}" 'mkdir -p /etc/xen/xlab && cat >/etc/xen/xlab/fg1.cfg' <"$W/fg1.cfg"
src=$(cd "$(dirname "$0")/.." && pwd)
tar -C "$src/bench/hotplug" -cf - block vif |
  "${ssh_[@]}" 'mkdir -p /var/lib/xlab/hotplug && tar -C /var/lib/xlab/hotplug -xf - &&
    chmod 755 /var/lib/xlab/hotplug/block /var/lib/xlab/hotplug/vif'
"${ssh_[@]}" "set -e; export DM_DISABLE_UDEV=1
  for b in /sys/block/vd*; do [ \"\$(cat \$b/serial 2>/dev/null)\" = xlab-data ] && dev=/dev/\${b##*/}; done
  pvcreate -q \$dev; vgcreate -q xlab \$dev; lvcreate -q -y -n fg1 -L 256m xlab
  mkdir -p /tmp/fg1 && tar -C /tmp/fg1 -xf /var/lib/xlab/guest/busybox.tar
  mkdir -p /tmp/fg1/etc && echo '/dev/xvda / ext4 defaults 0 1' >/tmp/fg1/etc/fstab
  mkfs.ext4 -q -F -d /tmp/fg1 /dev/xlab/fg1
  xl create -q -p /etc/xen/xlab/fg1.cfg"
# xl console shows only what comes after it attached: unpause once its
# xenconsole runs, then wait for the marker in what it copied.
timeout 300 "${ssh_[@]}" -tt xl console fg1 >"$W/console.log" 2>&1 </dev/null &
con=$!
"${ssh_[@]}" 'until pidof xenconsole >/dev/null; do sleep 0.1; done; xl unpause fg1'
until grep -q -a "XLAB-GUEST-UP fg1" "$W/console.log"; do
  if ! kill -0 "$con" 2>/dev/null; then
    echo "floor: no marker from fg1; its console said:" >&2; tail -20 "$W/console.log" >&2
    exit 1
  fi
  sleep 0.2
done
kill "$con" 2>/dev/null || true
t_guest=$(date +%s.%N)
cleanup
rm -rf "$W"
awk -v a="$t0" -v b="$t_ssh" -v c="$t_guest" 'BEGIN { printf "ssh_s=%.1f guest_s=%.1f\n", b - a, c - a }'
