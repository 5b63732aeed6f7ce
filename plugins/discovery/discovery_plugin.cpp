// discovery: finds the nodes of the network by flooding a `discover` request
// with a hop limit. Every node answers the peer it got the request from and
// passes it on once; answers travel back along the path the request came,
// so only the node that asked sees them. What it learns goes into the
// node's peer store and onto the bus.
#include "discovery_messages.hpp"
#include "relay_depths.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/flood_table.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/printable.hpp>
#include <p2pnet/rare_warnings.hpp>
#include <p2pnet/request_budgets.hpp>
#include <p2pnet/settings.hpp>
#include <p2pnet/token_buckets.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <unordered_set>

namespace {

using p2pnet::RelayAddress;
using p2pnet::discovery::kMaxDepth;
using p2pnet::discovery::kWholeNetwork;
using p2pnet::discovery::NodeAddress;

constexpr size_t kMaxOwnRequests = 16;          // discoveries this node tracks at once
constexpr size_t kMaxFoundPerRequest = 100000;  // answering nodes one request keeps
constexpr size_t kMaxConnectCandidates = 1000;  // for target_peers
constexpr uint64_t kSweepIntervalMs = 30000;    // how often idle tables are expired
constexpr const char* kDepthRule = "DEPTH is -1 (the whole network) or 1 to 64";

std::optional<int> parse_depth(const std::string& text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value != kWholeNetwork && (value < 1 || value > kMaxDepth)) return std::nullopt;
  return value;
}

bool is_wildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

