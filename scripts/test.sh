#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest.
# Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 900
