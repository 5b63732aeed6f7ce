#include "messages.hpp"

#include "names.hpp"

#include <p2pnet/hex.hpp>

#include <p2pnet/fields.hpp>
#include <p2pnet/plugin.hpp>

namespace p2pnet::search {

bool is_valid_depth(int64_t depth) { return depth == kWholeNetwork || (depth >= 1 && depth <= kMaxDepth); }

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id)
    if (c <= 0x20 || c >= 0x7F) return false;
  return true;
}

std::optional<SearchRequest> parse_search(const nlohmann::json& header, size_t max_query_length) {
  auto id = fields::string(header, "id", kMaxRequestIdLength);
  auto query = fields::string(header, "query", max_query_length);
  auto depth = fields::integer(header, "depth", kWholeNetwork, kMaxDepth);
  if (!id || !is_valid_request_id(*id) || !query || query->empty() || !depth || !is_valid_depth(*depth))
    return std::nullopt;
  return SearchRequest{*id, *query, static_cast<int>(*depth)};
}

nlohmann::json make_search(const SearchRequest& request) {
  return {{"type", "search"}, {"id", request.id}, {"query", request.query}, {"depth", request.depth}};
}

std::optional<SearchAnswer> parse_search_result(const nlohmann::json& header, size_t* bad_files) {
  auto id = fields::string(header, "id", kMaxRequestIdLength);
  auto node_id = fields::string(header, "node_id", 64);
  auto host = fields::string(header, "host", kMaxHostLength);
  auto port = fields::integer(header, "port", 1, 65535);
  const auto* files = fields::array(header, "files", kMaxFilesPerAnswer);
  if (!id || !is_valid_request_id(*id) || !node_id || !is_node_id(*node_id) || !host || !port || !files)
    return std::nullopt;
  SearchAnswer answer{*id, *node_id, *host, static_cast<uint16_t>(*port), {}, std::nullopt};
  read_relay(header, answer.node_id, answer.relay);  // a malformed relay is left out: the files stand
  size_t bad = 0;
  for (const auto& item : *files) {
    auto name = fields::string(item, "name", kMaxNameBytes);
    auto size = fields::integer(item, "size", 0, INT64_MAX);
    auto sha = fields::string(item, "sha256", 64);
    if (!name || !is_safe_name(*name) || !size || !sha || !is_sha256_hex(*sha)) {
      ++bad;
      continue;
    }
    answer.files.push_back({*name, static_cast<uint64_t>(*size), *sha});
  }
  if (bad_files) *bad_files = bad;
  if (answer.files.empty()) return std::nullopt;
  return answer;
}

nlohmann::json make_search_result(const SearchAnswer& answer) {
  auto files = nlohmann::json::array();
  for (const auto& file : answer.files)
    files.push_back({{"name", file.name}, {"size", file.size}, {"sha256", file.sha256}});
  nlohmann::json result = {{"type", "search_result"}, {"id", answer.id},     {"node_id", answer.node_id},
                           {"host", answer.host},     {"port", answer.port}, {"files", std::move(files)}};
  if (answer.relay) result["relay"] = relay_json(*answer.relay);
  return result;
}

bool is_unspecified_host(std::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

}  // namespace p2pnet::search
