#!/usr/bin/env bash
# Installs what is missing, then configures and builds p2pnet.
#   BUILD_DIR   build directory (default: build)
#   BUILD_TYPE  CMake build type (default: RelWithDebInfo)
#   CMAKE_ARGS  extra arguments for the CMake configure step
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"

"$root/scripts/install-deps.sh"
# ccache: the normal, sanitizer and fuzz builds and every later run reuse what
# an earlier one compiled. Paths are made relative to the checkout so a fresh
# clone in another folder hits the same cache entries.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
# The four builds of scripts/test.sh (normal, ASan, TSan, fuzz) hold about
# 5 GB of objects, ccache's default size: with room for twice that, one run
# does not evict what the next needs.
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-12G}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# shellcheck disable=SC2086
cmake -S "$root" -B "$build_dir" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DP2PNET_WERROR=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j2
