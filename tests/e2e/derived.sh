#!/usr/bin/env bash
# A derived image on real nested Xen: the hosts boot a hypervisor built from
# source (xen-4.20-shadow, made by scripts/test.sh), `xl info` there shows
# that binary ran (its compiler, as its manifest recorded it), and a PV guest
# live-migrates, which Debian's 4.20 hypervisor (built without shadow
# paging) cannot do.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/derived.yaml
lab=drv
image=xen-4.20-shadow

cleanup() { "$XLAB" down "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# scripts/test.sh derives it when the Xen sources are on the machine;
# without them there is nothing to boot, and meson counts the test skipped.
if ! "$XLAB" image inspect "$image" >/dev/null 2>&1 && [ -z "${XLAB_XEN_SRC:-}" ] &&
  [ ! -f "$SRC/../shared/xen-src/xen-4.20.4.tar.xz" ] && [ ! -f /work/shared/xen-src/xen-4.20.4.tar.xz ]; then
  echo "SKIP: no image $image and no Xen sources to derive it from"
  exit 77
fi
ensure_image "$image"
"$XLAB" down "$lab" >/dev/null 2>&1 || true
manifest=$("$XLAB" image inspect "$image" --json)
check "the image is derived from xen-4.20 with a hypervisor of its own" jq -e '
  .manifest.base.name == "xen-4.20" and .manifest.hypervisor.version == "4.20.4" and
  .manifest.replaced["boot/xen.gz"].now == .manifest.files["boot/xen.gz"] and
  .manifest.replaced["boot/xen.gz"].was != .manifest.replaced["boot/xen.gz"].now' <<<"$manifest"

t=$SECONDS
if "$XLAB" up --experiments "$spec"; then ok "up --experiments on $image in $((SECONDS - t)) s"
else bad "up --experiments on $image"; "$XLAB" report --last "$lab" || true; finish; exit 1; fi

info=$("$XLAB" ssh "$lab" h1 -- xl info)
built_by=$(jq -r .manifest.hypervisor.compiler <<<"$manifest")
check "xl info: Xen 4.20.4 compiled by the build's compiler ($built_by), not Debian's" bash -c '
  grep -Eq "^xen_version +: 4\.20\.4" <<<"$1" &&
  [ "$(sed -n "s/^cc_compiler *: //p" <<<"$1")" = "$2" ]' _ "$info" "$built_by"
check "the hosts were made from $image (the store says so)" bash -c '
  "$0" status "$1" --json | jq -e "[.[0].hosts[].image] | unique == [\"$2\"]" >/dev/null' \
  "$XLAB" "$lab" "$image"
json=$("$XLAB" report --last "$lab" --json)
check "PV live migration works on the rebuilt 4.20: 2 rounds h1->h2, h2->h1, the guest answered after each" \
  jq -e '[.experiments[0].rounds[] | select(.ok and .came_back) | "\(.from)>\(.to)"]
    == ["h1>h2","h2>h1"]' <<<"$json"
"$XLAB" report --last "$lab" | sed -n '/pv-migrate/,$p' | head -12

t=$SECONDS
"$XLAB" down "$lab" >/dev/null
gone() { no_domains_of "$1" && no_network_of "$1"; }
check "down in $((SECONDS - t)) s leaves no domain or network" gone "$lab"
finish
