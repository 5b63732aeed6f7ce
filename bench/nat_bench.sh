#!/usr/bin/env bash
# Issue 11, "Benchmarks": the NAT lab (tests/nat/nat_lab.sh) measured in one
# run, with real p2pnode processes behind routers that drop unasked inbound:
# 1. Hole punching: A and B sit behind port-keeping NATs and know only the
#    relay P. ATTEMPTS times B runs `connect A_ID`; an attempt succeeds when
#    B's link to A is then direct. Timed: the whole command, and from B's log
#    the punch alone (from the relayed link, where the punch starts, to the
#    direct link that replaces it).
# 2. A FILE_MIB file (random, there before A starts) downloaded by B from A
#    over the punched direct link, then over a link relayed by P (B started
#    again with hole_punching = false), SHA-256 verified both times.
# 3. The relay's cost: P's CPU time (utime + stime) per GiB it carried
#    during the relayed download, and P's resident memory per open circuit
#    (14 idle circuits among six homes).
# Prints a table; without root prints "nat lab: missing (WHY)" and exits 0.
#   nat_bench.sh P2PNODE CONFIG WORK_DIR
# NAT_BENCH_ATTEMPTS (100) and NAT_BENCH_FILE_MIB (256) shrink a run.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../tests/nat/nat_lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/nat/nat_lab.sh"

