// The answers one search collected, merged by hash (the same file from
// several nodes is one result with several sources), bounded, and numbered
// the way the console prints them and the bus carries them.
#pragma once

#include "messages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
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

  // Merges one node's answer, delivered by the direct peer `via` ("" when not
  // known); returns how many of its files did not fit the bounds, of which
  // *crowded (if given) were refused because `via` brought its share of
  // sources for that file already.
  size_t add(const Source& source, const std::vector<AnsweredFile>& files, const std::string& via = "",
             size_t* crowded = nullptr);

  // Sorted by name (ASCII case-insensitive), then hash; numbered from 1.
  std::vector<SearchResult> numbered() const;
  size_t size() const { return by_hash_.size(); }

 private:
  struct Entry {
    AnsweredFile file;
    std::vector<Source> sources;
    std::map<std::string, size_t> sources_via;  // direct peer -> sources it brought
  };
  // One peer may answer for many node ids: whatever comes through one direct
  // peer fills at most this share of max_sources, so the first (or the
  // fastest) answers cannot crowd out honest sources behind other peers.
  size_t max_sources_per_peer() const { return std::max<size_t>(1, max_sources_ / 4); }
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
