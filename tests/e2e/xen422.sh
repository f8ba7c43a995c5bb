#!/usr/bin/env bash
# A whole Xen from source on real nested Xen: the host boots xen-4.22 (the
# 4.22.0 hypervisor and dom0 tools built from source into trixie's dom0),
# `xl info` there says 4.22 for the hypervisor and the toolstack, and the
# spec's tests (PV and PVH guests, osstest's checks) pass. scripts/test.sh
# builds the image before the suite (cached after its first build, 162 s on
# 2 cores); a machine without the Xen sources skips this test.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/xen422.yaml
lab=x422
image=xen-4.22

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

if ! "$XLAB" image inspect "$image" >/dev/null 2>&1; then
  echo "SKIP: no image $image (xlab image build xen-4.22 --from xen-4.20 --xen-source" \
    "xen-4.22.0.tar.xz --kconfig SHADOW_PAGING=y)"
  exit 77
fi
ensure_image "$image"
"$XLAB" down "$lab" >/dev/null 2>&1 || true
manifest=$("$XLAB" image inspect "$image" --json)
check "the image is Xen 4.22 with its own tools, derived from xen-4.20" jq -e '
  .manifest.base.name == "xen-4.20" and (.manifest.xen_version | startswith("4.22")) and
  (.manifest.tools.version | startswith("4.22")) and
  .manifest.replaced["root.qcow2"].now == .manifest.files["root.qcow2"] and
  (.manifest.tools.purged | index("xen-utils-4.20") != null)' <<<"$manifest"

t=$SECONDS
if "$XLAB" up "$spec"; then ok "up on $image in $((SECONDS - t)) s"
else bad "up on $image"; "$XLAB" report --last "$lab" || true; finish; exit 1; fi

info=$("$XLAB" ssh "$lab" h1 -- xl info)
check "xl info: the hypervisor is Xen 4.22" grep -Eq "^xen_version +: 4\.22\." <<<"$info"
check "the dom0's xl is 4.22's: it loads libxenlight.so.4.22" bash -c '
  "$0" ssh "$1" h1 -- ldd /usr/sbin/xl | grep -q "libxenlight\.so\.4\.22 => "' "$XLAB" "$lab"
check "xl info: shadow paging is there for PVH under TCG" grep -Eq "^virt_caps +:.*shadow" <<<"$info"
json=$("$XLAB" report --last "$lab" --json)
"$XLAB" report --last "$lab" | sed -n '/^tests/,$p'
check "the spec's 6 tests passed (PV and PVH guests, leak-check, xl dmesg clean)" jq -e '
  [.tests[] | .passed] | length == 6 and all' <<<"$json"

t=$SECONDS
"$XLAB" down "$lab" >/dev/null
gone() { no_domains_of "$1" && no_network_of "$1"; }
check "down in $((SECONDS - t)) s leaves no domain or network" gone "$lab"
finish
