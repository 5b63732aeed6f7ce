// The relay a node behind a router holds its place on, as answers on the
// wire carry it: {"id": NODE_ID, "host": IP, "port": LISTEN_PORT}. A plugin
// that tells others where this node is names Plugin::own_relay() this way,
// and one that hears it passes it to Plugin::remember_relay (ABI 1.4).
#pragma once

#include "p2pnet/fields.hpp"
#include "p2pnet/hex.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2pnet {

struct RelayAddress {
  std::string id;
  std::string host;
  uint16_t port = 0;
};

inline nlohmann::json relay_json(const RelayAddress& relay) {
  return {{"id", relay.id}, {"host", relay.host}, {"port", relay.port}};
}

// The optional "relay" member of `object`, about the node `node_id`: true
// with `into` empty when absent; false, `into` empty, when malformed or
// naming the node itself (a peer's answer may lie: checked like any field;
// what else the answer says may still stand).
inline bool read_relay(const nlohmann::json& object, std::string_view node_id, std::optional<RelayAddress>& into) {
  into.reset();
  if (!object.is_object()) return false;
  auto it = object.find("relay");
  if (it == object.end()) return true;
  auto id = fields::string(*it, "id", 64);
  auto host = fields::string(*it, "host", 255);
  auto port = fields::integer(*it, "port", 1, 65535);
  if (!id || !is_sha256_hex(*id) || *id == node_id || !host || host->empty() || !port) return false;
  into = RelayAddress{*id, *host, static_cast<uint16_t>(*port)};
  return true;
}

}  // namespace p2pnet
