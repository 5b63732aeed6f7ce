// The node's control endpoint: a Unix socket (mode 0600), and optionally a
// TCP port on loopback guarded by a token, on which other programs run
// console commands and read their output as it comes. Each command runs
// exactly as if typed at the console, so every command a plugin registers is
// available remotely with no code in that plugin.
#pragma once

#include "p2pnet/node.hpp"

#include <asio.hpp>

#include <atomic>

#include <filesystem>
#include <memory>
#include <set>
#include <thread>

namespace p2pnet {

class ControlServer {
 public:
  // Serves config.control: its socket (or control.sock in the data dir) and,
  // with `tcp` set, that port with the token of node.toml or control.token.
  ControlServer(Node& node, const NodeConfig& config);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the socket (replacing a stale one: the data dir lock says no other
  // node uses it) and the TCP port, and serves on a thread of its own.
  // Throws StartupError.
  void start();
  // New commands are refused from now on; running ones still report. Call
  // before the node stops, so that no request reaches a stopping node.
  void stop_taking_commands();
  // Closes every client and removes the socket. Call after the node stopped,
  // so no command still writes to a client.
  void stop();

  const std::filesystem::path& socket() const { return socket_; }
  // "HOST:PORT" as bound (the real port when node.toml said 0), or "".
  std::string tcp_address() const;
  // Where TCP clients find the token; empty when node.toml sets it.
  const std::filesystem::path& token_file() const { return token_file_; }

  // A public event of the node (Node::set_public_event_sink) for the clients
  // that follow events. Thread-safe; does nothing before start or after stop.
  void publish(const std::string& event, const std::string& json_text);

 private:
  class Session;
  void bind_socket();
  void bind_tcp();
  template <class Acceptor>
  void accept_next(Acceptor& acceptor, bool needs_token);
  void forget(const std::shared_ptr<Session>& session);
  void count(const std::string& event);

  Node& node_;
  std::filesystem::path socket_;
  size_t max_clients_;
  std::string tcp_;
  std::string token_;
  std::filesystem::path token_file_;
  asio::io_context io_;
  asio::local::stream_protocol::acceptor local_acceptor_;
  asio::ip::tcp::acceptor tcp_acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;  // only touched on thread_
  bool taking_commands_ = true;                  // only touched on thread_
  bool stopping_ = false;                        // only touched on thread_
  asio::steady_timer flush_deadline_;
  std::thread thread_;
  std::atomic<bool> started_{false};
};

}  // namespace p2pnet
