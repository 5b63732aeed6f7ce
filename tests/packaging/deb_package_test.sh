#!/usr/bin/env bash
# Builds the Debian packages from a build dir with cpack, unpacks them into a
# scratch root with dpkg -x (no root, no chroot) and checks that what a user
# installs is complete: the service's files are where systemd and the admin
# look, the installed p2pnode runs with the installed plugins and the /etc
# config, and `p2pnode ctl` drives it.
#   deb_package_test.sh BUILD_DIR WORK_DIR
set -euo pipefail
build_dir="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

(cd "$build_dir" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB failed"
}
runtime_deb=$(ls "$work"/out/p2pnet_*.deb)
dev_deb=$(ls "$work"/out/p2pnet-dev_*.deb)

depends=$(dpkg-deb -f "$runtime_deb" Depends)
echo "p2pnet depends on: $depends"
for needed in adduser libssl3 libfmt; do
  [[ "$depends" == *"$needed"* ]] || fail "p2pnet does not depend on $needed"
done
# Output is captured before grep -q reads it: with pipefail, a writer cut
# off by grep's early exit would fail the check at random.
control_files="$(dpkg-deb --ctrl-tarfile "$runtime_deb" | tar -t)"
grep -q conffiles <<<"$control_files" || fail "no conffiles"
[[ "$(dpkg-deb -I "$runtime_deb" conffiles)" == "/etc/p2pnet/node.toml" ]] || fail "node.toml is not a conffile"
grep -q "adduser --system" <<<"$(dpkg-deb -I "$runtime_deb" postinst)" || fail "postinst does not create the service user"

root="$work/root"
dpkg -x "$runtime_deb" "$root"
dpkg -x "$dev_deb" "$root"
for file in usr/bin/p2pnode etc/p2pnet/node.toml usr/lib/systemd/system/p2pnode.service \
  usr/lib/p2pnet/plugins/p2pnet_ping.so usr/lib/p2pnet/plugins/p2pnet_discovery.so \
  usr/lib/p2pnet/plugins/p2pnet_search.so usr/lib/p2pnet/plugins/p2pnet_download.so usr/lib/p2pnet/plugins/p2pnet_webui.so \
  usr/include/p2pnet/plugin_abi.h usr/lib/cmake/p2pnet_sdk/p2pnet_sdkConfig.cmake; do
  [ -e "$root/$file" ] || fail "missing /$file (contents: $(cd "$root" && find . -type f | sort | tr '\n' ' '))"
done
if grep -q "usr/include" <<<"$(dpkg-deb -c "$runtime_deb")"; then fail "the runtime package carries SDK headers"; fi
if grep -q "bin/p2pnode" <<<"$(dpkg-deb -c "$dev_deb")"; then fail "the dev package carries p2pnode"; fi

unit="$root/usr/lib/systemd/system/p2pnode.service"
grep -q '^ExecStart=/usr/bin/p2pnode --config /etc/p2pnet/node.toml --no-console --control$' "$unit" ||
  fail "the unit does not run p2pnode with the /etc config and no console"
grep -q '^User=p2pnet$' "$unit" || fail "the unit does not run as its own user"
grep -q '^StateDirectory=p2pnet$' "$unit" || fail "the unit keeps no data under /var/lib"
config="$root/etc/p2pnet/node.toml"
grep -q '^data_dir = "/var/lib/p2pnet/node"$' "$config" || fail "the service config keeps data elsewhere"
grep -q '^shared_dir = "/var/lib/p2pnet/shared"$' "$config" || fail "the service config shares another folder"
grep -q '^download_dir = "/var/lib/p2pnet/downloads"$' "$config" || fail "the service config downloads elsewhere"

# The installed node with the installed config: only the paths that need a
# system (the port, /var/lib) are redirected into the scratch dir.
var="$work/var"
data="$var/node"
mkdir -p "$var/shared" "$var/downloads"
echo "packaged" >"$var/shared/packaged.txt"
"$root/usr/bin/p2pnode" --config "$config" --host 127.0.0.1 --port 0 --data-dir "$data" \
  --shared-dir "$var/shared" --download-dir "$var/downloads" --no-console >"$work/node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null || true' EXIT
ctl() { "$root/usr/bin/p2pnode" ctl --data-dir "$data" "$@"; }
deadline=$((SECONDS + 30))
until ctl peers >/dev/null 2>&1; do
  kill -0 $node 2>/dev/null || { cat "$work/node.log" >&2; fail "the installed node exited"; }
  ((SECONDS < deadline)) || { cat "$work/node.log" >&2; fail "the installed node's control socket never answered"; }
  sleep 0.1  # polling with a deadline, not synchronisation by sleeping
done
plugins=$(ctl plugins)
echo "$plugins"
# p2pnode finds its plugins beside itself (../lib/p2pnet/plugins), so these
# can only be the packaged ones.
for plugin in ping discovery search download; do
  grep -q "^$plugin " <<<"$plugins" || fail "plugin $plugin was not loaded from the package"
done
deadline=$((SECONDS + 30))
until grep -q "packaged.txt" <<<"$(ctl shared 2>/dev/null)"; do
  ((SECONDS < deadline)) || fail "the installed node does not share packaged.txt"
  sleep 0.1
done
ctl stop >/dev/null
wait $node || fail "the installed node did not exit cleanly"
trap - EXIT
grep -q "listening on 127.0.0.1:" "$work/node.log" || fail "the installed node never listened"
echo "packages: $(basename "$runtime_deb") $(basename "$dev_deb") install and run"
