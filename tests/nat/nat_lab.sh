# shellcheck shell=bash
# The NAT lab: a small internet inside network namespaces this script makes
# (and removes), so that tests run real p2pnode processes behind real NATs
# (nftables masquerade) with no packet leaving the machine. Sourced by the
# lab's tests; needs root, iproute2 and nftables.
#
#   s1 192.0.2.10 ----+
#   s2 198.51.100.10 -+- inet (a router) -+- 203.0.113.2 rA (NAT) 10.0.1.1 -- 10.0.1.2 hA
#                                         +- 198.18.0.2  rB (NAT) 10.0.2.1 -- 10.0.2.2 hB
#                                         +- 198.19.0.2  rC (NAT, random ports) 10.0.3.1 -- 10.0.3.2 hC
#
# In the issue's names (issue 11, "The NAT lab") s1 is P, the public node
# running the relay, and s2 is Q, the second public node; hA, hB and hC are
# the home nodes A, B and C. rA and rB keep a connection's source port where
# it is free (what hole punching needs); rC gives every connection a random
# one, so that an address one peer saw is no use to another.
#
# Public addresses are from the documentation (RFC 5737) and benchmarking
# (RFC 2544) ranges, private ones from RFC 1918; every namespace name starts
# with a prefix unique to this run, so parallel runs do not meet.

lab_prefix="p2p$$"
lab_namespaces=()

# Prints why the lab cannot run here, or nothing.
lab_unavailable() {
  [ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; return; }
  command -v ip >/dev/null || { echo "needs ip (iproute2)"; return; }
  command -v nft >/dev/null || { echo "needs nft (nftables)"; return; }
  ip netns add "${lab_prefix}-probe" 2>/dev/null || { echo "cannot create network namespaces here"; return; }
  ip netns del "${lab_prefix}-probe"
}

# Skips the test with a clear line; with CI=true a skip fails the run, so a
# CI machine that cannot run the lab is noticed.
lab_require() {
  local why
  why="$(lab_unavailable)"
  [ -z "$why" ] && return 0
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: the NAT lab cannot run: $why (CI=true: a skip is a failure)" >&2
    exit 1
  fi
  echo "SKIP: the NAT lab cannot run: $why"
  exit 77
}

# lab_begin P2PNODE CONFIG WORK_DIR: a lab test's start. Sets p2pnode,
# config and work (emptied), skips without root, builds the lab and tears
# it down when the test exits, passed or not.
lab_begin() {
  p2pnode="$1"
  # shellcheck disable=SC2034 # the tests read it
  config="$2"
  work="$3"
  lab_require
  rm -rf "$work"
  mkdir -p "$work"
  trap lab_down EXIT
  lab_up
}

lab_ns() { echo "${lab_prefix}-$1"; }

lab_add_ns() {
  local ns
  ns="$(lab_ns "$1")"
  ip netns add "$ns"
  lab_namespaces+=("$ns")
  ip -n "$ns" link set lo up
}

# lab_link NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN: a cable between two namespaces.
lab_link() {
  ip link add name "$2" netns "$(lab_ns "$1")" type veth peer name "$5" netns "$(lab_ns "$4")"
  ip -n "$(lab_ns "$1")" addr add "$3" dev "$2"
  ip -n "$(lab_ns "$4")" addr add "$6" dev "$5"
  ip -n "$(lab_ns "$1")" link set "$2" up
  ip -n "$(lab_ns "$4")" link set "$5" up
}

lab_forwarding() { ip netns exec "$(lab_ns "$1")" sysctl -qw net.ipv4.ip_forward=1; }

# lab_masquerade NS WAN_IF [FLAGS]: a home router's NAT. Without FLAGS the
# mapping is endpoint-independent as Linux does it (source ports are kept
# where free); FLAGS "random,fully-random" (nftables 1.0.6, Debian 12, loads
# it as written) draws a random source port for every connection. Like a
# home router it drops what comes from the internet unasked, for its hosts
# and for itself, without a word (no RST): only packets of connections that
# went out (conntrack's established state, a crossing SYN included) come in.
lab_masquerade() {
  ip netns exec "$(lab_ns "$1")" nft -f - <<NFT
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "$2" masquerade ${3:-}
  }
}
table ip filter {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "$2" ct state new,invalid drop
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "$2" ct state new,invalid drop
  }
}
NFT
}

