#!/usr/bin/env bash
# Builds p2pnet if needed and starts a node with config/node.toml and the
# stock plugins (or the --config FILE given). Extra arguments go to p2pnode, e.g.:
#   scripts/run.sh --port 9001 --data-dir /tmp/node1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >&2
# config/node.toml only when the arguments name no other config.
config=(--config "$root/config/node.toml")
for arg in "$@"; do
  case "$arg" in
    -c | --config | -c?* | --config=*) config=() ;;
  esac
done
exec "${BUILD_DIR:-$root/build}/bin/p2pnode" "${config[@]}" "$@"
