#!/usr/bin/env bash
# Builds p2pnet in Release and runs every benchmark against its baseline,
# printing a table and writing bench/results.json; then the NAT lab's
# (bench/nat_bench.sh: needs root, else it says "nat lab: missing (WHY)").
# Extra arguments go to p2pnet_bench (e.g. --only routing, --repeats 5);
# `--only nat` names the NAT lab, which runs only when --only names it or
# no --only is given.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BENCH_BUILD_DIR:-$root/build-release}"
# The baselines users would pick instead: ZeroMQ for messages, libtorrent for files.
export P2PNET_EXTRA_PACKAGES="${P2PNET_EXTRA_PACKAGES:-} libzmq3-dev python3-libtorrent"
BUILD_DIR="$build_dir" BUILD_TYPE=Release CMAKE_ARGS="-DP2PNET_BUILD_TESTS=OFF" "$root/scripts/build.sh" >&2

# p2pnet_bench gets the arguments without "nat" among --only's names.
bench_args=() only=() in_only=false
for arg in "$@"; do
  [[ "$arg" == -* ]] && in_only=false
  case "$arg" in
    --only) in_only=true ;;
    --only=*) only+=("${arg#--only=}") ;;
    --quick) export NAT_BENCH_ATTEMPTS=3 NAT_BENCH_FILE_MIB=8 ;;
    *) if $in_only; then only+=("$arg"); fi ;;
  esac
  [ "$arg" = nat ] && $in_only && continue
  [ "$arg" = --only=nat ] && continue
  bench_args+=("$arg")
done
run_core=false run_nat=false
((${#only[@]} > 0)) || run_core=true run_nat=true
for name in "${only[@]}"; do if [ "$name" = nat ]; then run_nat=true; else run_core=true; fi; done

status=0
if $run_core; then "$build_dir/bin/p2pnet_bench" --json "$root/bench/results.json" "${bench_args[@]}" || status=$?; fi
if $run_nat; then
  bash "$root/bench/nat_bench.sh" "$build_dir/bin/p2pnode" "$root/config/node.toml" "$build_dir/nat-bench" || status=$?
fi
exit "$status"
