// The discovery wire format: `discover` requests and `discover_answer`
// replies, built and read here only, so the plugin never touches a raw field
// and every bound is in one place. Every answer comes from the network and
// may lie: reading returns nothing (or skips an entry) unless types and
// bounds hold.
#pragma once

#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/relay_address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pnet::discovery {

constexpr int kWholeNetwork = -1;  // depth: no hop limit
constexpr int64_t kMaxDepth = 64;  // more hops than any sane overlay needs
constexpr size_t kMaxRequestIdLength = 128;
constexpr size_t kMaxHostLength = 255;    // a DNS name at most
constexpr size_t kMaxListedNodes = 1000;  // per list in one answer (a node has max_connections peers)

// A node and the address it listens on, with its relay if it holds a place
// on one (then its own address may answer no dial).
struct NodeAddress {
  std::string id;
  std::string host;  // "" for a node reached only through its relay
  uint16_t port = 0;
  std::optional<RelayAddress> relay{};
};

struct DiscoverRequest {
  std::string id;
  int depth = kWholeNetwork;  // -1, or the hops still to travel (0 is read, never sent)
};

struct DiscoverAnswer {
  std::string request_id;
  NodeAddress node;  // the answering node
  std::vector<NodeAddress> outbound;
  std::vector<NodeAddress> inbound;
  std::vector<NodeAddress> relayed;  // peers linked through a relay: only the relay is known
  size_t invalid_entries = 0;        // list entries skipped as malformed
};

inline json make_request(const std::string& id, int depth) {
  return {{"type", "discover"}, {"id", id}, {"depth", depth}};
}

inline std::optional<DiscoverRequest> parse_request(const json& header) {
  auto id = fields::string(header, "id", kMaxRequestIdLength);
  auto depth = fields::integer(header, "depth", kWholeNetwork, kMaxDepth);
  if (!id || id->empty() || !depth) return std::nullopt;
  return DiscoverRequest{*id, static_cast<int>(*depth)};
}

inline json address_json(const NodeAddress& node) {
  json out = {{"id", node.id}};
  if (!node.host.empty()) {
    out["host"] = node.host;
    out["port"] = node.port;
  }
  if (node.relay) out["relay"] = relay_json(*node.relay);
  return out;
}

// "relayed_nodes" is read by nodes that know relays and skipped by older
// ones, which require every listed node to have an address of its own.
inline json make_answer(const std::string& request_id, const NodeAddress& self,
                        const std::vector<NodeAddress>& outbound, const std::vector<NodeAddress>& inbound,
                        const std::vector<NodeAddress>& relayed = {}) {
  auto list = [](const std::vector<NodeAddress>& nodes) {
    json out = json::array();
    for (size_t i = 0; i < nodes.size() && i < kMaxListedNodes; ++i) out.push_back(address_json(nodes[i]));
    return out;
  };
  json answer = {{"type", "discover_answer"},
                 {"id", request_id},
                 {"node_id", self.id},
                 {"host", self.host},
                 {"port", self.port},
                 {"outbound_nodes", list(outbound)},
                 {"inbound_nodes", list(inbound)}};
  if (self.relay) answer["relay"] = relay_json(*self.relay);
  if (!relayed.empty()) answer["relayed_nodes"] = list(relayed);
  return answer;
}

// A node id, a non-empty host and a listen port from 1 to 65535, and
// perhaps its relay.
inline std::optional<NodeAddress> parse_address(const json& object, const char* id_key) {
  auto id = fields::string(object, id_key, 64);
  auto host = fields::string(object, "host", kMaxHostLength);
  auto port = fields::integer(object, "port", 1, 65535);
  if (!id || !is_node_id(*id) || !host || host->empty() || !port) return std::nullopt;
  NodeAddress node{*id, *host, static_cast<uint16_t>(*port), std::nullopt};
  read_relay(object, node.id, node.relay);  // a malformed relay is left out: the address stands
  return node;
}

// A node listed only by its relay.
inline std::optional<NodeAddress> parse_relayed(const json& object) {
  auto id = fields::string(object, "id", 64);
  if (!id || !is_node_id(*id) || !object.contains("relay")) return std::nullopt;
  NodeAddress node{*id, "", 0, std::nullopt};
  if (!read_relay(object, node.id, node.relay)) return std::nullopt;
  return node;
}

// The request id alone: all a node on the reverse path needs.
inline std::optional<std::string> answer_request_id(const json& header) {
  auto id = fields::string(header, "id", kMaxRequestIdLength);
  if (!id || id->empty()) return std::nullopt;
  return id;
}

// The whole answer, for the node that asked. Nothing if the answering node
// itself is malformed; malformed list entries are skipped and counted.
inline std::optional<DiscoverAnswer> parse_answer(const json& header) {
  auto request_id = answer_request_id(header);
  auto node = parse_address(header, "node_id");
  if (!request_id || !node) return std::nullopt;
  DiscoverAnswer answer{*request_id, *node, {}, {}, {}, 0};
  auto read_list = [&](const char* key, std::vector<NodeAddress>& into, auto parse_entry) {
    auto it = header.find(key);
    if (it == header.end()) return;
    const json* list = fields::array(header, key, kMaxListedNodes);
    if (!list) {
      ++answer.invalid_entries;
      return;
    }
    for (const auto& entry : *list) {
      if (auto address = parse_entry(entry))
        into.push_back(std::move(*address));
      else
        ++answer.invalid_entries;
    }
  };
  auto with_address = [](const json& entry) { return parse_address(entry, "id"); };
  read_list("outbound_nodes", answer.outbound, with_address);
  read_list("inbound_nodes", answer.inbound, with_address);
  read_list("relayed_nodes", answer.relayed, parse_relayed);
  return answer;
}

}  // namespace p2pnet::discovery
