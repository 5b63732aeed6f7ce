#!/usr/bin/env bash
# Issue 11, item 1: a node behind a home router learns its external address
# from what public peers on two networks see, and is not fooled by one.
#   observed_address_test.sh P2PNODE CONFIG WORK_DIR
set -euo pipefail
p2pnode="$1"
config="$2"
work="$3"
source "$(dirname "${BASH_SOURCE[0]}")/nat_lab.sh"
lab_require
rm -rf "$work"
mkdir -p "$work"
trap lab_down EXIT
lab_up

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do echo "== $log" >&2; cat "$log" >&2; done
  exit 1
}

# start NS NAME HOST: a p2pnode driven through its control socket.
start() {
  mkdir -p "$work/$2/shared"
  lab_run "$1" "$p2pnode" --host "$3" --port 9000 --data-dir "$work/$2/data" --shared-dir "$work/$2/shared" \
    --download-dir "$work/$2/downloads" --no-console --control --config "$config" \
    >"$work/$2.log" 2>&1 &
  local deadline=$((SECONDS + 30))
  until grep -qs "^listening on" "$work/$2.log"; do
    ((SECONDS < deadline)) || fail "$2 did not start"
    sleep 0.05  # polling with a deadline
  done
}
ctl() {
  local name="$1"
  shift
  "$p2pnode" ctl --data-dir "$work/$name/data" "$@"
}

start s1 s1 192.0.2.10
start s2 s2 198.51.100.10
start hA home 10.0.1.2

answer="$(ctl home address)"
grep -qx "external address unknown: no peer on another network has named one" <<<"$answer" ||
  fail "a fresh node claims an external address: $answer"

ctl home connect 192.0.2.10 9000 >/dev/null || fail "home cannot reach s1 through its NAT"
# s1 sees the router's address, not the home node's.
answer="$(ctl s1 peers)"
grep -q " 203.0.113.2:9000 inbound" <<<"$answer" || fail "s1 does not see home behind 203.0.113.2: $answer"
# One network's word is not enough.
answer="$(ctl home address)"
[ "$answer" = "$(printf 'listening on 10.0.1.2:9000\nexternal address unknown: 203.0.113.2 named by 1 network, 2 needed')" ] ||
  fail "after one peer: $answer"

ctl home connect 198.51.100.10 9000 >/dev/null || fail "home cannot reach s2 through its NAT"
answer="$(ctl home address)"
grep -qx "external address 203.0.113.2 (named by 2 networks)" <<<"$answer" || fail "after two networks: $answer"

# The other way round there is no path: this is what relays and hole
# punching are for (issue 11, later items).
if ctl s1 connect 10.0.1.2 9000 >/dev/null 2>&1; then fail "s1 reached a node behind a NAT directly"; fi

# Public nodes learn their own address from each other (no NAT: the same).
ctl s1 connect 198.51.100.10 9000 >/dev/null || fail "s1 cannot reach s2"
for name in s1 s2 home; do ctl "$name" stop >/dev/null; done
wait
echo "observed address: home learned 203.0.113.2 from two networks, not from one"
