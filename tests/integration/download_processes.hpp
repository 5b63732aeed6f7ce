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

// Sources A and B share the same file (1 MiB) and C, connected to both,
// downloads it slowly enough (16 KiB chunks, 384 KiB/s) for a fault midway.
struct TwoSourceProcesses {
  TwoSourceProcesses(const std::string& name, uint64_t seed)
      : sha(share_twice(dir, name, seed)),
        a(P2PNODE_PATH, write_config(dir, "a", dir / "a-shared", dir / "a-downloads").string()),
        b(P2PNODE_PATH, write_config(dir, "b", dir / "b-shared", dir / "b-downloads").string()),
        c(P2PNODE_PATH,
          write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 16384\nmax_download_rate = 393216\n")
              .string()) {
    REQUIRE(c.command("connect 127.0.0.1 " + std::to_string(a.port()), "^connected to " + a.id()));
    REQUIRE(c.command("connect 127.0.0.1 " + std::to_string(b.port()), "^connected to " + b.id()));
  }

  static constexpr size_t kSize = 1024 * 1024;
  TempDir dir{"setup"};
  std::string sha;
  NodeProcess a, b, c;

 private:
  static std::string share_twice(const TempDir& dir, const std::string& name, uint64_t seed) {
    write_random_file(dir / "b-shared" / name, kSize, seed);
    return write_random_file(dir / "a-shared" / name, kSize, seed);
  }
};

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
