#!/usr/bin/env bash
# Issue 11, items 1 and 2: a node behind a home router learns its external
# address from what public peers on two networks see, and is not fooled by
# one; peers dial back its listen port and find it private, while public
# nodes find themselves public once peers of two networks reached them.
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

# wait_for_nat NAME PATTERN WHAT: until `nat` on NAME prints a line matching PATTERN.
wait_for_nat() {
  local deadline=$((SECONDS + 30))
  until grep -Eqx "$2" <<<"$(ctl "$1" nat)"; do
    ((SECONDS < deadline)) || fail "$3: $(ctl "$1" nat)"
    sleep 0.1  # polling with a deadline: dial-backs to a NAT wait for their timeout
  done
}

answer="$(ctl home nat)"
grep -qx "observed address: unknown (no peer on another network has named one)" <<<"$answer" ||
  fail "a fresh node claims an external address: $answer"
grep -qx "reachability: unknown (no peer on the internet has dialed back yet)" <<<"$answer" ||
  fail "a fresh node claims a reachability: $answer"

ctl home connect 192.0.2.10 9000 >/dev/null || fail "home cannot reach s1 through its NAT"
# s1 sees the router's address, not the home node's.
answer="$(ctl s1 peers)"
grep -q " 203.0.113.2:9000 inbound" <<<"$answer" || fail "s1 does not see home behind 203.0.113.2: $answer"
# One network's word is not enough for the address; s1's dial-back to the
# router's port fails, which is enough for private.
wait_for_nat home "reachability: private \(reached by peers of 0 networks, not by peers of 1 network\)" \
  "s1's failed dial-back did not make home private"
answer="$(ctl home nat)"
grep -Eqx "observed address: unknown \(203\.0\.113\.2:[0-9]+ named by peers of 1 network, 2 needed\)" <<<"$answer" ||
  fail "after one peer: $answer"

ctl home connect 198.51.100.10 9000 >/dev/null || fail "home cannot reach s2 through its NAT"
wait_for_nat home "observed address: 203\.0\.113\.2:[0-9]+ \(from peers of 2 networks\)" "after two networks"
wait_for_nat home "reachability: private \(reached by peers of 0 networks, not by peers of 2 networks\)" \
  "s2's failed dial-back"

# The other way round there is no path: this is what relays and hole
# punching are for (issue 11, later items).
if ctl s1 connect 10.0.1.2 9000 >/dev/null 2>&1; then fail "s1 reached a node behind a NAT directly"; fi

# Public nodes learn their own address from each other (no NAT: the same),
# and that they are public: home reached s1 when s1 asked, and so does s2.
ctl s1 connect 198.51.100.10 9000 >/dev/null || fail "s1 cannot reach s2"
wait_for_nat s1 "reachability: public \(reached by peers of 2 networks, not by peers of 0 networks\)" \
  "s1 is not public after home and s2 reached it"
wait_for_nat s1 "observed address: 192\.0\.2\.10:[0-9]+ \(from peers of 2 networks\)" "s1's own address"
for name in s1 s2 home; do ctl "$name" stop >/dev/null; done
wait
echo "observed address and reachability: home learned 203.0.113.2 from two networks and that it is private; s1 that it is public"
