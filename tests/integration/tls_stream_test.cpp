// The node's own TLS layer against Asio's stock TLS stream on loopback: bytes
// arrive intact and in order both ways, a peer that vanishes ends the stream
// cleanly, and writing to a vanished peer is an error, never SIGPIPE.
#include "tls_stream.hpp"
#include "node_key.hpp"
#include "tls_identity.hpp"

#include <asio/ssl.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <functional>
#include <random>
#include <thread>

using namespace p2pnet;
using asio::ip::tcp;

namespace {

// Our TlsStream as the server, Asio's ssl::stream as the client, shaken hands.
struct TlsPair {
  asio::io_context io;
  NodeKey server_key = NodeKey::load_or_create({});
  NodeKey client_key = NodeKey::load_or_create({});
  std::unique_ptr<asio::ssl::context> server_context = make_tls_context(server_key);
  std::unique_ptr<asio::ssl::context> client_context = make_tls_context(client_key);
  std::unique_ptr<TlsStream> ours;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> theirs;

  TlsPair() {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    ours = std::make_unique<TlsStream>(acceptor.accept(), server_context->native_handle(), TlsStream::Role::server);
    theirs = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(client), *client_context);
    std::error_code ours_error, theirs_error;
    ours->async_handshake([&](const std::error_code& error) { ours_error = error; });
    std::thread client_side([&] { theirs->handshake(asio::ssl::stream_base::client, theirs_error); });
    io.run();
    io.restart();
    client_side.join();
    REQUIRE_FALSE(ours_error);
    REQUIRE_FALSE(theirs_error);
  }
};

std::string random_bytes(size_t size, unsigned seed) {
  std::mt19937 engine(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(engine());
  return out;
}

}  // namespace

TEST_CASE("TlsStream writes a batch of small and large buffers intact and in order", "[tls]") {
  TlsPair pair;
  std::vector<std::string> pieces;
  for (unsigned i = 0; i < 300; ++i) pieces.push_back(random_bytes(1 + i % 200, i));
  pieces.push_back(random_bytes(1 << 20, 1000));  // far more than the socket buffer: the write must wait
  for (unsigned i = 0; i < 300; ++i) pieces.push_back(random_bytes(1 + i % 5000, 2000 + i));
  std::vector<asio::const_buffer> buffers;
  std::string expected;
  for (const auto& piece : pieces) {
    buffers.emplace_back(piece.data(), piece.size());
    expected += piece;
  }

  std::string received(expected.size(), '\0');
  std::error_code read_error, write_error;
  size_t written = 0;
  std::thread reader([&] { asio::read(*pair.theirs, asio::buffer(received), read_error); });
  pair.ours->async_write(buffers, [&](const std::error_code& error, size_t bytes) {
    write_error = error;
    written = bytes;
  });
  pair.io.run();
  reader.join();
  CHECK_FALSE(write_error);
  CHECK_FALSE(read_error);
  CHECK(written == expected.size());
  CHECK(received == expected);
}

TEST_CASE("TlsStream reads everything a peer sent, then eof when it closes without close_notify", "[tls]") {
  TlsPair pair;
  std::string sent = random_bytes(3 << 20, 7);
  std::thread writer([&] {
    std::error_code ignored;
    asio::write(*pair.theirs, asio::buffer(sent), ignored);
    pair.theirs->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    pair.theirs->next_layer().close(ignored);
  });
  std::string received;
  std::error_code end;
  std::vector<char> buffer(7000);
  std::function<void()> read_next = [&] {
    pair.ours->async_read_some(asio::buffer(buffer), [&](const std::error_code& error, size_t bytes) {
      received.append(buffer.data(), bytes);
      if (error) {
        end = error;
        return;
      }
      read_next();
    });
  };
  read_next();
  pair.io.run();
  writer.join();
  CHECK(received == sent);
  CHECK(end == asio::error::eof);
}

TEST_CASE("TlsStream writing to a peer that has gone reports an error instead of raising SIGPIPE", "[tls]") {
  // SIGPIPE's default action ends the process: an embedding application
  // must not die because a peer went away.
  auto previous = std::signal(SIGPIPE, SIG_DFL);
  TlsPair pair;
  std::error_code ignored;
  pair.theirs->next_layer().close(ignored);
  std::string chunk = random_bytes(1 << 20, 3);
  std::vector<asio::const_buffer> buffers{asio::buffer(chunk)};
  std::error_code write_error;
  for (int attempt = 0; attempt < 64 && !write_error; ++attempt) {
    pair.ours->async_write(buffers, [&](const std::error_code& error, size_t) { write_error = error; });
    pair.io.run();
    pair.io.restart();
  }
  std::signal(SIGPIPE, previous);
  CHECK(write_error);
}

TEST_CASE("TlsStream read waiting when its socket closes ends as aborted and reads no more", "[tls]") {
  TlsPair pair;
  std::error_code first, second;
  std::vector<char> buffer(100);
  pair.ours->async_read_some(asio::buffer(buffer), [&](const std::error_code& error, size_t) {
    first = error;
    pair.ours->async_read_some(asio::buffer(buffer), [&](const std::error_code& again, size_t) { second = again; });
  });
  asio::post(pair.io, [&] { pair.ours->socket().close(); });
  pair.io.run();
  CHECK(first == asio::error::operation_aborted);
  CHECK(second);
  CHECK(second != asio::error::eof);
}
