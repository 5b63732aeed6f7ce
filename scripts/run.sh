#!/usr/bin/env bash
# Builds p2pnet if needed and starts a node with config/node.toml and the
# stock plugins. Extra arguments go to p2pnode, e.g.:
#   scripts/run.sh --port 9001 --data-dir /tmp/node1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >&2
exec "${BUILD_DIR:-$root/build}/bin/p2pnode" --config "$root/config/node.toml" "$@"
