// Helpers for download tests with p2pnode processes: a node.toml per node,
// reading counters from `stats`, searching until a file is found.
#pragma once

#include "download_support.hpp"
#include "node_process.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace p2pnet::test::download_tests {

// A node.toml for one node: the search plugin sharing `shared` (if given)
// and download saving to `downloads`, plus extra [plugins.download] lines.
inline std::filesystem::path write_config(const TempDir& dir, const std::string& name,
                                          const std::filesystem::path& shared, const std::filesystem::path& downloads,
                                          const std::string& download_extra = "") {
  namespace fs = std::filesystem;
  auto path = dir / (name + ".toml");
  std::ofstream out(path);
  out << "[node]\nlog_level = \"warn\"\nplugin_dirs = [\"" << P2PNET_TEST_PLUGIN_DIR << "\"]\n\n";
  out << "[plugins." << kSearchPlugin << "]\nanswer_wait_ms = 500\nanswer_quiet_ms = 200\n";
  out << "shared_dir = \"" << (shared.empty() ? dir / (name + "-nothing-shared") : shared).string() << "\"\n";
  if (shared.empty()) fs::create_directories(dir / (name + "-nothing-shared"));
  out << "\n[plugins.download]\ndownload_dir = \"" << downloads.string() << "\"\n" << download_extra;
  return path;
}

inline std::string port_of(NodeProcess& node) { return std::to_string(node.port()); }

// No NAME.part or NAME.part.json left in `dir`.
inline bool no_partial_files(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().find(".part") != std::string::npos) return false;
  return true;
}

// A plugin counter from `stats` (0 if absent; -1 if the node did not answer).
// `stats` answers at once and the console hands commands to the node in
// order, so an unknown command after `stats` marks where its output ends.
inline int64_t stats_counter(Process& node, const std::string& name) {
  static std::atomic<int> markers{0};
  const std::string marker = "end-of-stats-" + std::to_string(++markers);
  size_t from = node.line_count();
  node.write_line("stats");
  node.write_line(marker);
  auto end = node.wait_for_line(std::regex("^unknown command '" + marker + "'"), std::chrono::seconds(15), from);
  if (!end) return -1;
  auto lines = node.stdout_lines();
  const std::string prefix = "  " + name + " ";
  for (size_t i = from; i < end->first; ++i)
    if (lines[i].rfind(prefix, 0) == 0) return std::stoll(lines[i].substr(prefix.size()));
  return 0;
}

// Searches until result 1 is NAME with `sources` sources.
template <class Node>
bool search_finds(Node& node, const std::string& name, int sources) {
  const std::string escaped = std::regex_replace(name, std::regex(R"([.])"), R"(\.)");
  const std::regex wanted(R"(^\[1\] )" + escaped + R"(  .*\()" + std::to_string(sources) + R"( sources?\)$)");
  return wait_until(
      [&] {
        auto line = node.command("search " + name, R"(^(\[1\] )" + escaped + R"(  .*|0 results)$)");
        return line && std::regex_match(*line, wanted);
      },
      std::chrono::seconds(20));
}

}  // namespace p2pnet::test::download_tests
