#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest,
# then the same suite under AddressSanitizer+UndefinedBehaviorSanitizer and
# under ThreadSanitizer, then each fuzz target for a short bounded time.
# Prints each suite's time at the end; exits non-zero on any failure.
#
#   P2PNET_TEST_SUITES  which suites to run (default "normal asan tsan fuzz");
#                       P2PNET_TEST_SUITES=normal is the quick local run
#   P2PNET_FUZZ_SECONDS seconds per fuzz target (default 30)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suites="${P2PNET_TEST_SUITES:-normal asan tsan fuzz}"
timings=()

run_suite() {
  local name="$1" build_dir="$2" cmake_args="$3" ctest_args="${4:-}"
  echo "== $name: build"
  BUILD_DIR="$build_dir" CMAKE_ARGS="$cmake_args" "$root/scripts/build.sh"
  echo "== $name: tests"
  # shellcheck disable=SC2086
  ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 900 $ctest_args
}

# The sanitizer builds leave out the benchmarks (bench_smoke runs in the
# normal suite). Processes that only wrap p2pnode's command line add nothing
# under TSan that the in-process node tests do not already race-check, so
# TSan neither builds nor runs the process suite; ASan still runs it, since a
# p2pnode process is where a use-after-free at shutdown would show.
sanitizer_args="-DP2PNET_BUILD_BENCH=OFF"
for suite in $suites; do
  start=$SECONDS
  case "$suite" in
    normal) run_suite normal "${BUILD_DIR:-$root/build}" "" ;;
    asan)
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        run_suite "ASan+UBSan" "$root/build-asan" "-DP2PNET_SANITIZE=address $sanitizer_args" "-LE packaging" ;;
    tsan)
      TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
        run_suite TSan "$root/build-tsan" "-DP2PNET_SANITIZE=thread -DP2PNET_PROCESS_TESTS=OFF $sanitizer_args" \
          "-LE process" ;;
    fuzz) "$root/scripts/fuzz.sh" "${P2PNET_FUZZ_SECONDS:-30}" ;;
    *) echo "error: unknown suite '$suite' (normal, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
  echo "== $suite passed in $((SECONDS - start)) s"
  timings+=("$suite $((SECONDS - start)) s")
done
echo "== suite times: ${timings[*]/%/;} total $SECONDS s"