attempts="${NAT_BENCH_ATTEMPTS:-100}"
file_mib="${NAT_BENCH_FILE_MIB:-256}"
[[ "$attempts" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "NAT_BENCH_ATTEMPTS must be 1 to 9999, not '$attempts'" >&2; exit 2; }
[[ "$file_mib" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "NAT_BENCH_FILE_MIB must be 1 to 9999, not '$file_mib'" >&2; exit 2; }
(($# == 3)) || { echo "usage: nat_bench.sh P2PNODE CONFIG WORK_DIR" >&2; exit 2; }

why="$(lab_unavailable)"
if [ -n "$why" ]; then
  echo "nat lab: missing ($why)"
  exit 0
fi
lab_begin "$@"

# same_config_but NAME FILE 'KEY = OLD' 'KEY = NEW'...: FILE with each
# line OLD replaced, as $work/NAME.toml; fails when the stock file lacks one.
same_config_but() {
  local name="$1" from="$2" old new
  shift 2
  cp "$from" "$work/$name.toml"
  while (($# >= 2)); do
    old="$1" new="$2"
    shift 2
    grep -qxF "$old" "$work/$name.toml" || lab_fail "$from has no line '$old'"
    sed -i "s/^${old}\$/${new}/" "$work/$name.toml"
  done
}
# The relay P forces its service on, as in relay_test.sh. The homes give up
# a dial after 1 s: B's `connect A_ID` dials A's last known address first,
# which A's router drops without a word, so every attempt but the first
# waits out that timeout before it turns to the relay.
same_config_but relay "$config" 'relay_service = "auto"' 'relay_service = true'
same_config_but home "$config" 'handshake_timeout_ms = 5000' 'handshake_timeout_ms = 1000'
# B logs at debug, where peer events carry timestamps: the punch is timed from them.
same_config_but home_logged "$work/home.toml" 'log_level = "info"' 'log_level = "debug"'
same_config_but no_punch "$work/home.toml" 'hole_punching = true' 'hole_punching = false'

declare -A id host=([A]=10.0.1.2 [B]=10.0.2.2)
node_id() { sed -n 's/^.*listening on [0-9.]*:9000 id \([0-9a-f]\{64\}\).*$/\1/p' "$work/$1.log" | head -1; }

# start_home NAME CONFIG: a node in home NAME that reaches the relay and
# found itself private (its reservation may still be on its way).
start_home() {
  lab_start "h$1" "$1" "${host[$1]}" "$2"
  id[$1]="$(node_id "$1")"
  lab_ctl "$1" connect 192.0.2.10 9000 >/dev/null || lab_fail "$1 cannot reach P"
  lab_wait "$1" nat "^reachability: private " "$1 does not find itself private"
}

payload=natbench-payload.bin
mkdir -p "$work/A/shared"
head -c $((file_mib * 1024 * 1024)) /dev/urandom >"$work/A/shared/$payload"
want="$(sha256sum "$work/A/shared/$payload" | cut -d' ' -f1)"

lab_start s1 P 192.0.2.10 "$work/relay.toml"
id[P]="$(node_id P)"
start_home A "$work/home.toml"
start_home B "$work/home_logged.toml"
lab_wait A nat "^relay: ${id[P]} " "A holds no place on P's relay"

# path_of X Y: the end of X's peers line for Y (direct, relayed via ID8), or "no link".
path_of() {
  local path
  path="$(lab_ctl "$1" peers | sed -n "s/^${id[$2]} .* \(direct\|relayed via [0-9a-f]*\)$/\1/p")"
  echo "${path:-no link}"
}

# unlink_a_b: B drops its link to A; returns once neither lists the other.
unlink_a_b() {
  lab_ctl B disconnect "${id[A]}" >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 10))
  until [ "$(path_of B A)" = "no link" ] && [ "$(path_of A B)" = "no link" ]; do
    ((SECONDS < deadline)) || lab_fail "A and B are still linked 10 s after B's disconnect"
    sleep 0.02  # polling with a deadline
  done
}

# link_times FROM_LINE: from B's log after line FROM_LINE, the UTC
# milliseconds of the day of B's relayed link to A (the punch starts on it)
# and of the direct link that replaced it; nothing when there was none.
link_times() {
  tail -n +"$1" "$work/B.log" | awk -v a="${id[A]}" '
    function ms(t, p) { split(t, p, /[:.]/); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + p[4] }
    $2 == "debug" && $4 == "peer" && $5 == "connected:" && $6 == a {
      if ($7 ~ /^192\.0\.2\.10:/) { if (relayed == "") relayed = ms($1) }
      else if (relayed != "" && direct == "") direct = ms($1)
    }
    END { if (direct != "") print relayed, direct }'
}

# percentile P VALUE...: the nearest-rank P-th percentile.
percentile() {
  local p="$1"
  shift
  printf '%s\n' "$@" | sort -n | sed -n "$(((p * $# + 99) / 100))p"
}

# 1. Hole punching.
punching_started=$SECONDS
direct=0
connect_ms=() before_relay_ms=() punch_ms=() after_punch_ms=() failures=()
day_ms=86400000
for ((attempt = 1; attempt <= attempts; attempt++)); do
  log_from=$(($(wc -l <"$work/B.log") + 1))
  begun=${EPOCHREALTIME/./}
  answer="$(lab_ctl B connect "${id[A]}" 2>&1)" || true
  ended=${EPOCHREALTIME/./}
  path="$(path_of B A)"
  unlink_a_b
  connect_ms+=($(((ended - begun) / 1000)))
  if [ "$path" != direct ]; then
    failures+=("attempt $attempt: $path ($(tail -1 <<<"$answer"))")
    continue
  fi
  direct=$((direct + 1))
  read -r relayed_at direct_at <<<"$(link_times "$log_from")"
  [ -n "$direct_at" ] || lab_fail "attempt $attempt: B's log has no relayed link to A and then a direct one"
  before_relay_ms+=($(((relayed_at - begun / 1000 % day_ms + day_ms) % day_ms)))
  punch_ms+=($(((direct_at - relayed_at + day_ms) % day_ms)))
  after_punch_ms+=($(((ended / 1000 % day_ms - direct_at + day_ms) % day_ms)))
done
punching_done=$SECONDS

# download_timed NAME: B downloads A's file over the link it has; prints
# MB/s (10^6 bytes) after checking the copy's SHA-256, then deletes it.
download_timed() {
  lab_wait B "search natbench" "^1 results?$" "B does not find A's file"
  local answer begun ended got
  begun=${EPOCHREALTIME/./}
  answer="$(lab_ctl B download --wait 1 2>&1)" || lab_fail "$1 download failed: $answer"
  ended=${EPOCHREALTIME/./}
  grep -q "^saved .*$payload (.*sha256 verified" <<<"$answer" || lab_fail "$1 download: $answer"
  got="$(sha256sum "$work/B/downloads/$payload" | cut -d' ' -f1)"
  [ "$got" = "$want" ] || lab_fail "B's $1 copy has sha256 $got, not $want"
  rm "$work/B/downloads/$payload"
  awk -v bytes=$((file_mib * 1024 * 1024)) -v us=$((ended - begun)) 'BEGIN { printf "%.1f", bytes / us }'
}

# 2a. The direct download, over a punched link.
lab_ctl B connect "${id[A]}" >/dev/null || lab_fail "B cannot reach A"
[ "$(path_of B A)" = direct ] || lab_fail "B's link to A is not direct: $(path_of B A)"
direct_mb_s="$(download_timed direct)"

# 3b (first, before the relay ever carried a large transfer): P's memory
# per circuit. B, started again without hole punching, and four more homes
# like it open circuits to the (up to) four homes before them in `homes`:
# 14 idle circuits through P. Four, as every relayed link comes from P's
# address, and a node takes at most max_inbound_per_address = 4 inbound
# links from one address. B starts with a fresh data dir, so under a new
# id: P dials a node back at most once a minute, and B, under its old id,
# would stay `unknown`, holding no place on P's relay.
lab_stop B
rm -rf "$work/B/data"
start_home B "$work/no_punch.toml"
homes=(A B D E F G)
for ((i = 2; i < ${#homes[@]}; i++)); do
  name="${homes[i]}"
  lab_home "$name" "10.0.$((i + 2))" "198.18.$((i - 1))"
  host[$name]="10.0.$((i + 2)).2"
  start_home "$name" "$work/no_punch.toml"
done
for name in "${homes[@]}"; do lab_wait "$name" nat "^relay: ${id[P]} " "$name holds no place on P's relay"; done
p_pid="$(ip netns pids "$(lab_ns s1)")"
[ "$(cat "/proc/$p_pid/comm")" = p2pnode ] || lab_fail "P's process is not p2pnode: $p_pid"
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$p_pid/status"; }
lab_wait P stats "^relay: .*, 0 circuits open," "P has circuits open before the homes link"
rss_before=$(rss_kib)
circuits=0
for ((j = 1; j < ${#homes[@]}; j++)); do
  for ((i = (j > 4 ? j - 4 : 0); i < j; i++)); do
    opener="${homes[j]}" target="${homes[i]}"
    answer="$(lab_ctl "$opener" connect "${id[$target]}" 2>&1)" || lab_fail "$opener cannot reach $target: $answer"
    [ "$(path_of "$opener" "$target")" = "relayed via ${id[P]:0:8}" ] ||
      lab_fail "$opener's link to $target is not relayed via P: $(path_of "$opener" "$target")"
    circuits=$((circuits + 1))
  done
done
lab_wait P stats "^relay: .*, $circuits circuits open," "P does not hold $circuits circuits"
rss_during=$(rss_kib)
for name in D E F G; do lab_stop "$name"; done

# 2b and 3a. The relayed download over B's circuit to A, P's CPU time and
# the bytes it carried read around it.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$p_pid/stat"; }
carried() { lab_ctl P stats | sed -n 's/^relay: .* \([0-9]*\) bytes carried$/\1/p'; }
[ "$(path_of B A)" = "relayed via ${id[P]:0:8}" ] || lab_fail "B's link to A is not relayed via P: $(path_of B A)"
ticks_before=$(cpu_ticks) carried_before=$(carried)
relayed_mb_s="$(download_timed relayed)"
ticks_after=$(cpu_ticks) carried_after=$(carried)
[ "$(path_of B A)" = "relayed via ${id[P]:0:8}" ] || lab_fail "B's link to A changed during the relayed download"

# The table, in p2pnet_bench's columns.
row() { printf '%-58s %14s %14s %8s  %s\n' "$@"; }
goal() { if awk "BEGIN { exit !($1) }"; then echo "$2 (met)"; else echo "$2 (NOT met)"; fi; }
ms_figure() { awk -v ms="$1" 'BEGIN { printf "%.4g ms", ms }'; }
echo
row "nat lab benchmark" p2pnet baseline ratio goal
row "hole punching A-B, links direct after connect ID" "$direct/$attempts" - - \
  "$(goal "$direct * 100 >= 95 * $attempts" ">= 95%, goal 100%")"
for failure in "${failures[@]}"; do echo "    $failure"; done
row "connect ID until direct, p50 (whole command)" "$(ms_figure "$(percentile 50 "${connect_ms[@]}")")" - - ""
row "connect ID until direct, p90 (whole command)" "$(ms_figure "$(percentile 90 "${connect_ms[@]}")")" - - ""
echo "    B dials A's last known address first and gives up after handshake_timeout_ms = 1000: A's router drops the SYN without a word"
echo "    attempt 1, before B knew any address of A (no direct dial, straight to the relay): ${connect_ms[0]} ms"
if ((direct > 0)); then
  row "punch, relayed link to direct link, p50 (B's log)" "$(ms_figure "$(percentile 50 "${punch_ms[@]}")")" - - ""
  row "punch, relayed link to direct link, p90 (B's log)" "$(ms_figure "$(percentile 90 "${punch_ms[@]}")")" - - ""
  echo "    p50 of the rest: $(percentile 50 "${before_relay_ms[@]}") ms from connect ID to the relayed link (the direct dial's timeout, then the circuit), $(percentile 50 "${after_punch_ms[@]}") ms from the direct link to connect's answer; log times have 1 ms steps"
fi
row "download $file_mib MiB verified, relayed via P" "$relayed_mb_s MB/s" "$direct_mb_s MB/s" \
  "$(awk "BEGIN { printf \"%.2f\", $relayed_mb_s / $direct_mb_s }")" \
  "$(goal "$relayed_mb_s >= 0.5 * $direct_mb_s" ">= 0.5 x direct")"
echo "    baseline: the same download over the punched direct link, same run; timed from download --wait to its saved line"
gib_carried="$(awk "BEGIN { print ($carried_after - $carried_before) / 1073741824 }")"
row "relay CPU (P's utime + stime) per GiB carried" \
  "$(awk "BEGIN { printf \"%.3g s\", ($ticks_after - $ticks_before) / $(getconf CLK_TCK) / $gib_carried }")" - - ""
echo "    $((ticks_after - ticks_before)) ticks of 1/$(getconf CLK_TCK) s over $gib_carried GiB carried (both directions, stats' bytes carried)"
row "relay resident memory per open circuit ($circuits idle)" \
  "$(awk "BEGIN { printf \"%.3g KiB\", ($rss_during - $rss_before) / $circuits }")" - - ""
echo "    P's VmRSS: $rss_before KiB with $((${#homes[@]})) reservations and no circuit, $rss_during KiB with $circuits circuits open; socket buffers are the kernel's, not in VmRSS"
echo "    hole punching took $((punching_done - punching_started)) s, the whole bench $SECONDS s"
