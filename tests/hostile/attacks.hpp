// The attacks of the hostile-peer harness. Each run of an attack is bounded
// (a few connections, a few hundred frames, short timeouts); the workers
// repeat them until the deadline or their run budget is spent.
#pragma once

#include "hostile_messages.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace p2pnet::hostile {

struct AttackTally {
  std::atomic<int64_t> runs{0};
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> frames{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> closed_by_node{0};  // the node closed the connection on us
  std::atomic<int64_t> refused{0};         // could not even connect
};

class Tallies {
 public:
  AttackTally& operator[](const std::string& attack);
  void print(const std::string& target) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<AttackTally>> tallies_;
};

struct AttackTarget {
  std::string name;  // "plaintext" or "tls"
  uint16_t port = 0;
  bool tls = false;
  std::string real_sha256;  // a file the target shares
  size_t max_header = 256 * 1024;
  size_t max_body = 16 * 1024 * 1024;
};

using Clock = std::chrono::steady_clock;

struct AttackBudget {
  Clock::time_point deadline;
  std::atomic<bool>* stop;
  int flood_rate = 2000;  // discover/search messages per second in a flood
  int slow_sockets = 32;  // sockets in the slow handshake at once
  std::chrono::milliseconds slow_interval{200};
  int churn_rate = 200;  // connections per second
  bool over() const { return stop->load() || Clock::now() >= deadline; }
};

// One run of a named attack; the names are in plaintext_attacks() / tls_attacks().
void run_attack(const std::string& attack, const AttackTarget& target, const AttackBudget& budget, Random& random,
                Tallies& tallies);
const std::vector<std::string>& plaintext_attacks();
const std::vector<std::string>& tls_attacks();

// Long-running attacks, each until the deadline in its own thread.
void slow_handshakes(const AttackTarget& target, const AttackBudget& budget, Tallies& tallies);
void connection_churn(const AttackTarget& target, const AttackBudget& budget, Random& random, Tallies& tallies);

}  // namespace p2pnet::hostile
