#!/bin/bash
# The source tree keeps its layers (scripts/check-layers.sh), and the check
# itself catches an include that goes up (a copy of two folders with one).
set -euo pipefail
src=${XLAB_SOURCE_DIR:?}
bash "$src/scripts/check-layers.sh" "$src"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/scripts" "$t/host" "$t/engine" "$t/agents" "$t/labs"
cp "$src/scripts/check-layers.sh" "$t/scripts/"
printf '#include "up.h"\n' >"$t/host/virt.c"
: >"$t/engine/up.h"
if out=$(bash "$t/scripts/check-layers.sh" "$t"); then
  echo "an include from host/ up to engine/ passed the check" >&2; exit 1
fi
grep -q "host/virt.c: includes up.h (engine/ is above host/)" <<<"$out"
rm "$t/host/virt.c"
printf '#include "spec.h"\n' >"$t/agents/ops.c"
: >"$t/labs/spec.h"
if bash "$t/scripts/check-layers.sh" "$t" >/dev/null; then
  echo "the dom0 agent including labs/ passed the check" >&2; exit 1
fi
echo "layer check: catches an include that goes up"
