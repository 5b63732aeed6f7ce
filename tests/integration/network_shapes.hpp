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
