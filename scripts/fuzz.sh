#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one for
# SECONDS (default 60), two at a time (one per core), starting from the seed
# corpus in tests/fuzz/corpus. A crash stops with the input saved under
# build-fuzz/artifacts/; once the bug is fixed, copy the input to
# tests/fuzz/regressions/<target>/ so every build replays it as a test.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
build_dir="${FUZZ_BUILD_DIR:-$root/build-fuzz}"

BUILD_DIR="$build_dir" BUILD_TYPE=RelWithDebInfo \
  CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DP2PNET_FUZZ=ON -DP2PNET_WERROR=OFF" "$root/scripts/build.sh"

mkdir -p "$build_dir/artifacts"
work_root="$(mktemp -d)"
trap 'rm -rf "$work_root"' EXIT

fuzz_one() {
  local binary="$1" target
  target="$(basename "$binary")"
  target="${target#fuzz_}"
  mkdir -p "$work_root/$target"
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build_dir/artifacts/$target-" "$work_root/$target" "$root/tests/fuzz/corpus/$target" \
    > "$build_dir/artifacts/$target.log" 2>&1
}

failed=()
targets=("$build_dir"/bin/fuzz_*)
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pair=("${targets[@]:i:2}")
  pids=()
  for binary in "${pair[@]}"; do
    echo "== fuzzing $(basename "$binary") for ${seconds}s"
    fuzz_one "$binary" &
    pids+=($!)
  done
  for j in "${!pair[@]}"; do
    target="$(basename "${pair[j]}")"
    target="${target#fuzz_}"
    if wait "${pids[j]}"; then
      echo "$target: $(grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build_dir/artifacts/$target.log" | tr '\n' ' ')"
    else
      failed+=("$target")
      tail -40 "$build_dir/artifacts/$target.log"
    fi
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crashes"
