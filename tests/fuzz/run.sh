#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang, ASan and UBSan and runs each for
# a bounded time (FUZZ_SECONDS, default 15) from the seed corpus in the repo.
# Any crash, leak or timeout fails the run. Longer: FUZZ_SECONDS=3600 tests/fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-15}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false >build-fuzz.setup.log 2>&1 || { cat build-fuzz.setup.log; exit 1; }
fi
ninja -C build-fuzz tests/fuzz/fuzz-spec tests/fuzz/fuzz-agent_proto tests/fuzz/fuzz-xlcfg tests/fuzz/fuzz-image_archive >build-fuzz.ninja.log 2>&1 || { tail -40 build-fuzz.ninja.log; exit 1; }
rc=0
for h in build-fuzz/tests/fuzz/fuzz-*; do
  [ -f "$h" ] && [ -x "$h" ] || continue
  name=${h##*/fuzz-}
  corpus=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  echo "fuzz: $name for ${secs}s (seeds: $(ls "$corpus" | wc -l))"
  if ! "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="build-fuzz/crash-$name-" "$work" "$corpus" >"build-fuzz/fuzz-$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see build-fuzz/fuzz-$name.log and build-fuzz/crash-$name-*"
    tail -40 "build-fuzz/fuzz-$name.log"
    rc=1
  else
    grep -E '^#[0-9]+.*DONE' "build-fuzz/fuzz-$name.log" | tail -1 || true
  fi
  rm -rf "$work"
done
exit $rc
