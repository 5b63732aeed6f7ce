// A hand-driven TCP peer for wire-level tests: it writes whatever bytes a
// test wants and reads the node's frames with deadlines.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pnet::test {

struct RawFrame {
  std::string header;
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(header, nullptr, false); }
  std::string type() const;
};

std::string encode_frame(std::string_view header, std::string_view body = {});
std::string random_id();
nlohmann::json hello_json(const std::string& id, int protocol = 1, std::vector<std::string> types = {},
                          uint16_t port = 0);

class RawPeer {
 public:
  // Dials 127.0.0.1:port, from source_address (e.g. 127.0.0.2) if given.
  explicit RawPeer(uint16_t port, const std::string& source_address = "");
  ~RawPeer();
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  bool send_raw(std::string_view bytes);  // false once the node closed the socket
  bool send_frame(std::string_view header, std::string_view body = {});
  bool send_json(const nlohmann::json& header, std::string_view body = {});
  // Sends a hello and waits for the node's; returns the node's hello.
  std::optional<RawFrame> handshake(const std::string& id = random_id(), std::vector<std::string> types = {});

  std::optional<RawFrame> read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads (and keeps) frames until the node closes the connection.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::vector<RawFrame>& frames_seen() const { return seen_; }
  std::optional<RawFrame> last_bye() const;

 private:
  bool fill(size_t wanted, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
  std::vector<RawFrame> seen_;
};

}  // namespace p2pnet::test
