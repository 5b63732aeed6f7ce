#include "search_settings.hpp"

#include "messages.hpp"

#include <stdexcept>

namespace p2pnet::search {

SearchSettings SearchSettings::read(Settings& settings) {
  SearchSettings s;
  s.shared_dir = settings.string("shared_dir", s.shared_dir);
  s.rescan_interval_ms = settings.integer("rescan_interval_ms", s.rescan_interval_ms, 0, 7LL * 86400 * 1000);
  s.hash_bytes_per_second = settings.integer("hash_bytes_per_second", s.hash_bytes_per_second, 0, int64_t{1} << 40);
  s.default_depth = static_cast<int>(settings.integer("default_depth", s.default_depth, kWholeNetwork, kMaxDepth));
  if (s.default_depth == 0)
    throw std::invalid_argument("plugins.search.default_depth: expected -1 (whole network) or 1 to 255, got 0");
  s.answer_wait_ms = settings.integer("answer_wait_ms", s.answer_wait_ms, 10, 600000);
  s.answer_quiet_ms = settings.integer("answer_quiet_ms", s.answer_quiet_ms, 10, 600000);
  s.max_answer_files = settings.integer("max_answer_files", s.max_answer_files, 1, kMaxFilesPerAnswer);
  s.max_results = settings.integer("max_results", s.max_results, 1, 100000);
  s.max_sources = settings.integer("max_sources", s.max_sources, 1, 1000);
  s.max_query_length = settings.integer("max_query_length", s.max_query_length, 1, 1024);
  s.max_searches = settings.integer("max_searches", s.max_searches, 1, 1000);
  s.max_incoming_searches_per_s = static_cast<double>(
      settings.integer("max_incoming_searches_per_s", static_cast<int64_t>(s.max_incoming_searches_per_s), 0, 1000000));
  s.max_incoming_searches_per_s_per_address = static_cast<double>(
      settings.integer("max_incoming_searches_per_s_per_address",
                       static_cast<int64_t>(s.max_incoming_searches_per_s_per_address), 0, 1000000));
  s.max_relayed_searches_per_s_per_address =
      static_cast<double>(settings.integer("max_relayed_searches_per_s_per_address",
                                           static_cast<int64_t>(s.max_relayed_searches_per_s_per_address), 0, 1000000));
  s.flood_ids_per_peer = static_cast<size_t>(
      settings.integer("flood_ids_per_peer", static_cast<int64_t>(s.flood_ids_per_peer), 1, 10000000));
  s.max_unread_answer_bytes = static_cast<size_t>(settings.integer(
      "max_unread_answer_bytes", static_cast<int64_t>(s.max_unread_answer_bytes), 0, int64_t{1} << 40));
  s.flood_table_size =
      static_cast<size_t>(settings.integer("flood_table_size", static_cast<int64_t>(s.flood_table_size), 1, 10000000));
  s.flood_ttl_ms = settings.integer("flood_ttl_ms", s.flood_ttl_ms, 100, 86400000);
  return s;
}

}  // namespace p2pnet::search
