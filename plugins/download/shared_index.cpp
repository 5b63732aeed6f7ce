#include "shared_index.hpp"

#include <p2pnet/hex.hpp>
#include "protocol.hpp"

#include <p2pnet/fields.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>

namespace p2pnet::download {

namespace fs = std::filesystem;

std::vector<const IndexedFile*> IndexSnapshot::find(const std::string& sha256) const {
  std::vector<const IndexedFile*> out;
  auto [first, last] = by_hash.equal_range(sha256);
  for (auto it = first; it != last; ++it) out.push_back(&it->second);
  return out;
}

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") return false;
    for (char c : component)
      if (c == '\0') return false;
    start = end + 1;
  }
  return true;
}

std::optional<IndexSnapshot> parse_index(const nlohmann::json& event) {
  auto dir = fields::string(event, "shared_dir", kMaxIndexPath);
  const auto* files = fields::array(event, "files", kMaxIndexFiles);
  if (!dir || dir->empty() || dir->front() != '/' || !files) return std::nullopt;
  IndexSnapshot snapshot;
  snapshot.shared_dir = *dir;
  // Optional: without it every manifest is computed when first asked for.
  if (auto manifests = fields::string(event, "manifest_dir", kMaxIndexPath); manifests && manifests->starts_with('/'))
    snapshot.manifest_dir = *manifests;
  for (const auto& entry : *files) {
    auto path = fields::string(entry, "path", kMaxIndexPath);
    auto size = fields::integer(entry, "size", 0, kMaxFileSize);
    auto sha256 = fields::string(entry, "sha256", 64);
    auto mtime = fields::integer(entry, "mtime", INT64_MIN, INT64_MAX);
    if (!path || !size || !sha256 || !mtime || !is_sha256_hex(*sha256)) {
      ++snapshot.rejected;
      continue;
    }
    // Unsafe paths are kept: serving them is refused (and counted) when asked.
    snapshot.by_hash.emplace(*sha256, IndexedFile{*path, *size, *sha256, *mtime});
  }
  return snapshot;
}

bool mtime_matches(int64_t indexed, const struct stat& info) {
  const __int128 seconds = info.st_mtim.tv_sec;
  const __int128 nanos = seconds * 1000000000 + info.st_mtim.tv_nsec;
  const __int128 value = indexed;
  return value == seconds || value == nanos / 1000000 || value == nanos / 1000 || value == nanos;
}

const char* describe(OpenFailure failure) {
  switch (failure) {
    case OpenFailure::none:
      return "ok";
    case OpenFailure::unsafe_path:
      return "unsafe path";
    case OpenFailure::outside_shared_dir:
      return "outside the shared folder";
    case OpenFailure::private_file:
      return "inside the node's data dir";
    case OpenFailure::missing:
      return "missing";
    case OpenFailure::not_regular:
      return "not a regular file";
    case OpenFailure::changed:
      return "changed since it was indexed";
  }
  return "?";
}

namespace {

bool is_inside(const fs::path& root, const fs::path& candidate) {
  auto [root_end, candidate_it] = std::mismatch(root.begin(), root.end(), candidate.begin(), candidate.end());
  return root_end == root.end() && candidate_it != candidate.end();
}

}  // namespace

OpenedFile open_indexed_file(const fs::path& shared_dir, const IndexedFile& file, const fs::path& private_dir) {
  OpenedFile out;
  auto fail = [&](OpenFailure failure, std::string detail) {
    out.failure = failure;
    out.detail = std::move(detail);
    out.fd.reset();
    return std::move(out);
  };
  if (!is_safe_relative_path(file.path)) return fail(OpenFailure::unsafe_path, file.path);
  std::error_code error;
  fs::path root = fs::canonical(shared_dir, error);
  if (error) return fail(OpenFailure::missing, shared_dir.string() + ": " + error.message());
  fs::path target = fs::canonical(root / file.path, error);
  if (error) return fail(OpenFailure::missing, file.path + ": " + error.message());
  if (!is_inside(root, target)) return fail(OpenFailure::outside_shared_dir, file.path + " -> " + target.string());
  if (!private_dir.empty()) {
    fs::path data = fs::weakly_canonical(private_dir, error);
    if (error || data == target || is_inside(data, target) || data == root || is_inside(data, root) ||
        is_inside(root, data))
      return fail(OpenFailure::private_file, file.path + " -> " + target.string());
  }
  // O_NONBLOCK: opening a FIFO must not hang a background thread.
  out.fd = UniqueFd(::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!out.fd) return fail(OpenFailure::missing, file.path + ": " + std::strerror(errno));
  if (::fstat(out.fd.get(), &out.info) != 0) return fail(OpenFailure::missing, file.path + ": " + std::strerror(errno));
  if (!S_ISREG(out.info.st_mode)) return fail(OpenFailure::not_regular, file.path);
  if (out.info.st_size != file.size || !mtime_matches(file.mtime, out.info))
    return fail(OpenFailure::changed, file.path);
  return out;
}

}  // namespace p2pnet::download
