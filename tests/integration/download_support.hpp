// Helpers for the search + download tests: files with random content and
// their SHA-256, node configs that share a folder and download into another,
// counters, and the search console output.
//
// The tests talk to the search side only through its contract (the
// `shared_dir` setting, `search QUERY [DEPTH]` printing "[K] NAME  SIZE
// SHA256-PREFIX  (N sources)", and the bus events), so kSearchPlugin can name
// the stock search plugin once it is merged; until then it names
// tests/plugins/fake_search_plugin.cpp.
#pragma once

#include "sha256_hex.hpp"
#include "test_node.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>

// A namespace of their own: other tests' helpers (counter, read_file, ...)
// have the same names and would otherwise collide at link time.
namespace p2pnet::test::download_tests {

inline const std::string kSearchPlugin = "search";
// Tests that use the stand-in's own commands (fake-rescan, fake-index-add).
inline const std::string kFakeSearchPlugin = "fake_search";
// How long a test waits for a download's outcome.
constexpr auto kDownloadTimeout = std::chrono::seconds(60);

inline std::string last_line(const CommandResult& result) { return result.lines.empty() ? "" : result.lines.back(); }

// No NAME.part or NAME.part.json left in `dir`.
inline bool no_partial_files(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().find(".part") != std::string::npos) return false;
  return true;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string random_bytes(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t word = random();
    for (size_t j = 0; j < 8 && i + j < size; ++j) data[i + j] = static_cast<char>(word >> (8 * j));
  }
  return data;
}

// Writes `size` random bytes; returns their SHA-256.
inline std::string write_random_file(const std::filesystem::path& path, size_t size, uint64_t seed) {
  std::filesystem::create_directories(path.parent_path());
  std::string data = random_bytes(size, seed);
  std::ofstream(path, std::ios::binary) << data;
  return sha256_hex(data);
}

inline int64_t counter(TestNode& node, const std::string& name) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

// An empty folder for nodes that share nothing (the stock search plugin
// shares "shared" relative to the working directory unless told otherwise).
inline const std::filesystem::path& nothing_shared() {
  static TempDir empty("nothing-shared");
  return empty.path();
}

// A node with the search plugin (sharing `shared`, if given) and download.
// Searches collect answers for a short time, to keep the tests quick.
inline NodeConfig file_node(const std::filesystem::path& shared,
                            nlohmann::json download_settings = nlohmann::json::object(),
                            const std::string& search_plugin = kSearchPlugin) {
  auto config = test_config();
  nlohmann::json search = {{"shared_dir", (shared.empty() ? nothing_shared() : shared).string()},
                           {"answer_wait_ms", 500},
                           {"answer_quiet_ms", 200}};
  config.plugins.push_back(plugin(search_plugin, search));
  config.plugins.push_back(plugin("download", std::move(download_settings)));
  return config;
}

struct ResultLine {
  int index = 0;
  std::string name;
  std::string size;  // as printed
  std::string sha_prefix;
  int sources = 0;
};

inline std::optional<ResultLine> parse_result_line(const std::string& line) {
  static const std::regex pattern(R"(^\[(\d+)\] (.+)  (.+)  ([0-9a-f]+)  \((\d+) sources?\)$)");
  std::smatch match;
  if (!std::regex_match(line, match, pattern)) return std::nullopt;
  return ResultLine{std::stoi(match[1]), match[2], match[3], match[4], std::stoi(match[5])};
}

// Searches until a result for `name` shows `sources` sources; its line.
inline std::optional<ResultLine> search_until(TestNode& node, const std::string& name, int sources,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  std::optional<ResultLine> found;
  wait_until(
      [&] {
        for (const auto& line : node.run("search " + name).lines) {
          auto result = parse_result_line(line);
          if (result && result->name == name && result->sources == sources) found = result;
        }
        return found.has_value();
      },
      timeout);
  return found;
}

// The chunks NAME.part.json records as verified.
inline int64_t recorded_chunks(const std::filesystem::path& record) {
  auto json = nlohmann::json::parse(read_file(record), nullptr, false);
  if (json.is_discarded() || !json.contains("verified")) return -1;
  int64_t total = 0;
  for (const auto& range : json["verified"]) total += range[1].get<int64_t>() - range[0].get<int64_t>();
  return total;
}

inline std::string saved_line(const std::filesystem::path& path, size_t size) {
  return "saved " + path.string() + " (" + std::to_string(size) + " bytes, sha256 verified)";
}

}  // namespace p2pnet::test::download_tests
