#!/usr/bin/env bash
# The physical floor: what the machine itself takes, with nothing of xlab's
# recipe. QEMU loads Xen and the image's dom0 kernel (unpacked) directly (multiboot,
# no firmware disk, no grub, no ISO) with the same CPU and memory as a bench
# host, and a trivial init (busybox in a small initramfs) prints a marker and
# powers off. Prints "host_s=N" (QEMU start to the dom0's init marker).
#   bench/physfloor.sh IMAGE_DIR WORKDIR [MEMORY_MIB DOM0_MIB VCPUS]
#   bench/physfloor.sh --initrd OUT.cpio.gz   only write that initramfs
# The guest half of the floor (a PV guest kernel to the same init, in a
# running dom0) is in bench/bench.sh: it needs a dom0 with xl.
set -euo pipefail
initrd() { # initrd WORKDIR OUT
  mkdir -p "$1/root/bin"
  cp "$(command -v busybox)" "$1/root/bin/busybox"
  cat >"$1/root/init" <<'SH'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
echo XLAB-PHYS-FLOOR-INIT >/dev/console
/bin/busybox poweroff -f
SH
  chmod 755 "$1/root/init"
  (cd "$1/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}
if [ "${1:-}" = --initrd ]; then
  t=$(mktemp -d); initrd "$t" "$2"; rm -rf "$t"; exit 0
fi
IMG=$1 W=$2 MEM=${3:-1536} DOM0=${4:-768} VCPUS=${5:-1}
rm -rf "$W"; mkdir -p "$W"
qemu=
trap '[ -n "$qemu" ] && kill "$qemu" 2>/dev/null; rm -rf "$W"' EXIT

# A trivial init: say so on the console, power off.
initrd "$W" "$W/init.cpio.gz"
# QEMU's multiboot loader reads an ELF, not Xen's gzip of one; the dom0
# kernel unpacked too, and its bounce buffer as small, as xlab gives them
# (host/hostprep.c: Xen would unpack a bzImage itself; labs/plan.c: 64 MiB
# of swiotlb is traded with Xen 2 MiB at a time).
zcat "$IMG/boot/xen.gz" >"$W/xen"
"$(dirname "$0")/unpack-kernel.py" "$IMG/boot/vmlinuz" "$W/vmlinux"

# The accelerator xlab's hosts get: KVM where the CPU offers it (nested
# virtualization for the guests through the host CPU), else TCG with the CPU
# model xlab's plan gives (qemu64 with SVM, NPT and RDRAND).
cpu=(-machine pc,accel=tcg -cpu qemu64,+svm,+npt,+rdrand)
if grep -qE ' (vmx|svm)' /proc/cpuinfo && [ -w /dev/kvm ]; then
  cpu=(-machine pc,accel=kvm -cpu host)
fi
t0=$(date +%s.%N)
qemu-system-x86_64 "${cpu[@]}" -m "$MEM" -smp "$VCPUS" \
  -display none -no-reboot -serial "file:$W/serial.log" -monitor none \
  -kernel "$W/xen" -append "dom0_mem=${DOM0}M,max:${DOM0}M console=com1 com1=115200,8n1 bootscrub=0" \
  -initrd "$W/vmlinux console=hvc0 rdinit=/init swiotlb=8192,$W/init.cpio.gz" 2>"$W/qemu.err" &
qemu=$!
until grep -qa XLAB-PHYS-FLOOR-INIT "$W/serial.log" 2>/dev/null; do
  if ! kill -0 "$qemu" 2>/dev/null; then
    echo "physfloor: QEMU ended without the marker; its serial said:" >&2
    tail -20 "$W/serial.log" >&2
    exit 1
  fi
  sleep 0.1
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "host_s=%.1f\n", b - a }'
