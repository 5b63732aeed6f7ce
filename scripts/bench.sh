#!/usr/bin/env bash
# Builds p2pnet in Release and runs every benchmark against its baseline,
# printing a table and writing bench/results.json. Extra arguments go to
# p2pnet_bench (e.g. --only routing, --repeats 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BENCH_BUILD_DIR:-$root/build-release}"
# The baselines users would pick instead: ZeroMQ for messages, libtorrent for files.
export P2PNET_EXTRA_PACKAGES="${P2PNET_EXTRA_PACKAGES:-} libzmq3-dev python3-libtorrent"
BUILD_DIR="$build_dir" BUILD_TYPE=Release CMAKE_ARGS="-DP2PNET_BUILD_TESTS=OFF" "$root/scripts/build.sh" >&2
"$build_dir/bin/p2pnet_bench" --json "$root/bench/results.json" "$@"
