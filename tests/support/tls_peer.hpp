// A hand-driven TLS peer with its own node key, for identity tests: it can
// claim any id in its hello, or relay another node's frames.
#pragma once

#include "node_key.hpp"
#include "raw_peer.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace p2pnet::test {

class TlsPeer {
 public:
  // Dials 127.0.0.1:port and runs the TLS handshake as a client, from
  // local_address when one is given (e.g. 127.0.0.2: another peer address).
  explicit TlsPeer(uint16_t port, const std::string& local_address = "");
  // Takes an accepted socket and runs the handshake as a server.
  TlsPeer(asio::ip::tcp::socket socket, const NodeKey& key);

  const std::string& key_id() const { return key_.id(); }
  bool send_json(const nlohmann::json& header);
  bool send_frame(const RawFrame& frame);
  std::optional<RawFrame> read_frame();  // nothing once the node closed it
  // Nothing as well when no whole frame came within `timeout`; the peer is
  // of no further use then (a TLS read was cut off).
  std::optional<RawFrame> read_frame_within(std::chrono::milliseconds timeout);
  bool wait_closed();

 private:
  NodeKey key_;
  asio::io_context io_;
  std::unique_ptr<asio::ssl::context> context_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
};

}  // namespace p2pnet::test
