#!/usr/bin/env bash
# Issue 11, items 1 and 2: a node behind a home router learns its external
# address from what public peers on two networks see, and is not fooled by
# one; peers dial back its listen port and find it private, while public
# nodes find themselves public once peers of two networks reached them.
#   observed_address_test.sh P2PNODE CONFIG WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/nat_lab.sh"
lab_begin "$@"

lab_start s1 s1 192.0.2.10 "$config"
lab_start s2 s2 198.51.100.10 "$config"
lab_start hA home 10.0.1.2 "$config"

answer="$(lab_ctl home nat)"
grep -qx "observed address: unknown (no peer on another network has named one)" <<<"$answer" ||
  lab_fail "a fresh node claims an external address: $answer"
grep -qx "reachability: unknown (no peer on the internet has dialed back yet)" <<<"$answer" ||
  lab_fail "a fresh node claims a reachability: $answer"

lab_ctl home connect 192.0.2.10 9000 >/dev/null || lab_fail "home cannot reach s1 through its NAT"
# s1 sees the router's address, not the home node's.
answer="$(lab_ctl s1 peers)"
grep -q " 203.0.113.2:9000 inbound" <<<"$answer" || lab_fail "s1 does not see home behind 203.0.113.2: $answer"
# One network's word is not enough for the address; s1's dial-back to the
# router's port fails, which is enough for private.
lab_wait home nat "^reachability: private \(reached by peers of 0 networks, not by peers of 1 network\)$" \
  "s1's failed dial-back did not make home private"
answer="$(lab_ctl home nat)"
grep -Eqx "observed address: unknown \(203\.0\.113\.2:[0-9]+ named by peers of 1 network, 2 needed\)" <<<"$answer" ||
  lab_fail "after one peer: $answer"

lab_ctl home connect 198.51.100.10 9000 >/dev/null || lab_fail "home cannot reach s2 through its NAT"
lab_wait home nat "^observed address: 203\.0\.113\.2:[0-9]+ \(from peers of 2 networks\)$" "after two networks"
lab_wait home nat "^reachability: private \(reached by peers of 0 networks, not by peers of 2 networks\)$" \
  "s2's failed dial-back"

# The other way round there is no path: this is what relays and hole
# punching are for (issue 11, later items).
if lab_ctl s1 connect 10.0.1.2 9000 >/dev/null 2>&1; then lab_fail "s1 reached a node behind a NAT directly"; fi

# Public nodes learn their own address from each other (no NAT: the same),
# and that they are public: home reached s1 when s1 asked, and so does s2.
lab_ctl s1 connect 198.51.100.10 9000 >/dev/null || lab_fail "s1 cannot reach s2"
lab_wait s1 nat "^reachability: public \(reached by peers of 2 networks, not by peers of 0 networks\)$" \
  "s1 is not public after home and s2 reached it"
lab_wait s1 nat "^observed address: 192\.0\.2\.10:[0-9]+ \(from peers of 2 networks\)$" "s1's own address"
for name in s1 s2 home; do lab_ctl "$name" stop >/dev/null; done
wait
echo "observed address and reachability: home learned 203.0.113.2 from two networks and that it is private; s1 that it is public"