class DiscoveryPlugin : public p2pnet::Plugin {
 public:
  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "discovery");
    default_depth_ = static_cast<int>(settings.integer("default_depth", kWholeNetwork, kWholeNetwork, kMaxDepth));
    if (default_depth_ == 0)
      throw std::invalid_argument("plugins.discovery.default_depth: expected -1 or 1 to 64, got 0");
    answer_wait_ms_ = static_cast<uint64_t>(settings.integer("answer_wait_ms", 5000, 10, 600000));
    answer_quiet_ms_ = static_cast<uint64_t>(settings.integer("answer_quiet_ms", 1000, 10, 600000));
    target_peers_ = static_cast<size_t>(settings.integer("target_peers", 0, 0, 100000));
    max_entries_per_answer_ = static_cast<size_t>(settings.integer("max_entries_per_answer", 256, 1, 2001));
    max_answers_per_request_ = static_cast<size_t>(settings.integer("max_answers_per_request", 2000, 1, 100000));
    auto seen_max = settings.integer("seen_ids_max", 10000, 16, 10000000);
    auto seen_ttl_ms = settings.integer("seen_ids_ttl_ms", 300000, 1000, 86400000);
    auto seen_ids_per_peer = static_cast<size_t>(settings.integer("seen_ids_per_peer", 1000, 1, 10000000));
    max_answer_nodes_ = static_cast<size_t>(
        settings.integer("max_answer_nodes", 32, 0, static_cast<int64_t>(p2pnet::discovery::kMaxListedNodes)));
    auto per_peer = settings.integer("max_requests_per_s_per_peer", 10, 0, 1000000);
    auto per_address = settings.integer("max_requests_per_s_per_address", 20, 0, 1000000);
    auto relayed_per_address = settings.integer("max_relayed_per_s_per_address", 5, 0, 1000000);
    max_unread_bytes_ = static_cast<size_t>(settings.integer("max_unread_answer_bytes", 1048576, 0, int64_t{1} << 40));
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");
    seen_ = std::make_unique<p2pnet::FloodTable>(static_cast<size_t>(seen_max), std::chrono::milliseconds(seen_ttl_ms));
    // A burst of one second's worth: a whole-network discover reaches a node
    // once per unique id, so honest traffic never comes close.
    budgets_ = std::make_unique<p2pnet::RequestBudgets>(static_cast<double>(per_peer), static_cast<double>(per_address),
                                                        seen_ids_per_peer);
    relayed_per_address_ = std::make_unique<p2pnet::TokenBuckets>(static_cast<double>(relayed_per_address),
                                                                  static_cast<double>(relayed_per_address));

    handle("discover", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_request(peer, m); });
    handle("discover_answer", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_answer(peer, m); });
    command("discover", "discover [DEPTH]", "find nodes up to DEPTH hops away (-1: the whole network)",
            [this](p2pnet::Command& cmd) { run_discover_command(cmd); });
  }

  void on_start() override {
    every(kSweepIntervalMs, [this] {
      seen_->expire();
      forget_expired();
      budgets_->sweep();
      relayed_per_address_->sweep();
    });
  }

  void on_peer_disconnected(const p2pnet::PeerRef& peer, std::string_view) override {
    budgets_->forget_peer(std::string(peer.id()));
    top_up_peers();
  }

 private:
  // A discovery this node started, and the console command waiting on it.
  struct OwnRequest {
    std::optional<p2pnet::Command> command;
    std::unordered_set<std::string> found;  // nodes that answered
    size_t answers = 0;                     // taken in, up to max_answers_per_request
    p2pnet::TimerId wait_timer = 0;
    p2pnet::TimerId quiet_timer = 0;
  };

  // --- A request from a peer ---------------------------------------------------

  void on_request(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    auto request = p2pnet::discovery::parse_request(message.header);
    if (!request) return count("malformed");
    std::string from(peer.id());
    if (seen_->origin(request->id)) return on_repeat(*request, peer);
    if (request->depth == 0) return count("depth_exhausted");  // relays never send 0; a peer that does gets nothing
    // Only a request new to this node costs the peer anything: a repeat is
    // dropped above for free, so honest copies arriving over several paths
    // never use up a budget.
    if (!within_budget(peer)) return;
    int remaining = request->depth == kWholeNetwork ? kWholeNetwork : request->depth - 1;
    if (seen_->size() >= seen_->capacity()) count("seen_ids_evicted");  // the oldest makes room
    seen_->record(request->id, from);
    if (remaining != kWholeNetwork) relay_depths_.add(request->id, remaining);
    forget_expired();

    answer(peer, request->id);
    if (remaining == 0) return;
    // What one address asks is passed on at a lower rate than a neighbour
    // accepts from this node, so one flooder cannot spend the budget that
    // every other request crossing that link needs.
    if (!relayed_per_address_->take(std::string(peer.host()))) return count("requests_not_relayed");
    relay(request->id, remaining, from, "relayed");
  }

  // Charges a new request to the peer's and its address's budgets, and
  // keeps the peer within its share of the seen-id table, so one peer (or
  // many connections from one address) can neither make this node flood the
  // network nor evict the ids that route other peers' answers.
  bool within_budget(const p2pnet::PeerRef& peer) {
    std::string id(peer.id()), address(peer.host());
    const char* refused = budgets_->charge(id, address, seen_->held_by(id));
    if (!refused) return true;
    count("requests_throttled");
    if (throttled_.note())
      warn("throttled: dropped a discover from " + id + " at " + address + ": " + refused + " (" +
           std::to_string(throttled_.count()) + " dropped so far)");
    return false;
  }

  // A peer that leaves its answers unread gets no more: what it has not read
  // is all the memory it may hold here.
  bool reads_its_answers(const std::string& peer_id) {
    if (max_unread_bytes_ == 0) return true;
    return queued_bytes(peer_id) <= max_unread_bytes_;
  }

  void answer(const p2pnet::PeerRef& peer, const std::string& request_id) {
    std::string from(peer.id());
    if (!reads_its_answers(from)) return count("answers_withheld");
    std::vector<NodeAddress> outbound, inbound, relayed;
    list_peers(outbound, inbound, relayed);
    int status = send(from, p2pnet::discovery::make_answer(request_id, self_address(peer), outbound, inbound, relayed));
    count(status == P2PNET_OK ? "answers_sent" : "answers_unsent");
  }

  // A request seen before is dropped, unless it now has more hops left than
  // the copy this node took on: then it goes on once more, with the larger
  // depth, and is not answered again. Going on again is a relay like any
  // other, charged to the sender's address, or one paid request resent with
  // depth 2, 3, ... would buy a flood per step.
  void on_repeat(const p2pnet::discovery::DiscoverRequest& request, const p2pnet::PeerRef& peer) {
    int remaining = request.depth > 0 ? request.depth - 1 : 0;
    if (remaining > 0 && relay_depths_.raise(request.id, remaining)) {
      if (!relayed_per_address_->take(std::string(peer.host()))) return count("requests_not_relayed");
      return relay(request.id, remaining, std::string(peer.id()), "relayed_deeper");
    }
    count("duplicates_dropped");
  }

  void relay(const std::string& id, int depth, const std::string& from, const char* counter) {
    int sent = broadcast(p2pnet::discovery::make_request(id, depth), {from});
    if (sent <= 0) return;
    count(counter);
    count("discover_messages_sent", sent);
  }

  // Where this node listens, as the peer that asked can reach it: the
  // connection's own address when the node listens on every interface. A
  // node holding a place on a relay names it: others reach it through there.
  NodeAddress self_address(const p2pnet::PeerRef& asking) {
    std::string host = listen_host();
    if (is_wildcard(host)) host = std::string(asking.local_host());
    NodeAddress self{node_id(), host, listen_port(), std::nullopt};
    if (auto relay = own_relay()) self.relay = RelayAddress{relay->id, relay->host, relay->port};
    return self;
  }

  // Connected peers by their listen addresses: the port from their hello,
  // never an inbound socket's source port. At most max_answer_nodes of them,
  // a fresh random sample each time, so a small request never buys a large
  // answer and repeated asking still spreads every peer's address. A peer
  // reached through a relay is listed by that relay: the address its link
  // comes from is the relay's.
  void list_peers(std::vector<NodeAddress>& outbound, std::vector<NodeAddress>& inbound,
                  std::vector<NodeAddress>& relayed) {
    auto all = peers();
    // Nobody can reach a direct peer that does not listen (a relayed one
    // shows no port: its relay's address is all we know).
    std::erase_if(all, [](const p2pnet::Peer& peer) { return peer.port == 0 && peer.relayed_via.empty(); });
    if (all.size() > max_answer_nodes_) {
      std::shuffle(all.begin(), all.end(), random_);
      all.resize(max_answer_nodes_);
    }
    for (auto& peer : all) {
      if (peer.relayed_via.empty()) {
        (peer.inbound ? inbound : outbound).push_back({std::move(peer.id), std::move(peer.host), peer.port, {}});
        continue;
      }
      // Only a peer this node called through a relay holds a place there.
      if (peer.inbound) continue;
      auto relay = this->peer(peer.relayed_via);
      if (relay && relay->port != 0)
        relayed.push_back({std::move(peer.id), "", 0, RelayAddress{relay->id, relay->host, relay->port}});
    }
  }

  // --- An answer ---------------------------------------------------------------

  void on_answer(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    auto id = p2pnet::discovery::answer_request_id(message.header);
    if (!id) return count("malformed");
    auto origin = seen_->origin(*id);
    if (!origin) {
      count("unknown_answers");
      if (unknown_answers_.note())
        warn("suspicious: dropped a discover_answer from " + std::string(peer.id()) +
             " for a request this node never saw (" + std::to_string(unknown_answers_.count()) + " so far)");
      return;
    }
    if (origin->empty()) return on_own_answer(std::string(peer.id()), message.header);
    if (*origin == peer.id()) return count("misrouted_answers");  // answers never come from where the request did
    if (!reads_its_answers(*origin)) return count("answers_withheld");
    int status = send(*origin, message.header);
    count(status == P2PNET_OK ? "answers_forwarded" : "answers_undeliverable");
  }

  // An answer to this node's own request, passed on by `from`. Everything in
  // it is hearsay: bounded per answer and per request, and the core decides
  // which addresses it stores.
  void on_own_answer(const std::string& from, const p2pnet::json& header) {
    auto answer = p2pnet::discovery::parse_answer(header);
    if (!answer) return count("malformed");
    auto it = own_requests_.find(answer->request_id);
    if (it == own_requests_.end() || it->second.answers >= max_answers_per_request_) {
      count("answers_dropped");  // forgotten, or more answers than any honest network sends
      return warn_rarely("dropped a discover_answer from " + from +
                         ": its request is forgotten or has max_answers_per_request answers");
    }
    auto& request = it->second;
    ++request.answers;
    if (answer->invalid_entries) count("invalid_entries", static_cast<int64_t>(answer->invalid_entries));
    auto self = node_id();
    if (answer->node.id == self) {  // this node does not answer itself
      count("answers_received");
      return count("malformed");
    }
    size_t rejected = learn(answer->node, self) ? 0 : 1;
    size_t taken = 1;
    for (const auto* list : {&answer->outbound, &answer->inbound, &answer->relayed})
      for (const auto& node : *list) {
        if (taken++ >= max_entries_per_answer_) {
          count("entries_dropped");
          continue;
        }
        if (!learn(node, self)) ++rejected;
      }
    if (rejected > 0)
      warn_rarely("rejected " + std::to_string(rejected) + " addresses in a discover_answer from " + from + " (node " +
                  answer->node.id + "): not numeric, unspecified, multicast, loopback, or proven wrong");
    if (taken > max_entries_per_answer_)
      warn_rarely("a discover_answer from " + from + " listed " + std::to_string(taken) +
                  " nodes; kept max_entries_per_answer (" + std::to_string(max_entries_per_answer_) + ")");
    // Counted once its addresses are stored and its refusals counted, so whoever
    // sees the count also finds them in the peer store and the other counters.
    count("answers_received");

    if (request.command) rearm_quiet_timer(answer->request_id, request);
    if (request.found.size() >= kMaxFoundPerRequest || !request.found.insert(answer->node.id).second) return;
    count("nodes_found");
    const auto& node = answer->node;
    if (request.command)
      request.command->print("found " + p2pnet::printable(node.id) + " " + p2pnet::printable(node.host) + ":" +
                             std::to_string(node.port));
    publish("discovery.node_found",
            {{"id", node.id}, {"host", node.host}, {"port", node.port}, {"request", answer->request_id}});
  }

  // Puts a node an answer named into the peer store, and among the nodes to
  // connect to if target_peers asks for more peers.
  // False when the node refused the address.
  bool learn(const NodeAddress& node, const std::string& self) {
    if (node.id == self) return true;
    if (!node.host.empty() && remember_node(node.id, node.host, node.port) != P2PNET_OK) {
      count("invalid_entries");
      return false;
    }
    if (node.relay) {
      // A relay the node refuses (an address no dial may reach) leaves the node's own address standing.
      int status = remember_relay(node.id, node.relay->id, node.relay->host, node.relay->port);
      if (status == P2PNET_OK) count("relays_learned");
      if (status == P2PNET_ERR_INVALID) count("relays_rejected");
      if (node.host.empty() && status != P2PNET_OK) return false;
    }
    if (target_peers_ == 0 || !candidate_ids_.insert(node.id).second) return true;
    if (candidates_.size() >= kMaxConnectCandidates) {
      candidate_ids_.erase(candidates_.front());
      candidates_.pop_front();
    }
    candidates_.push_back(node.id);
    top_up_peers();
    return true;
  }

  // A warning at most for the 1st to 10th time, then at powers of two.
  void warn_rarely(const std::string& text) {
    if (answer_warnings_.note())
      warn("suspicious: " + text + " (" + std::to_string(answer_warnings_.count()) + " such warnings so far)");
  }

  // --- target_peers --------------------------------------------------------------

  void top_up_peers() {
    // A connect that fails at once reports from inside connect_to: no recursion.
    if (target_peers_ == 0 || candidates_.empty() || topping_up_) return;
    topping_up_ = true;
    std::unordered_set<std::string> connected;
    for (const auto& peer : peers()) connected.insert(peer.id);
    while (connected.size() + connecting_.size() < target_peers_ && !candidates_.empty()) {
      std::string id = std::move(candidates_.front());
      candidates_.pop_front();
      candidate_ids_.erase(id);
      if (connected.count(id) || !connecting_.insert(id).second) continue;
      count("target_connects");
      connect_to(id, [this, id](std::optional<std::string> peer_id, std::string error) {
        connecting_.erase(id);
        if (!peer_id) {
          count("target_connect_failures");
          debug("target_peers: cannot connect to " + id + ": " + error);
        }
        top_up_peers();
      });
    }
    topping_up_ = false;
  }

  // --- The console -----------------------------------------------------------

  void run_discover_command(p2pnet::Command& cmd) {
    const auto& args = cmd.args();
    std::optional<int> depth = default_depth_;
    if (args.size() > 1 || (args.size() == 1 && !(depth = parse_depth(args[0])))) {
      cmd.print(std::string("usage: discover [DEPTH] (") + kDepthRule + ")");
      return cmd.done(2);
    }
    size_t running = 0;
    for (const auto& [id, request] : own_requests_) running += request.command.has_value();
    if (running >= kMaxOwnRequests) {
      cmd.print("error: " + p2pnet::counted(running, "discovery", "discoveries") + (running == 1 ? " is" : " are") +
                " still running; try again shortly");
      return cmd.done(1);
    }

    std::string id = node_id() + ":" + std::to_string(next_request_++);
    seen_->record(id, "");
    forget_expired();
    int sent = broadcast(p2pnet::discovery::make_request(id, *depth));
    if (sent <= 0) {
      cmd.print("no connected peer handles discover");
      cmd.print("discovered " + p2pnet::counted(0, "node"));
      return;
    }
    count("requests_sent");
    count("discover_messages_sent", sent);
    while (own_requests_.size() >= kMaxOwnRequests) drop_oldest_finished_request();
    own_order_.push_back(id);
    auto& request = own_requests_[id];
    request.command = cmd.keep();
    request.wait_timer = after(answer_wait_ms_, [this, id] { finish(id); });
    rearm_quiet_timer(id, request);
  }

  // Ends the command once answers stop coming for answer_quiet_ms.
  void rearm_quiet_timer(const std::string& id, OwnRequest& request) {
    if (request.quiet_timer) cancel(request.quiet_timer);
    request.quiet_timer = after(answer_quiet_ms_, [this, id] { finish(id); });
  }

  void finish(const std::string& id) {
    auto it = own_requests_.find(id);
    if (it == own_requests_.end() || !it->second.command) return;
    auto& request = it->second;
    cancel(request.wait_timer);
    cancel(request.quiet_timer);
    request.wait_timer = request.quiet_timer = 0;
    request.command->print("discovered " + p2pnet::counted(static_cast<long long>(request.found.size()), "node"));
    request.command->done(0);
    request.command.reset();
  }

  void drop_oldest_finished_request() {
    for (auto it = own_order_.begin(); it != own_order_.end(); ++it) {
      auto request = own_requests_.find(*it);
      if (request != own_requests_.end() && request->second.command) continue;
      own_requests_.erase(*it);
      own_order_.erase(it);
      return;
    }
  }

  // Drops what belongs to ids the seen-id table has forgotten, and keeps the
  // `seen_ids` counter equal to the table's size.
  void forget_expired() {
    auto known = [this](const std::string& id) { return seen_->origin(id).has_value(); };
    relay_depths_.prune(known);
    while (!own_order_.empty() && !known(own_order_.front())) {
      auto it = own_requests_.find(own_order_.front());
      if (it != own_requests_.end() && it->second.command) break;  // its command ends soon; then it goes
      if (it != own_requests_.end()) own_requests_.erase(it);
      own_order_.pop_front();
    }
    auto size = static_cast<int64_t>(seen_->size());
    if (size != reported_seen_size_) count("seen_ids", size - reported_seen_size_);
    reported_seen_size_ = size;
  }

  int default_depth_ = kWholeNetwork;
  uint64_t answer_wait_ms_ = 5000;
  uint64_t answer_quiet_ms_ = 1000;
  size_t target_peers_ = 0;
  size_t max_answer_nodes_ = 32;
  size_t max_unread_bytes_ = 1048576;
  size_t max_entries_per_answer_ = 256;
  size_t max_answers_per_request_ = 2000;
  p2pnet::RareWarnings answer_warnings_;
  std::unique_ptr<p2pnet::FloodTable> seen_;
  std::unique_ptr<p2pnet::RequestBudgets> budgets_;
  std::unique_ptr<p2pnet::TokenBuckets> relayed_per_address_;
  p2pnet::RareWarnings throttled_;
  std::mt19937_64 random_{std::random_device{}()};
  p2pnet::discovery::RelayDepths relay_depths_;
  std::map<std::string, OwnRequest> own_requests_;
  std::deque<std::string> own_order_;
  uint64_t next_request_ = std::mt19937_64{std::random_device{}()}() >> 16;  // no reuse across restarts
  int64_t reported_seen_size_ = 0;
  p2pnet::RareWarnings unknown_answers_;
  std::deque<std::string> candidates_;  // nodes to connect to, oldest first, each once
  std::unordered_set<std::string> candidate_ids_;
  std::unordered_set<std::string> connecting_;
  bool topping_up_ = false;
};

}  // namespace

P2PNET_PLUGIN(DiscoveryPlugin, "discovery", "1.0.0", "finds the nodes of the network (discover, discover_answer)")
