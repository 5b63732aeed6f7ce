#include "search_results.hpp"

#include <p2pnet/hex.hpp>
#include "protocol.hpp"

#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>

namespace p2pnet::download {

const SearchResult* SearchResults::find(int64_t index) const {
  for (const auto& result : results)
    if (result.index == index) return &result;
  return nullptr;
}

std::optional<SearchResults> parse_search_results(const nlohmann::json& event) {
  auto request = fields::string(event, "request", 128);
  const auto* results = fields::array(event, "results", kMaxResults);
  if (!request || !results) return std::nullopt;
  SearchResults out;
  out.request = *request;
  out.query = fields::string(event, "query", 1024).value_or("");
  for (const auto& item : *results) {
    auto index = fields::integer(item, "index", 1, 1000000000);
    auto name = fields::string(item, "name", 4096);
    auto size = fields::integer(item, "size", 0, kMaxFileSize);
    auto sha256 = fields::string(item, "sha256", 64);
    const auto* sources = fields::array(item, "sources", 1000);
    if (!index || !name || !size || !sha256 || !is_sha256_hex(*sha256) || !sources) continue;
    SearchResult result{*index, *name, *size, *sha256, {}};
    for (const auto& source : *sources) {
      if (result.sources.size() >= kMaxSourcesPerResult) break;
      auto node_id = fields::string(source, "node_id", 64);
      auto host = fields::string(source, "host", 255);
      auto port = fields::integer(source, "port", 0, 65535);
      if (!node_id || !is_node_id(*node_id)) continue;
      result.sources.push_back({*node_id, host.value_or(""), static_cast<uint16_t>(port.value_or(0))});
    }
    out.results.push_back(std::move(result));
  }
  return out;
}

}  // namespace p2pnet::download
