#!/usr/bin/env bash
# Issue 11, item 3: two nodes behind their own home routers, each knowing
# only a public relay node, find each other's file and download it through
# the relay (TLS end to end: the relay only splices bytes). The home node
# holds its place on the relay once it found itself private; a circuit to a
# node without a reservation, and a forged circuit token, are refused with
# counters.
#   relay_test.sh P2PNODE CONFIG WORK_DIR
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

# The relay P forces its service on (a lab has too few networks for it to
# find itself public on its own); the home nodes run the defaults.
sed 's/^relay_service = "auto"$/relay_service = true/' "$config" >"$work/relay.toml"
grep -qx "relay_service = true" "$work/relay.toml" || fail "config/node.toml has no relay_service = \"auto\" line"

# start NS NAME HOST CONFIG: a p2pnode driven through its control socket.
start() {
  mkdir -p "$work/$2/shared"
  lab_run "$1" "$p2pnode" --host "$3" --port 9000 --data-dir "$work/$2/data" --shared-dir "$work/$2/shared" \
    --download-dir "$work/$2/downloads" --no-console --control --config "$4" >"$work/$2.log" 2>&1 &
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
# wait_until NAME COMMAND PATTERN WHAT: until COMMAND on NAME prints a line matching PATTERN.
wait_until() {
  local deadline=$((SECONDS + 40))
  until grep -Eq "$3" <<<"$(ctl "$1" $2 2>&1)"; do
    ((SECONDS < deadline)) || fail "$4: $(ctl "$1" $2 2>&1)"
    sleep 0.1  # polling with a deadline: dial-backs to a NAT wait for their timeout
  done
}

# Alice's file is there before she starts: she indexes her folder at start.
mkdir -p "$work/alice/shared"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/alice/shared/holiday-video.bin"
want="$(sha256sum "$work/alice/shared/holiday-video.bin" | cut -d' ' -f1)"

start s1 relay 192.0.2.10 "$work/relay.toml"
start hA alice 10.0.1.2 "$config"
start hB bob 10.0.2.2 "$config"

ctl alice connect 192.0.2.10 9000 >/dev/null || fail "alice cannot reach the relay"
ctl bob connect 192.0.2.10 9000 >/dev/null || fail "bob cannot reach the relay"
relay_id="$(ctl alice peers | sed -n 's/^\([0-9a-f]\{64\}\) 192\.0\.2\.10:9000 outbound verified direct$/\1/p')"
[ -n "$relay_id" ] || fail "alice's peers do not show the relay as a direct link: $(ctl alice peers)"
# The relay's dial-back fails at alice's router: she is private and takes a place on the relay.
wait_until alice nat "^relay: $relay_id 192\.0\.2\.10:9000$" "alice holds no place on the relay"
answer="$(ctl alice nat)"
grep -q "^reachability: private" <<<"$answer" || fail "alice is not private: $answer"

# Bob finds alice's file through the relay's search and downloads it over a
# relayed link: a direct dial to alice's address cannot pass her router.
wait_until bob "search holiday-video" "^1 results?$" "bob does not find alice's file"
answer="$(ctl bob download --wait 1)" || fail "bob's download failed: $answer"
grep -q "^saved .*holiday-video.bin (.*sha256 verified" <<<"$answer" || fail "bob's download: $answer"
got="$(sha256sum "$work/bob/downloads/holiday-video.bin" | cut -d' ' -f1)"
[ "$got" = "$want" ] || fail "bob's copy differs: $got, not $want"
answer="$(ctl bob peers)"
grep -Eq "^[0-9a-f]{64} 192\.0\.2\.10:9000 outbound verified relayed via ${relay_id:0:8}$" <<<"$answer" ||
  fail "bob's link to alice is not relayed via the relay: $answer"
answer="$(ctl relay stats)"
grep -Eq "^  relay_circuits_linked [1-9]" <<<"$answer" || fail "the relay counted no circuit: $answer"
grep -Eq "^relay: [0-9]+ reservations? held, .* [0-9]{8,} bytes carried$" <<<"$answer" ||
  fail "the relay did not carry the 64 MiB: $answer"

# A circuit to a node that holds no place there is refused, and counted.
nobody="$(printf 'nobody' | sha256sum | cut -d' ' -f1)"
if answer="$(ctl bob connect "$nobody" 2>&1)"; then fail "bob reached a node that does not exist: $answer"; fi
grep -q "no reservation here for ${nobody:0:8}" <<<"$answer" || fail "refusal without its reason: $answer"
wait_until relay stats "^  relay_no_reservation 1$" "the relay did not count the refusal"

# A forged accept (a token the relay never sent) takes no circuit.
forged="$(lab_run hB bash -c 'exec 3<>/dev/tcp/192.0.2.10/9000
  printf "\x05{\"relay\":\"accept\",\"token\":\"00112233445566778899aabbccddeeff\"}\n" >&3
  head -c 200 <&3')"
grep -q '"linked":false' <<<"$forged" || fail "a forged token was not refused: $forged"
wait_until relay stats "^  relay_bad_tokens 1$" "the relay did not count the forged token"

for name in relay alice bob; do ctl "$name" stop >/dev/null; done
wait
echo "relay: bob downloaded alice's 64 MiB through the relay, both behind NATs; refusals counted"
