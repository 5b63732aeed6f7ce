#include "part_record.hpp"

#include <p2pnet/hex.hpp>
#include "protocol.hpp"

#include <p2pnet/fields.hpp>

namespace p2pnet::download {

int64_t PartRecord::verified_count() const {
  int64_t count = 0;
  for (bool bit : verified) count += bit ? 1 : 0;
  return count;
}

std::vector<std::pair<int64_t, int64_t>> to_ranges(const std::vector<bool>& bits) {
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t n = static_cast<int64_t>(bits.size());
  for (int64_t i = 0; i < n;) {
    if (!bits[i]) {
      ++i;
      continue;
    }
    int64_t start = i;
    while (i < n && bits[i]) ++i;
    out.emplace_back(start, i);
  }
  return out;
}

nlohmann::json encode_record(const PartRecord& record) {
  nlohmann::json ranges = nlohmann::json::array();
  for (auto [first, last] : to_ranges(record.verified)) ranges.push_back({first, last});
  return {{"version", 1},
          {"sha256", record.sha256},
          {"size", record.size},
          {"chunk_size", record.chunk_size},
          {"chunks", record.verified.size()},
          {"manifest_sha256", record.manifest_sha256},
          {"verified", ranges}};
}

std::optional<PartRecord> decode_record(const nlohmann::json& json) {
  if (fields::integer(json, "version", 1, 1) != 1) return std::nullopt;
  PartRecord record;
  auto sha256 = fields::string(json, "sha256", 64);
  auto manifest = fields::string(json, "manifest_sha256", 64);
  auto size = fields::integer(json, "size", 0, kMaxFileSize);
  auto chunk_size = fields::integer(json, "chunk_size", kMinChunkSize, kMaxChunkSize);
  auto chunks = fields::integer(json, "chunks", 0, kMaxChunks);
  const auto* ranges = fields::array(json, "verified", kMaxChunks);
  if (!sha256 || !is_sha256_hex(*sha256) || !manifest || !is_sha256_hex(*manifest) || !size || !chunk_size || !chunks ||
      !ranges || *chunks != chunk_count(*size, *chunk_size))
    return std::nullopt;
  record.sha256 = *sha256;
  record.manifest_sha256 = *manifest;
  record.size = *size;
  record.chunk_size = *chunk_size;
  record.verified.assign(static_cast<size_t>(*chunks), false);
  int64_t previous_end = 0;  // sorted, disjoint ranges: decoding stays linear
  for (const auto& range : *ranges) {
    if (!range.is_array() || range.size() != 2) return std::nullopt;
    auto first = fields::integer(nlohmann::json{{"v", range[0]}}, "v", previous_end, *chunks);
    auto last = fields::integer(nlohmann::json{{"v", range[1]}}, "v", 0, *chunks);
    if (!first || !last || *first >= *last) return std::nullopt;
    previous_end = *last;
    for (int64_t i = *first; i < *last; ++i) record.verified[static_cast<size_t>(i)] = true;
  }
  return record;
}

}  // namespace p2pnet::download
