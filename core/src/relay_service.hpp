// The relay service: nodes that cannot be dialed hold a reservation on this
// node over their own link to it; a fresh connection that asks for one of
// them (wire/relay.hpp) waits while the reserved node is told, over that
// link, to open a second connection with a one-time token; the two sockets
// are then spliced byte for byte. The two ends run their own TLS through the
// splice, so the relay sees only ciphertext and can pose as neither.
// Everything is bounded: reservations, circuits (waiting ones included),
// openings being read, and each circuit's bytes and lifetime.
#pragma once

#include "logger.hpp"

#include "p2pnet/config.hpp"

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace p2pnet {

class Connection;

class RelayService : public std::enable_shared_from_this<RelayService> {
 public:
  struct Node {
    std::function<bool()> enabled;  // the service is on now (relay_service, or auto and public)
    std::function<std::shared_ptr<Connection>(const std::string& peer_id)> peer;
    std::function<void(const std::string& event)> count;
  };
  struct Summary {
    size_t reservations = 0;
    size_t circuits = 0;  // linked and waiting
    uint64_t bytes = 0;   // carried by every circuit so far
  };

  RelayService(const RelayConfig& config, std::chrono::milliseconds opening_timeout, asio::io_context& io,
               std::shared_ptr<Logger> log, Node node);

  // A peer asks to hold a place: "" when granted, else why not.
  std::string reserve(const std::shared_ptr<Connection>& peer);
  bool holds(const std::string& peer_id) const;
  // The peer's link closed: its reservation ends.
  void release(const std::string& peer_id);
  // The service turned off: every reservation ends; returns whose they were
  // (the node tells each holder, which then looks for another relay).
  std::vector<std::string> withdraw_all();
  // A socket whose opening byte says relay; nothing read from it yet.
  void take_opening(asio::ip::tcp::socket socket);
  void stop();
  Summary summary() const;

 private:
  struct Waiting;
  class Circuit;
  void read_opening(std::shared_ptr<asio::ip::tcp::socket> socket);
  void on_connect(std::shared_ptr<asio::ip::tcp::socket> socket, const std::string& target_id);
  void on_accept(std::shared_ptr<asio::ip::tcp::socket> socket, const std::string& token);
  void refuse(const std::shared_ptr<asio::ip::tcp::socket>& socket, const std::string& counter,
              const std::string& reason);
  void link(std::shared_ptr<asio::ip::tcp::socket> caller, std::shared_ptr<asio::ip::tcp::socket> callee);
  void circuit_ended();
  // Every call into the node goes through here: none starts once stop()
  // returned, so a handler still running here never reaches a node that is gone.
  template <class F>
  auto with_node(F f) -> decltype(f(std::declval<Node&>())) {
    std::lock_guard lock(node_mutex_);
    if (node_gone_) return decltype(f(std::declval<Node&>()))();
    return f(node_);
  }
  void count(const std::string& event) {
    with_node([&](Node& node) { node.count(event); });
  }
  // One source address's openings and waiting circuits; false when it has its share.
  bool take_address_share(const std::string& address);
  void return_address_share(const std::string& address);

  const RelayConfig config_;
  const std::chrono::milliseconds opening_timeout_;
  asio::io_context& io_;
  std::shared_ptr<Logger> log_;
  Node node_;
  std::atomic<uint64_t> bytes_{0};

  std::mutex node_mutex_;
  bool node_gone_ = false;

  mutable std::mutex mutex_;  // guards everything below
  bool stopped_ = false;
  std::map<std::string, std::string> reservations_;          // peer id -> the address its link comes from
  std::map<std::string, std::shared_ptr<Waiting>> waiting_;  // token -> caller
  size_t linked_ = 0;
  size_t openings_ = 0;                        // being read
  std::map<std::string, size_t> per_address_;  // openings being read and circuits waiting, by source address
  std::map<Circuit*, std::weak_ptr<Circuit>> circuits_;
};

}  // namespace p2pnet
