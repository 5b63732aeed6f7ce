#!/usr/bin/env bash
# Issue 11, "The NAT lab": every pair among P, Q, A, B and C shares files
# both ways. P and Q are public (s1, s2); A and B sit behind port-keeping
# NATs, C behind one that randomises ports; Q, A, B and C know only P at
# start. Each node shares one file; for every ordered pair X, Y (20
# downloads) X finds Y's file with search and downloads it, SHA-256
# verified. Q's first download, from A, goes by connection reversal: A,
# asked through P's relay, dials Q back, and the link is direct. A and B
# punch a hole through their NATs and get a direct link; C, whose NAT
# changes ports, stays relayed via P. The table printed says which path
# each link took. Also: P
# finds itself public (and turns its relay on by itself), A, B and C
# private, and A and B learn their router's address once peers of two
# networks named it.
#   matrix_test.sh P2PNODE CONFIG WORK_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/nat_lab.sh"
lab_begin "$@"

names=(P Q A B C)
declare -A namespace=([P]=s1 [Q]=s2 [A]=hA [B]=hB [C]=hC)
declare -A host=([P]=192.0.2.10 [Q]=198.51.100.10 [A]=10.0.1.2 [B]=10.0.2.2 [C]=10.0.3.2)
declare -A file=([P]=pelican [Q]=quokka [A]=albatross [B]=bison [C]=caracal)
declare -A want id

# Each file is there before its node starts: a node indexes its folder at start.
for name in "${names[@]}"; do
  mkdir -p "$work/$name/shared"
  # A's is the issue's 64 MiB file (found and fetched by P, Q, B and C over
  # the three paths); the others' 4 MiB keep the 20 downloads quick.
  mib=4
  [ "$name" = A ] && mib=64
  head -c $((mib * 1024 * 1024)) /dev/urandom >"$work/$name/shared/${file[$name]}.bin"
  want[$name]="$(sha256sum "$work/$name/shared/${file[$name]}.bin" | cut -d' ' -f1)"
done

# Every node runs the stock config: P's relay service is "auto", on once
# peers of two networks dialed it back. The home that brings the second
# network finds itself private first and is refused a place ("the relay
# service is off on this node"); it asks again 5 s later and gets one.
for name in "${names[@]}"; do
  lab_start "${namespace[$name]}" "$name" "${host[$name]}" "$config"
  id[$name]="$(sed -n 's/^.*listening on [0-9.]*:9000 id \([0-9a-f]\{64\}\).*$/\1/p' "$work/$name.log" | head -1)"
  [ -n "${id[$name]}" ] || lab_fail "$name's log does not name its id"
done
for name in Q A B C; do
  lab_ctl "$name" connect 192.0.2.10 9000 >/dev/null || lab_fail "$name cannot reach P"
done

# Q and the homes dial P back from networks of their own, so P finds itself
# public; the homes find themselves private and take a place on its relay.
lab_wait P nat "^reachability: public " "P does not find itself public"
for name in A B C; do
  lab_wait "$name" nat "^reachability: private " "$name does not find itself private"
  lab_wait "$name" nat "^relay: ${id[P]} 192\.0\.2\.10:9000$" "$name holds no place on P's relay"
done

# path_to X Y: how X's peers line shows its link to Y (ADDRESS direct, or
# ADDRESS relayed via ID8), "no link" when there is none.
path_to() {
  local path
  path="$(lab_ctl "$1" peers | sed -n "s/^${id[$2]} \([^ ]*\) .* \(direct\|relayed via [0-9a-f]*\)$/\1 \2/p")"
  echo "${path:-no link}"
}

# fetch X Y: X finds Y's file and downloads it; prints why not and returns
# 1 when it cannot.
fetch() {
  local answer got
  lab_poll "$1" "search ${file[$2]}" "^1 results?$" || {
    echo "search ${file[$2]}: $(lab_ctl "$1" search "${file[$2]}" 2>&1 | tr '\n' ' ')"
    return 1
  }
  answer="$(lab_ctl "$1" download --wait 1 2>&1)" || {
    echo "download: $(tail -1 <<<"$answer")"
    return 1
  }
  grep -q "^saved .*${file[$2]}\.bin (.*sha256 verified" <<<"$answer" || {
    echo "download: $(tail -1 <<<"$answer")"
    return 1
  }
  got="$(sha256sum "$work/$1/downloads/${file[$2]}.bin" | cut -d' ' -f1)"
  [ "$got" = "${want[$2]}" ] || {
    echo "the copy's sha256 is $got, not ${want[$2]}"
    return 1
  }
}

