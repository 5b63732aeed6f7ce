// [plugins.search] in node.toml, read with bounds (config/node.toml
// documents every key and its default).
#pragma once

#include <p2pnet/settings.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace p2pnet::search {

struct SearchSettings {
  // The shared folder.
  std::string shared_dir = "shared";
  int64_t rescan_interval_ms = 300000;  // 0: only `rescan`
  int64_t hash_bytes_per_second = 0;    // 0: unlimited
  // Searches this node starts.
  int default_depth = 5;
  int64_t answer_wait_ms = 5000;
  int64_t answer_quiet_ms = 1000;
  int64_t max_results = 1000;
  int64_t max_sources = 32;
  int64_t max_searches = 16;
  // What peers may ask of it.
  int64_t max_answer_files = 100;
  int64_t max_query_length = 256;
  double max_incoming_searches_per_s = 100;
  double max_incoming_searches_per_s_per_address = 100;
  double max_relayed_searches_per_s_per_address = 20;
  size_t flood_ids_per_peer = 2000;
  size_t max_unread_answer_bytes = 1048576;  // 0: unlimited
  size_t flood_table_size = 10000;
  int64_t flood_ttl_ms = 60000;

  static SearchSettings read(Settings& settings);
};

}  // namespace p2pnet::search
