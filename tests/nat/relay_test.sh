#!/usr/bin/env bash
# Issue 11, item 3: two nodes behind their own home routers, each knowing
# only a public relay node, find each other's file and download it through
# the relay (TLS end to end: the relay only splices bytes). The home node
# holds its place on the relay once it found itself private; a circuit to a
# node without a reservation, and a forged circuit token, are refused with
# counters; a download cut by the relay stopping resumes from NAME.part.
#   relay_test.sh P2PNODE CONFIG WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/nat_lab.sh"
lab_begin "$@"

# The relay P forces its service on, so that it holds places from the start
# and again at once after its restart mid-test ("auto" waits for peers of
# two networks to dial it back first; nat_lab_matrix runs it that way).
sed 's/^relay_service = "auto"$/relay_service = true/' "$config" >"$work/relay.toml"
grep -qx "relay_service = true" "$work/relay.toml" || lab_fail "config/node.toml has no relay_service = \"auto\" line"
# Bob downloads at 16 MiB/s, so that the relay can stop in the middle of one,
# and keeps his links relayed: with hole punching (matrix_test.sh) both
# routers here keep ports, and the link would turn direct.
sed -e 's/^max_download_rate = 0$/max_download_rate = 16777216/' -e 's/^hole_punching = true$/hole_punching = false/' \
  "$config" >"$work/bob.toml"
grep -qx "max_download_rate = 16777216" "$work/bob.toml" || lab_fail "config/node.toml has no max_download_rate = 0 line"
grep -qx "hole_punching = false" "$work/bob.toml" || lab_fail "config/node.toml has no hole_punching = true line"

# Alice's file is there before she starts: she indexes her folder at start.
mkdir -p "$work/alice/shared"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/alice/shared/holiday-video.bin"
want="$(sha256sum "$work/alice/shared/holiday-video.bin" | cut -d' ' -f1)"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/alice/shared/second-video.bin"
want_second="$(sha256sum "$work/alice/shared/second-video.bin" | cut -d' ' -f1)"

lab_start s1 relay 192.0.2.10 "$work/relay.toml"
lab_start hA alice 10.0.1.2 "$config"
lab_start hB bob 10.0.2.2 "$work/bob.toml"

lab_ctl alice connect 192.0.2.10 9000 >/dev/null || lab_fail "alice cannot reach the relay"
lab_ctl bob connect 192.0.2.10 9000 >/dev/null || lab_fail "bob cannot reach the relay"
relay_id="$(lab_ctl alice peers | sed -n 's/^\([0-9a-f]\{64\}\) 192\.0\.2\.10:9000 outbound verified direct$/\1/p')"
[ -n "$relay_id" ] || lab_fail "alice's peers do not show the relay as a direct link: $(lab_ctl alice peers)"
# The relay's dial-back fails at alice's router: she is private and takes a place on the relay.
lab_wait alice nat "^relay: $relay_id 192\.0\.2\.10:9000$" "alice holds no place on the relay"
answer="$(lab_ctl alice nat)"
grep -q "^reachability: private" <<<"$answer" || lab_fail "alice is not private: $answer"

# Bob finds alice's file through the relay's search and downloads it over a
# relayed link: a direct dial to alice's address cannot pass her router.
lab_wait bob "search holiday-video" "^1 results?$" "bob does not find alice's file"
answer="$(lab_ctl bob download --wait 1)" || lab_fail "bob's download failed: $answer"
grep -q "^saved .*holiday-video.bin (.*sha256 verified" <<<"$answer" || lab_fail "bob's download: $answer"
got="$(sha256sum "$work/bob/downloads/holiday-video.bin" | cut -d' ' -f1)"
[ "$got" = "$want" ] || lab_fail "bob's copy differs: $got, not $want"
answer="$(lab_ctl bob peers)"
grep -Eq "^[0-9a-f]{64} 192\.0\.2\.10:9000 outbound verified relayed via ${relay_id:0:8}$" <<<"$answer" ||
  lab_fail "bob's link to alice is not relayed via the relay: $answer"