# lab_home NAME LAN WAN_NET [NAT_FLAGS]: home NAME, its router rNAME with
# WAN_NET.2 on the internet side (inet is WAN_NET.1) and LAN.1 at home, and
# the host hNAME at LAN.2.
lab_home() {
  local name="$1" lan="$2" wan="$3"
  lab_add_ns "r$name"
  lab_add_ns "h$name"
  lab_link inet "to-r$name" "$wan.1/24" "r$name" wan "$wan.2/24"
  lab_link "r$name" lan "$lan.1/24" "h$name" eth0 "$lan.2/24"
  lab_forwarding "r$name"
  lab_masquerade "r$name" wan "${4:-}"
  ip -n "$(lab_ns "r$name")" route add default via "$wan.1"
  ip -n "$(lab_ns "h$name")" route add default via "$lan.1"
}

lab_up() {
  for ns in inet s1 s2; do lab_add_ns "$ns"; done
  lab_forwarding inet
  lab_link inet to-s1 192.0.2.1/24 s1 eth0 192.0.2.10/24
  lab_link inet to-s2 198.51.100.1/24 s2 eth0 198.51.100.10/24
  ip -n "$(lab_ns s1)" route add default via 192.0.2.1
  ip -n "$(lab_ns s2)" route add default via 198.51.100.1
  lab_home A 10.0.1 203.0.113
  lab_home B 10.0.2 198.18.0
  lab_home C 10.0.3 198.19.0 random,fully-random
}

# Kills what still runs in the lab's namespaces, then removes them.
lab_down() {
  local ns pid
  for ns in "${lab_namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for ns in "${lab_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  lab_namespaces=()
}

# The nodes of a test: the caller sets p2pnode (the binary) and work (a
# fresh directory holding each node's files and NAME.log).

# Fails the test, showing every node's log.
lab_fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$work"/*.log; do echo "== $log" >&2; cat "$log" >&2; done
  exit 1
}

# lab_start NS NAME HOST CONFIG: a p2pnode in NS listening on HOST:9000,
# driven through its control socket; returns once it listens.
lab_start() {
  mkdir -p "$work/$2/shared"
  # Emptied here, not only by the background job's redirection, which may
  # come after the wait below has read a restarted node's old log.
  : >"$work/$2.log"
  lab_run "$1" "$p2pnode" --host "$3" --port 9000 --data-dir "$work/$2/data" --shared-dir "$work/$2/shared" \
    --download-dir "$work/$2/downloads" --no-console --control --config "$4" >"$work/$2.log" 2>&1 &
  echo $! >"$work/$2.pid"
  local deadline=$((SECONDS + 30))
  until grep -qs "^listening on" "$work/$2.log"; do
    ((SECONDS < deadline)) || lab_fail "$2 did not start"
    sleep 0.05  # polling with a deadline
  done
}

# lab_ctl NAME COMMAND...: a console command on node NAME (the control
# socket is a file, so no namespace is needed).
lab_ctl() {
  local name="$1"
  shift
  "$p2pnode" ctl --data-dir "$work/$name/data" "$@"
}

# lab_stop NAME: stops node NAME and returns once its process is gone (its
# port and data dir are free again).
lab_stop() {
  lab_ctl "$1" stop >/dev/null || lab_fail "$1 would not stop"
  local pid deadline=$((SECONDS + 30))
  pid="$(cat "$work/$1.pid")"
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || lab_fail "$1 still runs 30 s after stop"
    sleep 0.05  # polling with a deadline
  done
}

# lab_poll NAME COMMAND PATTERN: until COMMAND (words) on NAME prints a line
# matching the extended regex PATTERN; returns 1 after 40 s, for a test that
# records a failure and goes on.
lab_poll() {
  local deadline=$((SECONDS + 40))
  # shellcheck disable=SC2086
  until grep -Eq "$3" <<<"$(lab_ctl "$1" $2 2>&1)"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1  # polling with a deadline: dial-backs to a NAT wait for their timeout
  done
}

# lab_wait NAME COMMAND PATTERN WHAT: lab_poll, failing the test with WHAT
# and COMMAND's last answer.
lab_wait() {
  # shellcheck disable=SC2086
  lab_poll "$1" "$2" "$3" || lab_fail "$4: $(lab_ctl "$1" $2 2>&1)"
}

# lab_run NS COMMAND...: runs a command inside a lab namespace.
lab_run() {
  local ns="$1"
  shift
  ip netns exec "$(lab_ns "$ns")" "$@"
}
