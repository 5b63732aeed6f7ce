#include "file_index.hpp"

#include "names.hpp"

#include <p2pnet/hex.hpp>

#include <p2pnet/fields.hpp>

#include <unordered_set>

namespace p2pnet::search {

std::optional<IndexedFile> indexed_file_from_json(const nlohmann::json& item) {
  auto path = fields::string(item, "path", kMaxPathBytes);
  auto size = fields::integer(item, "size", 0, INT64_MAX);
  auto sha = fields::string(item, "sha256", 64);
  auto mtime = fields::integer(item, "mtime", INT64_MIN, INT64_MAX);
  if (!path || !is_safe_relative_path(*path) || !size || !sha || !is_sha256_hex(*sha) || !mtime) return std::nullopt;
  return IndexedFile{*path, static_cast<uint64_t>(*size), *sha, *mtime};
}

nlohmann::json to_json(const IndexedFile& file) {
  return {{"path", file.path}, {"size", file.size}, {"sha256", file.sha256}, {"mtime", file.mtime}};
}

void FileIndex::put(IndexedFile file) {
  std::string key = file.path;
  files_.insert_or_assign(std::move(key), std::move(file));
}

bool FileIndex::erase(const std::string& path) { return files_.erase(path) > 0; }

const IndexedFile* FileIndex::find(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

FileIndex::Matches FileIndex::match(const Query& query, size_t limit) const {
  Matches out;
  std::unordered_set<std::string_view> hashes;
  for (const auto& [path, file] : files_) {
    if (!query.matches(base_name(path), file.sha256)) continue;
    if (!hashes.insert(file.sha256).second) continue;  // the same content under another name
    if (out.files.size() < limit)
      out.files.push_back(&file);
    else
      ++out.left_out;
  }
  return out;
}

nlohmann::json FileIndex::snapshot(const std::string& shared_dir) const {
  auto files = nlohmann::json::array();
  for (const auto& [path, file] : files_) files.push_back(to_json(file));
  return {{"shared_dir", shared_dir}, {"files", std::move(files)}};
}

}  // namespace p2pnet::search
