#include "tls_peer.hpp"

#include "tls_identity.hpp"

namespace p2pnet::test {
namespace {

uint32_t get_u32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace

TlsPeer::TlsPeer(uint16_t port, const std::string& local_address)
    : key_(NodeKey::load_or_create({})), context_(make_tls_context(key_)) {
  asio::ip::tcp::socket socket(io_);
  if (!local_address.empty()) {
    socket.open(asio::ip::tcp::v4());
    socket.bind({asio::ip::make_address(local_address), 0});
  }
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(socket), *context_);
  stream_->handshake(asio::ssl::stream_base::client);
}

TlsPeer::TlsPeer(asio::ip::tcp::socket socket, const NodeKey& key)
    : key_(NodeKey::load_or_create({})), context_(make_tls_context(key)) {
  stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(socket), *context_);
  stream_->handshake(asio::ssl::stream_base::server);
}

bool TlsPeer::send_json(const nlohmann::json& header) { return send_frame(RawFrame{header.dump(), ""}); }

bool TlsPeer::send_frame(const RawFrame& frame) {
  std::error_code error;
  asio::write(*stream_, asio::buffer(encode_frame(frame.header, frame.body)), error);
  return !error;
}

std::optional<RawFrame> TlsPeer::read_frame() {
  std::error_code error;
  unsigned char prefix[8];
  asio::read(*stream_, asio::buffer(prefix), error);
  if (error) return std::nullopt;
  std::string header(get_u32(prefix), '\0'), body(get_u32(prefix + 4), '\0');
  asio::read(*stream_, asio::buffer(header), error);
  if (!error && !body.empty()) asio::read(*stream_, asio::buffer(body), error);
  if (error) return std::nullopt;
  return RawFrame{header, body};
}

std::optional<RawFrame> TlsPeer::read_frame_within(std::chrono::milliseconds timeout) {
  std::optional<RawFrame> result;
  unsigned char prefix[8];
  RawFrame frame;
  auto read_body = [&](const std::error_code& error, size_t) {
    if (!error) result = frame;
  };
  auto read_header = [&](const std::error_code& error, size_t) {
    if (error) return;
    asio::async_read(*stream_, asio::buffer(frame.body), read_body);
  };
  asio::async_read(*stream_, asio::buffer(prefix), [&](const std::error_code& error, size_t) {
    if (error) return;
    frame.header.resize(get_u32(prefix));
    frame.body.resize(get_u32(prefix + 4));
    asio::async_read(*stream_, asio::buffer(frame.header), read_header);
  });
  io_.restart();
  io_.run_for(timeout);
  if (!io_.stopped()) {
    std::error_code ignored;
    stream_->lowest_layer().cancel(ignored);
    io_.run();  // lets the cut-off handlers finish before the locals go
  }
  return result;
}

bool TlsPeer::wait_closed() {
  while (read_frame()) {
  }
  return true;
}

}  // namespace p2pnet::test
