// TLS over a TCP socket, with OpenSSL reading and writing the socket itself.
//
// Why not asio::ssl::stream: it keeps two 17 KiB buffers of its own plus a
// BIO pair per connection, about 70 KiB resident for every idle peer, and
// copies each record twice more. Here OpenSSL owns the only buffers, and
// SSL_MODE_RELEASE_BUFFERS gives them back while a connection is idle.
//
// The socket's reactor says when to retry an OpenSSL call that wants to read
// or write. Every OpenSSL call runs on the completion handler's executor (the
// connection's strand), so the SSL object is never used by two threads at once.
#pragma once

#include <openssl/ssl.h>
#include <asio.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <span>
#include <system_error>
#include <type_traits>
#include <vector>

namespace p2pnet {

// What a TlsStream's BIO reads and writes: the socket, whose descriptor is
// looked up on every call so a closed one is never used again, and whether
// the peer ended the stream.
struct TlsSocketState {
  asio::ip::tcp::socket* socket = nullptr;
  bool ended = false;
  // The first bytes the peer sent, so a failed handshake can tell a node
  // without TLS, or no p2pnet node at all, from a TLS error.
  std::array<std::byte, 32> first_bytes{};
  size_t first_bytes_size = 0;
};

class TlsStream {
 public:
  enum class Role { client, server };
  // Takes the connected socket. Throws std::system_error when OpenSSL cannot
  // make a session.
  TlsStream(asio::ip::tcp::socket socket, SSL_CTX* context, Role role);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  asio::ip::tcp::socket& socket() { return socket_; }
  SSL* native_handle() { return ssl_; }
  std::span<const std::byte> first_bytes_received() const;

  // handler(error)
  template <class Handler>
  void async_handshake(Handler handler) {
    drive([this](size_t&) { return handshake_step(); }, std::move(handler), true);
  }
  // handler(error, bytes): some plaintext into `buffer`; eof when the peer closed.
  template <class Handler>
  void async_read_some(asio::mutable_buffer buffer, Handler handler) {
    drive([this, buffer](size_t& bytes) { return read_step(buffer, bytes); }, std::move(handler), true);
  }
  // handler(error, bytes): all of `buffers`, which must stay alive and
  // unchanged until then. Small buffers share records. After an error the
  // stream is done: OpenSSL may still hold part of a record, so no write may follow.
  // Called each time a record reaches the socket during a write, so an owner
  // can tell a slow reader from one that reads nothing.
  void on_write_progress(std::function<void()> callback) { write_progress_ = std::move(callback); }

  template <class Handler>
  void async_write(std::span<const asio::const_buffer> buffers, Handler handler) {
    begin_write(buffers);
    drive([this](size_t& bytes) { return write_step(bytes); }, std::move(handler), true);
  }

 private:
  enum class Step { done, want_read, want_write };
  struct Outcome {
    Step step = Step::done;
    std::error_code error;
  };

  Outcome handshake_step();
  Outcome read_step(asio::mutable_buffer buffer, size_t& bytes);
  void begin_write(std::span<const asio::const_buffer> buffers);
  Outcome write_step(size_t& bytes);
  // After an OpenSSL call that returned `result` (<= 0): what it waits for.
  Outcome classify(int result);
  asio::const_buffer next_write_piece();

  // Retries `attempt` each time the socket is ready for what it wants, then
  // completes. A completion from inside the initiating call is posted, so a
  // handler that starts the next operation cannot recurse without bound.
  template <class Attempt, class Handler>
  void drive(Attempt attempt, Handler handler, bool initiating) {
    size_t bytes = 0;
    Outcome outcome = attempt(bytes);
    auto executor = asio::get_associated_executor(handler, socket_.get_executor());
    if (outcome.step == Step::done) {
      auto complete = [handler = std::move(handler), error = outcome.error, bytes]() mutable {
        if constexpr (std::is_invocable_v<Handler&, std::error_code>)
          handler(error);
        else
          handler(error, bytes);
      };
      if (initiating)
        asio::post(executor, std::move(complete));
      else
        complete();
      return;
    }
    auto wait = outcome.step == Step::want_read ? asio::socket_base::wait_read : asio::socket_base::wait_write;
    socket_.async_wait(wait,
                       asio::bind_executor(executor, [this, attempt = std::move(attempt),
                                                      handler = std::move(handler)](std::error_code error) mutable {
                         // Closed while this completion waited its turn on the strand: the
                         // descriptor may already belong to another connection.
                         if (!error && socket_.is_open()) return drive(std::move(attempt), std::move(handler), false);
                         if (!error) error = asio::error::operation_aborted;
                         if constexpr (std::is_invocable_v<Handler&, std::error_code>)
                           handler(error);
                         else
                           handler(error, size_t{0});
                       }));
  }

  asio::ip::tcp::socket socket_;
  TlsSocketState bio_state_{&socket_};
  SSL* ssl_ = nullptr;

  // The write in progress.
  std::span<const asio::const_buffer> write_buffers_;
  size_t write_index_ = 0;          // buffer being written
  size_t write_offset_ = 0;         // bytes of it already written
  size_t write_total_ = 0;          // plaintext bytes written so far
  asio::const_buffer pending_;      // handed to SSL_write, which wants it again until it succeeds
  std::vector<std::byte> staging_;  // small buffers gathered into one record
  std::function<void()> write_progress_;
};

}  // namespace p2pnet
