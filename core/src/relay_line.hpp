// The one line each side of a relay circuit writes before the circuit
// carries the two ends' own bytes. Read a byte at a time: whatever follows
// the newline (the far end's TLS) must stay in the socket for whoever takes
// it next.
#pragma once

#include "wire/relay.hpp"

#include <asio.hpp>

#include <functional>
#include <memory>
#include <string>

namespace p2pnet {

using RelayLineDone = std::function<void(const std::error_code& error, const std::string& line)>;

namespace detail {
struct RelayLineRead {
  std::shared_ptr<asio::ip::tcp::socket> socket;
  std::string line;
  char byte = 0;
  RelayLineDone done;
};

inline void read_relay_byte(std::shared_ptr<RelayLineRead> read) {
  auto& socket = *read->socket;
  asio::async_read(socket, asio::buffer(&read->byte, 1), [read](const std::error_code& error, size_t) {
    if (error) return read->done(error, "");
    if (read->byte == '\n') return read->done({}, read->line);
    if (read->line.size() + 1 >= wire::kMaxRelayLineBytes) return read->done(asio::error::message_size, "");
    read->line += read->byte;
    read_relay_byte(read);
  });
}
}  // namespace detail

// Reads up to and without the '\n'; asio::error::message_size when the line
// is longer than wire::kMaxRelayLineBytes. The caller bounds the time.
inline void read_relay_line(std::shared_ptr<asio::ip::tcp::socket> socket, RelayLineDone done) {
  detail::read_relay_byte(
      std::make_shared<detail::RelayLineRead>(detail::RelayLineRead{std::move(socket), {}, 0, std::move(done)}));
}

// Writes the whole line; done(error).
inline void write_relay_line(std::shared_ptr<asio::ip::tcp::socket> socket, std::string line,
                             std::function<void(const std::error_code&)> done) {
  auto text = std::make_shared<std::string>(std::move(line));
  asio::async_write(*socket, asio::buffer(*text),
                    [socket, text, done = std::move(done)](const std::error_code& error, size_t) { done(error); });
}

}  // namespace p2pnet
