#include "download_history.hpp"

#include <p2pnet/hex.hpp>
#include "part_file.hpp"
#include "part_record.hpp"
#include "protocol.hpp"

#include <p2pnet/fields.hpp>
#include <p2pnet/printable.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace p2pnet::download {
namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxHistoryBytes = 1024 * 1024;
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxOutcomeBytes = 1024;
constexpr int64_t kMaxId = 1'000'000'000;
constexpr int64_t kMaxElapsedMs = int64_t{100} * 365 * 24 * 3600 * 1000;
constexpr size_t kMaxRecordsScanned = 10'000;

bool read_small_file(const fs::path& path, uintmax_t limit, std::string& text, std::string& why) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    why = "not a regular file";
    return false;
  }
  auto size = fs::file_size(path, error);
  if (error || size > limit) {
    why = error ? error.message() : "larger than " + std::to_string(limit) + " bytes";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return true;
}

std::optional<EndedDownload> decode_entry(const nlohmann::json& entry) {
  EndedDownload ended;
  auto id = fields::integer(entry, "id", 1, kMaxId);
  auto name = fields::string(entry, "name", kMaxNameBytes);
  auto sha256 = fields::string(entry, "sha256", 64);
  auto size = fields::integer(entry, "size", -1, kMaxFileSize);
  auto state = fields::string(entry, "state", 16);
  auto outcome = fields::string(entry, "outcome", kMaxOutcomeBytes);
  auto elapsed = fields::integer(entry, "elapsed_ms", 0, kMaxElapsedMs);
  auto sources = fields::integer(entry, "sources", 0, 1024);
  if (!id || !name || !sha256 || !is_sha256_hex(*sha256) || !size || !state || !outcome || !elapsed || !sources)
    return std::nullopt;
  if (*state != "saved" && *state != "failed" && *state != "cancelled" && *state != "already here") return std::nullopt;
  ended.id = static_cast<uint64_t>(*id);
  ended.name = printable(*name);  // shown on the console: no control bytes
  ended.sha256 = *sha256;
  ended.size = *size;
  ended.state = *state;
  ended.outcome = printable(*outcome);
  ended.elapsed_seconds = static_cast<double>(*elapsed) / 1000;
  ended.sources = static_cast<int>(*sources);
  return ended;
}

}  // namespace

fs::path history_path(const fs::path& data_dir) { return data_dir / "download-history.json"; }

std::deque<EndedDownload> read_history(const fs::path& path, std::string& warning) {
  std::deque<EndedDownload> history;
  std::error_code error;
  if (!fs::exists(fs::symlink_status(path, error))) return history;
  std::string text, why;
  if (!read_small_file(path, kMaxHistoryBytes, text, why)) {
    warning = path.string() + " ignored: " + why;
    return history;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  const nlohmann::json* entries = json.is_object() ? fields::array(json, "downloads", kMaxHistory * 10) : nullptr;
  if (fields::integer(json, "version", 1, 1) != 1 || !entries) {
    warning = path.string() + " ignored: not a download history (version 1)";
    return history;
  }
  size_t skipped = 0;
  for (const auto& entry : *entries) {
    auto ended = entry.is_object() ? decode_entry(entry) : std::nullopt;
    if (!ended) {
      ++skipped;
      continue;
    }
    history.push_back(std::move(*ended));
    if (history.size() > kMaxHistory) history.pop_front();
  }
  if (skipped > 0) warning = path.string() + ": " + std::to_string(skipped) + " damaged entries skipped";
  return history;
}

std::string write_history(const fs::path& path, const std::deque<EndedDownload>& history) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& ended : history)
    entries.push_back({{"id", ended.id},
                       {"name", ended.name},
                       {"sha256", ended.sha256},
                       {"size", ended.size},
                       {"state", ended.state},
                       {"outcome", ended.outcome},
                       {"elapsed_ms", static_cast<int64_t>(ended.elapsed_seconds * 1000)},
                       {"sources", ended.sources}});
  const std::string text = nlohmann::json{{"version", 1}, {"downloads", entries}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  fs::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return "cannot write " + temp.string();
  }
  std::error_code error;
  fs::rename(temp, path, error);
  if (error) return "cannot replace " + path.string() + ": " + error.message();
  return "";
}

std::vector<UnfinishedPart> find_unfinished_parts(const fs::path& dir) {
  std::vector<UnfinishedPart> parts;
  std::error_code error;
  fs::directory_iterator it(dir, error), end;
  size_t scanned = 0;
  for (; !error && it != end && scanned < kMaxRecordsScanned; it.increment(error), ++scanned) {
    const std::string file = it->path().filename().string();
    constexpr std::string_view suffix = ".part.json";
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string name = file.substr(0, file.size() - suffix.size());
    if (name != sanitize_file_name(name)) continue;  // not a name this plugin would have written
    std::error_code part_error;
    auto part = dir / (name + ".part");
    if (!fs::is_regular_file(fs::symlink_status(part, part_error))) continue;
    std::string text, why;
    if (!read_small_file(it->path(), kMaxRecordBytes, text, why)) continue;
    auto json = nlohmann::json::parse(text, nullptr, false);
    auto record = json.is_object() ? decode_record(json) : std::nullopt;
    if (!record) continue;
    int64_t verified = 0;
    for (size_t i = 0; i < record->verified.size(); ++i)
      if (record->verified[i]) verified += chunk_length(record->size, record->chunk_size, static_cast<int64_t>(i));
    parts.push_back({name, record->sha256, record->size, verified});
  }
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (parts.size() > kMaxHistory) parts.resize(kMaxHistory);
  return parts;
}

}  // namespace p2pnet::download
