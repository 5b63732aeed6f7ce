// `search.results` events of the search plugin, read with bounds: the bus is
// local, but names, sizes and addresses in it come from other nodes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pnet::download {

struct SourceAddress {
  std::string node_id;
  std::string host;  // may be empty: reach the node by id through the peer store
  uint16_t port = 0;
};

struct SearchResult {
  int64_t index = 0;
  std::string name;  // as given by the network: sanitize before use
  int64_t size = 0;
  std::string sha256;
  std::vector<SourceAddress> sources;
};

struct SearchResults {
  std::string request;  // "" for a console search
  std::string query;
  std::vector<SearchResult> results;

  const SearchResult* find(int64_t index) const;
};

inline constexpr size_t kMaxResults = 10000;
inline constexpr size_t kMaxSourcesPerResult = 64;

// Nothing if the event has no request id or results array; bad entries are skipped.
std::optional<SearchResults> parse_search_results(const nlohmann::json& event);

}  // namespace p2pnet::download
