// NAME.part.json: the record of which chunks of NAME.part are verified, so an
// interrupted download resumes without fetching them again. It is replaced
// atomically (temp file + rename), and written only after the chunks it lists
// were flushed to NAME.part.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace p2pnet::download {

struct PartRecord {
  std::string sha256;
  int64_t size = 0;
  int64_t chunk_size = 0;
  std::string manifest_sha256;  // SHA-256 over the manifest's chunk hashes
  std::vector<bool> verified;   // one entry per chunk

  int64_t verified_count() const;
};

inline constexpr uintmax_t kMaxRecordBytes = 16 * 1024 * 1024;

// Verified chunks as [first, last) ranges: short for the usual contiguous runs.
std::vector<std::pair<int64_t, int64_t>> to_ranges(const std::vector<bool>& bits);

nlohmann::json encode_record(const PartRecord& record);
// Nothing if the record is damaged or inconsistent (it is then ignored).
std::optional<PartRecord> decode_record(const nlohmann::json& json);

}  // namespace p2pnet::download