# Connection reversal: Q has no path to A through A's router, so it asks
# P's relay to have A dial it back. A does (P named Q's address and port,
# not Q), and Q's link to A is inbound and direct: no circuit on P.
fetch_or_fail() { why="$(fetch "$1" "$2")" || lab_fail "$1 cannot download ${file[$2]} from $2: $why"; }
fetch_or_fail Q A
grep -Eq "^${id[A]} 203\.0\.113\.2:9000 inbound verified direct$" <<<"$(lab_ctl Q peers)" ||
  lab_fail "Q's link to A is not A's dial back: $(lab_ctl Q peers)"
answer="$(lab_ctl A stats)"
grep -Eq "^  reversal_dials_connected 1$" <<<"$answer" || lab_fail "A did not dial Q back: $answer"
answer="$(lab_ctl P stats)"
grep -Eq "^  relay_reversals_passed_on 1$" <<<"$answer" || lab_fail "P did not pass Q's request on: $answer"
grep -q "relay_circuits_linked" <<<"$answer" && lab_fail "Q's download from A went through a circuit: $answer"
echo "Q downloaded from A by reversal: $(path_to Q A)"

# The homes download next. A home that fetches from Q dials Q's public
# address: a direct link, over which Q names the home's router address (its
# second network after P). Were Q first, it would reach each home through
# P's relay, and the home's download from Q would reuse that relayed link,
# leaving the home's observed address named by P's network alone.
printf '%-6s %-6s %-6s %s\n' from to result "path in the downloader's peers line"
failed=()
matrix_started=$SECONDS
for x in A B C Q P; do
  for y in "${names[@]}"; do
    [ "$x" = "$y" ] && continue
    [ "$x$y" = QA ] && continue  # by reversal, above
    if why="$(fetch "$x" "$y")"; then
      printf '%-6s %-6s %-6s %s\n' "$y" "$x" ok "$(path_to "$x" "$y")"
    else
      printf '%-6s %-6s %-6s %s (%s)\n' "$y" "$x" FAILED "$(path_to "$x" "$y")" "$why"
      failed+=("$y to $x")
    fi
  done
done
echo "the matrix took $((SECONDS - matrix_started)) s"
((${#failed[@]} == 0)) || lab_fail "downloads failed: ${failed[*]}"

# After the matrix A and B have direct links to Q as well as to P: peers of
# two networks name their router's address. The port is the NAT's mapping
# of one connection, so only the host is checked.
lab_wait A nat "^observed address: 203\.0\.113\.2:[0-9]+ \(from peers of [2-9] networks\)$" "A's observed address"
lab_wait B nat "^observed address: 198\.18\.0\.2:[0-9]+ \(from peers of [2-9] networks\)$" "B's observed address"

# Hole punching: A and B, behind routers that keep ports, punched through
# when A opened a circuit to B; a direct link replaced the relayed one. C's
# router draws a new port for every connection, so C's links to A and B
# stay relayed through P.
grep -Eq "^${id[A]} 203\.0\.113\.2:9000 (in|out)bound verified direct$" <<<"$(lab_ctl B peers)" ||
  lab_fail "B's link to A is not direct: $(lab_ctl B peers)"
grep -Eq "^  punches_succeeded [1-9]" <<<"$(lab_ctl A stats)" || lab_fail "A punched no hole: $(lab_ctl A stats)"
for name in A B; do
  grep -Eq "^${id[C]} 192\.0\.2\.10:9000 (in|out)bound verified relayed via ${id[P]:0:8}$" <<<"$(lab_ctl "$name" peers)" ||
    lab_fail "$name's link to C is not relayed via P: $(lab_ctl "$name" peers)"
done
grep -Eq "^  punches_failed [1-9]" <<<"$(lab_ctl C stats; lab_ctl A stats)" ||
  lab_fail "no punch to C failed: $(lab_ctl C stats)"
grep -q "^reachability: public " <<<"$(lab_ctl P nat)" || lab_fail "P is no longer public: $(lab_ctl P nat)"
for name in A B C; do
  answer="$(lab_ctl "$name" nat)"
  grep -q "^reachability: private " <<<"$answer" || lab_fail "$name is no longer private: $answer"
done
# C's NAT gives each connection another port; what C learns is recorded, not asserted.
echo "C (random ports) after the matrix:"
lab_ctl C nat | sed 's/^/  /'

for name in "${names[@]}"; do lab_ctl "$name" stop >/dev/null; done
wait
echo "matrix: all 20 downloads (Q from A by reversal) among P, Q, A, B and C arrived, SHA-256 verified, in $SECONDS s"
