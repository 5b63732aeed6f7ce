#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one for
# SECONDS (default 60), starting from the seed corpus in tests/fuzz/corpus.
# A crash stops with the input saved under build-fuzz/artifacts/; once the
# bug is fixed, copy the input to tests/fuzz/regressions/<target>/ so every
# build replays it as a test.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
build_dir="${FUZZ_BUILD_DIR:-$root/build-fuzz}"

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DP2PNET_FUZZ=ON >/dev/null
cmake --build "$build_dir" -j2

mkdir -p "$build_dir/artifacts"
failed=()
for binary in "$build_dir"/bin/fuzz_*; do
  target="$(basename "$binary")"
  target="${target#fuzz_}"
  work="$(mktemp -d)"
  echo "== fuzzing $target for ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build_dir/artifacts/$target-" "$work" "$root/tests/fuzz/corpus/$target" \
       > "$build_dir/artifacts/$target.log" 2>&1; then
    failed+=("$target")
    tail -40 "$build_dir/artifacts/$target.log"
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build_dir/artifacts/$target.log" | tr '\n' ' '
    echo
  fi
  rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crashes"
