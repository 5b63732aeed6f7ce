#!/usr/bin/env bash
# Installs the Debian packages p2pnet builds with, skipping what is present.
# Works as root; uses sudo otherwise.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config   # toolchain
  ccache                             # rebuilds (three sanitizer variants, fuzz) reuse compiled objects
  dpkg-dev                           # cpack -G DEB: dpkg-shlibdeps finds the packages the binaries need
  libasio-dev                        # networking (standalone Asio)
  nlohmann-json3-dev                 # JSON message headers, SDK messages
  libsimdjson-dev                    # validating every frame header at memory speed
  libboost-dev                       # Boost.DLL (header-only) loads plugins
  libtomlplusplus-dev                # node.toml
  libcli11-dev                       # p2pnode's command-line flags
  libfmt-dev                         # formatting of log and console lines
  libssl-dev                         # OpenSSL: random ids, SHA-256, TLS
  libicu-dev                         # Unicode case folding for search
  nftables iproute2                  # the NAT lab: tests run nodes behind real NATs in network namespaces
  catch2                             # tests (Catch2 v2)
  tmux                               # the console test on a real terminal
  libwebsocketpp-dev                 # the webui plugin: HTTP and WebSocket on the standalone Asio the node runs on
  chromium                           # the webui page tested in a real (headless) browser
  python3                            # the webui tests: HTTP and WebSocket clients from the standard library
  clang libclang-rt-14-dev           # fuzzing: libFuzzer and the sanitizer runtimes
  ${P2PNET_EXTRA_PACKAGES:-}
)

missing=()
for package in "${packages[@]}"; do
  [ -n "$package" ] || continue
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
