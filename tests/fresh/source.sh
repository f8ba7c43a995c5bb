#!/usr/bin/env bash
# Inside a clean Debian root (scripts/fresh-check.sh): the README's first
# command as a new user types it, then down, then what must be left: nothing.
#   source.sh SPEC LAB
set -euo pipefail
spec=$1 lab=$2
cd /root/xlab
T0=$SECONDS
say() { printf '[root %4ds] %s\n' $((SECONDS - T0)) "$*"; }

say "scripts/demo.sh $spec"
scripts/demo.sh "$spec"
say "demo done; taking the lab down"
build/cli/xlab down "$lab"
bash tests/fresh/leftovers.sh "$lab"

# The Debian package, built from this clean clone with only what its
# Build-Depends names on top of what the demo installed.
say "building the Debian package"
apt-get build-dep -y -qq ./ >/dev/null
dpkg-buildpackage -us -uc -b >/root/dpkg-buildpackage.log 2>&1 ||
  { tail -40 /root/dpkg-buildpackage.log; exit 1; }
ls -l /root/xlab_*_amd64.deb
say "source root: ok"
