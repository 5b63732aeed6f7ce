// The answers one search collected, merged by hash (the same file from
// several nodes is one result with several sources), bounded, and numbered
// the way the console prints them and the bus carries them.
#pragma once

#include "messages.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace p2pnet::search {

struct Source {
  std::string node_id;
  std::string host;
  uint16_t port = 0;
};

struct SearchResult {
  size_t index = 0;  // from 1, as printed
  AnsweredFile file;
  std::vector<Source> sources;
};

class ResultSet {
 public:
  ResultSet(size_t max_results, size_t max_sources) : max_results_(max_results), max_sources_(max_sources) {}

  // Merges one node's answer; returns how many of its files did not fit the bounds.
  size_t add(const Source& source, const std::vector<AnsweredFile>& files);

  // Sorted by name (ASCII case-insensitive), then hash; numbered from 1.
  std::vector<SearchResult> numbered() const;
  size_t size() const { return by_hash_.size(); }

 private:
  struct Entry {
    AnsweredFile file;
    std::vector<Source> sources;
  };
  size_t max_results_;
  size_t max_sources_;
  std::map<std::string, Entry> by_hash_;
};

// "[K] NAME  SIZE  SHA256-PREFIX  (N sources)": SIZE in bytes, the first 16 hex digits of the hash.
std::string format_result_line(const SearchResult& result);
constexpr size_t kHashPrefixLength = 16;

// The search.results payload.
nlohmann::json results_json(const std::string& request, const std::string& query,
                            const std::vector<SearchResult>& results);

}  // namespace p2pnet::search
