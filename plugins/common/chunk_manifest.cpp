#include "common/chunk_manifest.hpp"

#include "common/chunking.hpp"
#include "common/sha256.hpp"

#include <p2pnet/fields.hpp>
#include <p2pnet/hex.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace p2pnet {
namespace {

constexpr const char* kFormat = "p2pnet-chunk-manifest";
constexpr int kVersion = 1;
// The download protocol's bound on a file's size (kMaxFileSize there).
constexpr int64_t kMaxSharedFileSize = int64_t{1} << 50;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error("cannot write chunk manifest " + file.string() + ": " + what + ": " + std::strerror(errno));
}

std::string digests_check(const std::string& digests) { return to_hex(sha256_of(digests)); }

ManifestLoad refused(std::string problem) {
  ManifestLoad out;
  out.problem = std::move(problem);
  return out;
}

}  // namespace

std::filesystem::path chunk_manifest_path(const std::filesystem::path& dir, const std::string& sha256) {
  return dir / (sha256 + ".chunks");
}

void save_chunk_manifest(const std::filesystem::path& dir, const ChunkManifest& manifest) {
  nlohmann::json header = {{"format", kFormat},
                           {"version", kVersion},
                           {"sha256", manifest.sha256},
                           {"size", manifest.size},
                           {"mtime", manifest.mtime},
                           {"chunk_size", manifest.chunk_size},
                           {"chunks", manifest.digests.size() / kDigestSize},
                           {"digests_sha256", digests_check(manifest.digests)}};
  std::string text = header.dump() + "\n" + manifest.digests;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto file = chunk_manifest_path(dir, manifest.sha256);
  auto temporary = file;
  temporary += ".tmp";
  // No fsync: a manifest lost or torn by a crash is refused when read and
  // computed again, which costs time, never correctness.
  Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail(temporary, "open");
  for (size_t written = 0; written < text.size();) {
    ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(temporary, "write");
    written += static_cast<size_t>(n);
  }
  if (::close(fd.release()) != 0) fail(temporary, "close");
  if (::rename(temporary.c_str(), file.c_str()) != 0) fail(file, "rename");
}

ManifestLoad load_chunk_manifest(const std::filesystem::path& dir, const std::string& sha256) {
  if (!is_sha256_hex(sha256)) return refused("not a SHA-256: " + sha256.substr(0, 80));
  const auto file = chunk_manifest_path(dir, sha256);
  // O_NONBLOCK: a FIFO put there must not hang a background thread.
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return ManifestLoad{std::nullopt, true, ""};
    return refused(std::string("cannot open it: ") + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return refused("not a regular file");
  const int64_t limit = static_cast<int64_t>(kMaxManifestHeader) + 1 + kMaxChunks * int64_t{kDigestSize};
  if (info.st_size > limit)
    return refused(std::to_string(info.st_size) + " bytes, more than a manifest can be (" + std::to_string(limit) +
                   ")");
  std::string text(static_cast<size_t>(info.st_size), '\0');
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::pread(fd.get(), text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return refused(std::string("cannot read it: ") + std::strerror(errno));
    if (n == 0) return refused("shorter than it was a moment ago");
    done += static_cast<size_t>(n);
  }
  const size_t line_end = text.find('\n');
  if (line_end == std::string::npos || line_end > kMaxManifestHeader) return refused("no header line");
  auto header = nlohmann::json::parse(text.substr(0, line_end), nullptr, false);
  if (header.is_discarded() || !header.is_object()) return refused("the header is not a JSON object");
  if (fields::string(header, "format", 64) != kFormat || fields::integer(header, "version", 0, 1000) != kVersion)
    return refused("unknown format or version");
  ChunkManifest out;
  auto sha = fields::string(header, "sha256", 64);
  auto size = fields::integer(header, "size", 0, kMaxSharedFileSize);
  auto mtime = fields::integer(header, "mtime", INT64_MIN, INT64_MAX);
  auto chunk_size = fields::integer(header, "chunk_size", kMinChunkSize, kMaxChunkSize);
  auto chunks = fields::integer(header, "chunks", 0, kMaxChunks);
  auto check = fields::string(header, "digests_sha256", 64);
  if (!sha || !size || !mtime || !chunk_size || !chunks || !check) return refused("a header field is missing or bad");
  if (*sha != sha256) return refused("made for another file (" + sha->substr(0, 16) + "...)");
  if (!is_valid_chunk_size(*chunk_size)) return refused("chunk_size is not a power of two");
  if (*chunks != chunk_count(*size, *chunk_size)) return refused("the chunk count does not fit the size");
  out.digests = text.substr(line_end + 1);
  if (static_cast<int64_t>(out.digests.size()) != *chunks * int64_t{kDigestSize})
    return refused("holds " + std::to_string(out.digests.size()) + " bytes of digests, not " +
                   std::to_string(*chunks * int64_t{kDigestSize}));
  if (digests_check(out.digests) != *check) return refused("the digests do not match their check");
  out.sha256 = *sha;
  out.size = *size;
  out.mtime = *mtime;
  out.chunk_size = *chunk_size;
  return ManifestLoad{std::move(out), false, ""};
}

}  // namespace p2pnet
