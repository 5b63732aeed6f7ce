// The node's control endpoint: a Unix socket (mode 0600) on which other
// programs run console commands and read their output as it comes. Each
// command runs exactly as if typed at the console, so every command a plugin
// registers is available remotely with no code in that plugin.
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
  ControlServer(Node& node, std::filesystem::path socket, size_t max_clients);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the socket (replacing a stale one: the data dir lock says no other
  // node uses it) and serves on a thread of its own. Throws StartupError.
  void start();
  // Closes every client and removes the socket. Call after the node stopped,
  // so no command still writes to a client.
  void stop();

  const std::filesystem::path& socket() const { return socket_; }

  // A node event (a peer joined or left, a plugin's notice) for the clients
  // that subscribed. Thread-safe; does nothing before start or after stop.
  void publish(std::string line);

 private:
  class Session;
  void accept_next();
  void forget(const std::shared_ptr<Session>& session);

  Node& node_;
  std::filesystem::path socket_;
  size_t max_clients_;
  asio::io_context io_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;  // only touched on thread_
  std::thread thread_;
  std::atomic<bool> started_{false};
};

}  // namespace p2pnet
