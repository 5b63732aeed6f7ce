#include "raw_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace p2pnet::test {
namespace {

void put_u32(std::string& out, uint32_t value) {
  out += static_cast<char>(value >> 24);
  out += static_cast<char>(value >> 16);
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value);
}

uint32_t get_u32(const std::string& in, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(in[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

}  // namespace

std::string RawFrame::type() const {
  auto j = json();
  if (j.is_object() && j.contains("type") && j["type"].is_string()) return j["type"];
  return "";
}

std::string encode_frame(std::string_view header, std::string_view body) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(header.size()));
  put_u32(out, static_cast<uint32_t>(body.size()));
  out += header;
  out += body;
  return out;
}

std::string random_id() {
  // One engine per thread: the hostile-peer harness calls this from many.
  thread_local std::mt19937_64 random{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 64; ++i) id += hex[random() % 16];
  return id;
}

nlohmann::json hello_json(const std::string& id, int protocol, std::vector<std::string> types, uint16_t port) {
  return {{"type", "hello"}, {"protocol", protocol}, {"id", id},           {"port", port},
          {"types", types},  {"agent", "raw-peer"}, {"max_header", 65536}, {"max_body", 1048576}};
}

RawPeer::RawPeer(uint16_t port, const std::string& source_address) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ >= 0 && !source_address.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_address.c_str(), &source.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0)
      throw std::runtime_error("RawPeer: cannot bind to " + source_address);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("RawPeer: cannot connect to port " + std::to_string(port));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawPeer::~RawPeer() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawPeer::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

bool RawPeer::send_frame(std::string_view header, std::string_view body) { return send_raw(encode_frame(header, body)); }

bool RawPeer::send_json(const nlohmann::json& header, std::string_view body) { return send_frame(header.dump(), body); }

std::optional<RawFrame> RawPeer::handshake(const std::string& id, std::vector<std::string> types) {
  if (!send_json(hello_json(id, 1, std::move(types)))) return std::nullopt;
  auto frame = read_frame();
  if (!frame || frame->type() != "hello") return std::nullopt;
  return frame;
}

bool RawPeer::fill(size_t wanted, std::chrono::steady_clock::time_point deadline) {
  char chunk[65536];
  while (buffer_.size() < wanted && !closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready <= 0) continue;
    ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      closed_ = true;
      break;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
  }
  return buffer_.size() >= wanted;
}

std::optional<RawFrame> RawPeer::read_frame(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!fill(8, deadline)) return std::nullopt;
  size_t header = get_u32(buffer_, 0);
  size_t body = get_u32(buffer_, 4);
  if (!fill(8 + header + body, deadline)) return std::nullopt;
  RawFrame frame{buffer_.substr(8, header), buffer_.substr(8 + header, body)};
  buffer_.erase(0, 8 + header + body);
  seen_.push_back(frame);
  return frame;
}

bool RawPeer::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_ && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    read_frame(left);
  }
  return closed_;
}

std::optional<RawFrame> RawPeer::last_bye() const {
  for (auto it = seen_.rbegin(); it != seen_.rend(); ++it)
    if (it->type() == "bye") return *it;
  return std::nullopt;
}

}  // namespace p2pnet::test