answer="$(lab_ctl relay stats)"
grep -Eq "^  relay_circuits_linked [1-9]" <<<"$answer" || lab_fail "the relay counted no circuit: $answer"
grep -Eq "^relay: [0-9]+ reservations? held, .* [0-9]{8,} bytes carried$" <<<"$answer" ||
  lab_fail "the relay did not carry the 64 MiB: $answer"

# A circuit to a node that holds no place there is refused, and counted.
nobody="$(printf 'nobody' | sha256sum | cut -d' ' -f1)"
if answer="$(lab_ctl bob connect "$nobody" 2>&1)"; then lab_fail "bob reached a node that does not exist: $answer"; fi
grep -q "no reservation here for ${nobody:0:8}" <<<"$answer" || lab_fail "refusal without its reason: $answer"
lab_wait relay stats "^  relay_no_reservation 1$" "the relay did not count the refusal"

# A forged accept (a token the relay never sent) takes no circuit.
forged="$(lab_run hB bash -c 'exec 3<>/dev/tcp/192.0.2.10/9000
  printf "\x05{\"relay\":\"accept\",\"token\":\"00112233445566778899aabbccddeeff\"}\n" >&3
  head -c 200 <&3')"
grep -q '"linked":false' <<<"$forged" || lab_fail "a forged token was not refused: $forged"
lab_wait relay stats "^  relay_bad_tokens 1$" "the relay did not count the forged token"

# The relay stops in the middle of a relayed download: bob keeps
# NAME.part, and once the relay is back (alice holds her place again) the
# download resumes from it, nothing lost.
lab_wait bob "search second-video" "^1 results?$" "bob does not find alice's second file"
lab_ctl bob download 1 >/dev/null || lab_fail "bob cannot start the second download"
part_bytes() { lab_ctl bob downloads | sed -n 's/.*second-video\.bin  active  \([0-9]*\)\/67108864 bytes.*/\1/p' | head -1; }
deadline=$((SECONDS + 40))
until [ "$(part_bytes)" -ge $((8 * 1024 * 1024)) ] 2>/dev/null; do
  ((SECONDS < deadline)) || lab_fail "the second download does not progress: $(lab_ctl bob downloads)"
  sleep 0.1  # polling with a deadline
done
lab_stop relay
lab_wait bob downloads "second-video\.bin.*(failed|no source)" "bob's download did not stop with the relay"
[ -f "$work/bob/downloads/second-video.bin.part" ] || lab_fail "bob lost second-video.bin.part"
lab_start s1 relay 192.0.2.10 "$work/relay.toml"
lab_ctl alice connect 192.0.2.10 9000 >/dev/null || lab_fail "alice cannot reach the restarted relay"
lab_ctl bob connect 192.0.2.10 9000 >/dev/null || lab_fail "bob cannot reach the restarted relay"
lab_wait alice nat "^relay: $relay_id 192\.0\.2\.10:9000$" "alice holds no place on the restarted relay"
answer="$(lab_ctl bob download --wait 1)" || lab_fail "bob's resumed download failed: $answer"
grep -q "^saved .*second-video.bin (.*sha256 verified" <<<"$answer" || lab_fail "bob's resumed download: $answer"
got="$(sha256sum "$work/bob/downloads/second-video.bin" | cut -d' ' -f1)"
[ "$got" = "$want_second" ] || lab_fail "bob's resumed copy differs: $got, not $want_second"
answer="$(lab_ctl bob stats)"
grep -Eq "^  download\.chunks_resumed [1-9]" <<<"$answer" || lab_fail "the download started over instead of resuming: $answer"

for name in relay alice bob; do lab_ctl "$name" stop >/dev/null; done
wait
echo "relay: bob downloaded alice's 64 MiB through the relay, both behind NATs, and resumed one after the relay stopped; refusals counted"
