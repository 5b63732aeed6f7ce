// Networks of in-process test nodes in a given shape (line, ring, random
// mesh), with the graph kept beside them so tests can compute what a
// protocol should find (hop distances) instead of hard-coding it.
#pragma once

#include "runtime.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace p2pnet::test {

struct Shape {
  size_t size = 0;
  std::vector<std::pair<size_t, size_t>> edges;  // (dialer, listener)
};

inline Shape line_shape(size_t n) {
  Shape shape{n, {}};
  for (size_t i = 1; i < n; ++i) shape.edges.emplace_back(i, i - 1);
  return shape;
}

inline Shape ring_shape(size_t n) {
  Shape shape = line_shape(n);
  shape.edges.emplace_back(0, n - 1);
  return shape;
}

// A connected random graph: a random spanning tree plus `extra` random edges,
// each dialed by a random end.
inline Shape random_mesh_shape(size_t n, size_t extra, uint32_t seed) {
  std::mt19937 random(seed);
  Shape shape{n, {}};
  std::set<std::pair<size_t, size_t>> present;
  auto add = [&](size_t a, size_t b) {
    if (a == b || !present.insert({std::min(a, b), std::max(a, b)}).second) return false;
    if (random() % 2) std::swap(a, b);
    shape.edges.emplace_back(a, b);
    return true;
  };
  for (size_t i = 1; i < n; ++i) add(i, random() % i);
  for (size_t added = 0; added < extra;)
    if (add(random() % n, random() % n)) ++added;
  return shape;
}

// Returns once every network thread of the runtime has finished what it was
// running: each thread takes one of these jobs and waits for all the others.
inline bool drain_network_threads(Runtime& runtime) {
  struct Rendezvous {
    std::mutex mutex;
    std::condition_variable all_here;
    size_t arrived = 0;
  };
  auto& impl = runtime.impl();
  const size_t threads = impl.threads.size();
  auto meeting = std::make_shared<Rendezvous>();
  for (size_t i = 0; i < threads; ++i)
    asio::post(impl.io, [meeting, threads] {
      std::unique_lock lock(meeting->mutex);
      ++meeting->arrived;
      meeting->all_here.notify_all();
      meeting->all_here.wait_for(lock, std::chrono::seconds(5), [&] { return meeting->arrived >= threads; });
    });
  std::unique_lock lock(meeting->mutex);
  return meeting->all_here.wait_for(lock, std::chrono::seconds(10), [&] { return meeting->arrived >= threads; });
}

// Brings nodes to rest before they are stopped: every connection closed and
// fully handled. NodeCore::on_closed tells the plugins about a departed peer
// after removing it from the peer table, with no lock against Node::stop()
// destroying those plugins, so a node stopped while connections close can
// use a freed plugin (a race in core/, reported). With many connections per
// test on a busy machine that happens; at rest it cannot.
inline void settle(const std::vector<TestNode*>& nodes) {
  for (int round = 0; round < 20; ++round) {  // target_peers may dial again once
    for (auto* node : nodes)
      for (const auto& peer : (*node)->peers()) (*node)->disconnect(peer.id);
    wait_until(
        [&] {
          for (auto* node : nodes)
            if (!(*node)->peers().empty()) return false;
          return true;
        },
        std::chrono::seconds(2));
    drain_network_threads(*shared_runtime());
    bool at_rest = true;
    for (auto* node : nodes) at_rest = at_rest && (*node)->peers().empty();
    if (at_rest) return;
  }
}

// Settles the given nodes when it goes out of scope: declare it after the
// nodes and raw peers of a test, so that it runs before any of them goes.
class SettleOnExit {
 public:
  SettleOnExit(std::initializer_list<TestNode*> nodes) : nodes_(nodes) {}
  ~SettleOnExit() { settle(nodes_); }
  SettleOnExit(const SettleOnExit&) = delete;
  SettleOnExit& operator=(const SettleOnExit&) = delete;

 private:
  std::vector<TestNode*> nodes_;
};

class Network {
 public:
  Network(const Shape& shape, const std::function<NodeConfig()>& make_config) : shape_(shape), neighbours_(shape.size) {
    for (size_t i = 0; i < shape.size; ++i) nodes_.push_back(std::make_unique<TestNode>(make_config()));
    for (const auto& [dialer, listener] : shape.edges) {
      REQUIRE(nodes_[dialer]->connect_to(*nodes_[listener]) == nodes_[listener]->id());
      neighbours_[dialer].push_back(listener);
      neighbours_[listener].push_back(dialer);
    }
  }

  ~Network() {
    std::vector<TestNode*> all;
    for (auto& node : nodes_) all.push_back(node.get());
    settle(all);
  }
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  size_t size() const { return nodes_.size(); }
  size_t edge_count() const { return shape_.edges.size(); }
  TestNode& operator[](size_t i) { return *nodes_[i]; }

  // Hop distance from `from` to every node (breadth-first search).
  std::vector<int> distances(size_t from) const {
    std::vector<int> distance(size(), -1);
    std::deque<size_t> queue{from};
    distance[from] = 0;
    while (!queue.empty()) {
      size_t at = queue.front();
      queue.pop_front();
      for (size_t next : neighbours_[at])
        if (distance[next] < 0) {
          distance[next] = distance[at] + 1;
          queue.push_back(next);
        }
    }
    return distance;
  }

  // Ids of the nodes 1 to max_hops hops from `from` (max_hops -1: all).
  std::set<std::string> ids_within(size_t from, int max_hops) {
    std::set<std::string> out;
    auto distance = distances(from);
    for (size_t i = 0; i < size(); ++i)
      if (distance[i] > 0 && (max_hops < 0 || distance[i] <= max_hops)) out.insert(nodes_[i]->id());
    return out;
  }

 private:
  Shape shape_;
  std::vector<std::vector<size_t>> neighbours_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

}  // namespace p2pnet::test
