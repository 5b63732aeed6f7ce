// Nodes that run the search plugin on a shared folder of their own, with the
// searchprobe test plugin recording the bus events the download plugin uses.
#pragma once

#include "sha256_hex.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace p2pnet::test {

inline void write_file(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
}

// Short waits so that searches with no answer end quickly in tests.
inline nlohmann::json search_settings(const std::filesystem::path& shared, nlohmann::json extra = {}) {
  nlohmann::json settings = {
      {"shared_dir", shared.string()}, {"answer_wait_ms", 1500}, {"answer_quiet_ms", 300}, {"rescan_interval_ms", 0}};
  if (extra.is_object()) settings.update(extra);
  return settings;
}

inline NodeConfig search_config(const std::filesystem::path& shared, nlohmann::json extra = {},
                                bool encryption = true) {
  auto config = encryption ? test_config() : plaintext_config();
  config.plugins.push_back(plugin("search", search_settings(shared, std::move(extra))));
  config.plugins.push_back(plugin("searchprobe"));
  return config;
}

inline int64_t counter(TestNode& node, const std::string& name) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find("search." + name);
  return it == counters.end() ? 0 : it->second;
}

// The bus events the searchprobe saw, oldest first.
inline std::vector<nlohmann::json> bus_events(TestNode& node, const std::string& event) {
  std::vector<nlohmann::json> out;
  for (const auto& line : node.run("searchprobe-log").lines)
    if (line.rfind(event + " ", 0) == 0) out.push_back(nlohmann::json::parse(line.substr(event.size() + 1)));
  return out;
}

// A node with its own shared folder, which it has finished scanning (unless
// told not to wait).
struct SharingNode {
  using Files = std::vector<std::pair<std::string, std::string>>;
  SharingNode() : SharingNode(Files{}) {}
  // encryption = false for tests that speak raw frames to the node.
  explicit SharingNode(const Files& files, nlohmann::json extra = {}, bool wait_for_first_scan = true,
                       bool encryption = true) {
    for (const auto& [path, content] : files) write_file(shared / path, content);
    node = std::make_unique<TestNode>(search_config(shared.path(), std::move(extra), encryption));
    if (wait_for_first_scan) REQUIRE(wait_until([&] { return counter(*node, "scans_completed") >= 1; }));
  }
  SharingNode(const SharingNode&) = delete;
  SharingNode& operator=(const SharingNode&) = delete;

  TestNode& operator*() { return *node; }
  TestNode* operator->() { return node.get(); }

  TempDir shared{"p2pnet-shared"};
  std::unique_ptr<TestNode> node;
};

}  // namespace p2pnet::test
