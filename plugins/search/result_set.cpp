#include "result_set.hpp"

#include "names.hpp"

#include <p2pnet/counted.hpp>

#include <algorithm>

namespace p2pnet::search {

size_t ResultSet::add(const Source& source, const std::vector<AnsweredFile>& files, const std::string& via,
                      size_t* crowded) {
  size_t dropped = 0;
  for (const auto& file : files) {
    auto it = by_hash_.find(file.sha256);
    if (it == by_hash_.end()) {
      if (by_hash_.size() >= max_results_) {
        ++dropped;
        continue;
      }
      it = by_hash_.emplace(file.sha256, Entry{file, {}, {}}).first;
    }
    auto& sources = it->second.sources;
    bool known =
        std::any_of(sources.begin(), sources.end(), [&](const Source& s) { return s.node_id == source.node_id; });
    if (known) continue;
    if (sources.size() >= max_sources_) {
      ++dropped;
      continue;
    }
    if (!via.empty()) {
      auto& brought = it->second.sources_via[via];
      if (brought >= max_sources_per_peer()) {
        ++dropped;
        if (crowded) ++*crowded;
        continue;
      }
      ++brought;
    }
    sources.push_back(source);
  }
  return dropped;
}

std::vector<SearchResult> ResultSet::numbered() const {
  std::vector<SearchResult> out;
  out.reserve(by_hash_.size());
  for (const auto& [hash, entry] : by_hash_) out.push_back({0, entry.file, entry.sources});
  std::stable_sort(out.begin(), out.end(), [](const SearchResult& a, const SearchResult& b) {
    auto left = fold_case(a.file.name), right = fold_case(b.file.name);
    return left != right ? left < right : a.file.sha256 < b.file.sha256;
  });
  for (size_t i = 0; i < out.size(); ++i) out[i].index = i + 1;
  return out;
}

std::string format_result_line(const SearchResult& result) {
  return "[" + std::to_string(result.index) + "] " + result.file.name + "  " + std::to_string(result.file.size) + "  " +
         result.file.sha256.substr(0, kHashPrefixLength) + "  (" +
         p2pnet::counted(static_cast<long long>(result.sources.size()), "source") + ")";
}

nlohmann::json results_json(const std::string& request, const std::string& query,
                            const std::vector<SearchResult>& results) {
  auto list = nlohmann::json::array();
  for (const auto& result : results) {
    auto sources = nlohmann::json::array();
    for (const auto& source : result.sources)
      sources.push_back({{"node_id", source.node_id}, {"host", source.host}, {"port", source.port}});
    list.push_back({{"index", result.index},
                    {"name", result.file.name},
                    {"size", result.file.size},
                    {"sha256", result.file.sha256},
                    {"sources", std::move(sources)}});
  }
  return {{"request", request}, {"query", query}, {"results", std::move(list)}};
}

}  // namespace p2pnet::search
