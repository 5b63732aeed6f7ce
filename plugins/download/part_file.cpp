#include "part_file.hpp"

#include "common/sha256.hpp"
#include "protocol.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace p2pnet::download {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxNameAttempts = 1000;
constexpr size_t kMaxNameBytes = 200;

std::string errno_text(const fs::path& path, int error) { return path.string() + ": " + std::strerror(error); }

bool exists_no_follow(const fs::path& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<PartRecord> read_record(const fs::path& path) {
  std::error_code error;
  auto size = fs::file_size(path, error);
  if (error || size > kMaxRecordBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  return decode_record(json);
}

std::string write_all(int fd, const char* data, size_t size, int64_t offset, const fs::path& path) {
  while (size > 0) {
    ssize_t wrote = ::pwrite(fd, data, size, offset);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return "cannot write " + errno_text(path, errno);
    }
    data += wrote;
    size -= static_cast<size_t>(wrote);
    offset += wrote;
  }
  return "";
}

// Renames without replacing: false with EEXIST if `to` exists.
bool rename_no_replace(const fs::path& from, const fs::path& to, int& error) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  error = errno;
  if (error != EINVAL && error != ENOSYS) return false;
  // A filesystem without RENAME_NOREPLACE: link() refuses to replace, too.
  if (::link(from.c_str(), to.c_str()) != 0) {
    error = errno;
    return false;
  }
  ::unlink(from.c_str());
  return true;
}

}  // namespace

PartPaths part_paths(const fs::path& dir, const std::string& name) {
  return {name, name, dir / name, dir / (name + ".part"), dir / (name + ".part.json")};
}

std::string numbered_name(const std::string& name, int n) {
  if (n == 0) return name;
  std::string suffix = " (" + std::to_string(n) + ")";
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return name + suffix;
  return name.substr(0, dot) + suffix + name.substr(dot);
}

std::string sanitize_file_name(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string out;
  for (char c : name)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxNameBytes) {
    size_t cut = kMaxNameBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 sequence
    out.resize(cut);
  }
  if (out.empty() || out == "." || out == "..") return "";
  if (ends_with(out, ".part") || ends_with(out, ".part.json")) out += "_";
  return out;
}

std::string PartFile::write(int64_t offset, const void* data, size_t size) const {
  return write_all(fd_.get(), static_cast<const char*>(data), size, offset, path_);
}

std::string PartFile::sync() const {
  if (::fdatasync(fd_.get()) != 0) return "cannot flush " + errno_text(path_, errno);
  return "";
}

PreparedPart prepare_part(const fs::path& dir, const std::string& wanted_name, const std::string& sha256) {
  PreparedPart out;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    out.error = "cannot create download_dir " + dir.string() + ": " + error.message();
    return out;
  }
  if (!fs::is_directory(dir, error)) {
    out.error = "download_dir " + dir.string() + " is not a directory";
    return out;
  }
  for (int n = 0; n < kMaxNameAttempts; ++n) {
    PartPaths paths = part_paths(dir, numbered_name(wanted_name, n));
    paths.base_name = wanted_name;
    if (exists_no_follow(paths.record)) {
      auto record = read_record(paths.record);
      if (!record || record->sha256 != sha256 || !exists_no_follow(paths.part)) continue;
      UniqueFd fd(::open(paths.part.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
      struct stat info {};
      if (!fd || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
      out.paths = paths;
      out.file = std::make_shared<PartFile>(std::move(fd), paths.part);
      out.record = std::move(record);
      return out;
    }
    if (exists_no_follow(paths.final_path) || exists_no_follow(paths.part)) continue;
    UniqueFd fd(::open(paths.part.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) {
      if (errno == EEXIST) continue;
      out.error = "cannot create " + errno_text(paths.part, errno);
      return out;
    }
    out.paths = paths;
    out.file = std::make_shared<PartFile>(std::move(fd), paths.part);
    return out;
  }
  out.error = "no free name for " + wanted_name + " in " + dir.string();
  return out;
}

std::string write_record(const PartFile& file, const fs::path& record_path, const PartRecord& record) {
  if (auto error = file.sync(); !error.empty()) return error;
  // The temp name ends in .part, so it is never shared, and never collides
  // with another download's files (sanitize_file_name keeps names off .part.json).
  fs::path temp = record_path;
  temp += ".part";
  std::string text = encode_record(record).dump();
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return "cannot write " + errno_text(temp, errno);
  if (auto error = write_all(fd.get(), text.data(), text.size(), 0, temp); !error.empty()) return error;
  if (::fsync(fd.get()) != 0) return "cannot flush " + errno_text(temp, errno);
  fd.reset();
  if (::rename(temp.c_str(), record_path.c_str()) != 0) return "cannot replace " + errno_text(record_path, errno);
  return "";
}

std::string hash_range(const PartFile& file, int64_t from, int64_t to, Sha256& hash) {
  std::vector<char> buffer(static_cast<size_t>(std::min<int64_t>(to - from, 1024 * 1024)));
  while (from < to) {
    ssize_t got = ::pread(file.fd(), buffer.data(),
                          static_cast<size_t>(std::min<int64_t>(to - from, static_cast<int64_t>(buffer.size()))), from);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      return "cannot read " + (got < 0 ? errno_text(file.path(), errno) : file.path().string() + ": file is short");
    hash.update(buffer.data(), static_cast<size_t>(got));
    from += got;
  }
  return "";
}

FinishedPart finish_part(const PartFile& file, const fs::path& dir, const PartPaths& paths, int64_t size,
                         int64_t chunk_size, const std::string& chunk_digests, const std::string& sha256,
                         const std::string& hashed_sha256) {
  FinishedPart out;
  if (::ftruncate(file.fd(), size) != 0) {
    out.error = "cannot resize " + errno_text(file.path(), errno);
    return out;
  }
  if (auto error = file.sync(); !error.empty()) {
    out.error = error;
    return out;
  }
  // One pass for the whole-file hash. Only when it fails, a second pass finds
  // the chunks that no longer match the manifest, to fetch them again.
  std::vector<char> buffer(static_cast<size_t>(std::min(chunk_size, std::max<int64_t>(size, 1))));
  const int64_t chunks = chunk_count(size, chunk_size);
  auto read_chunk = [&](int64_t index) -> bool {
    int64_t length = chunk_length(size, chunk_size, index);
    for (int64_t done = 0; done < length;) {
      ssize_t got =
          ::pread(file.fd(), buffer.data() + done, static_cast<size_t>(length - done), index * chunk_size + done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        out.error =
            "cannot read " + (got < 0 ? errno_text(file.path(), errno) : file.path().string() + ": file is short");
        return false;
      }
      done += got;
    }
    return true;
  };
  bool matches = hashed_sha256 == sha256;
  if (!matches) {
    Sha256 whole;
    for (int64_t index = 0; index < chunks; ++index) {
      if (!read_chunk(index)) return out;
      whole.update(buffer.data(), static_cast<size_t>(chunk_length(size, chunk_size, index)));
    }
    matches = to_hex(whole.finish()) == sha256;
  }
  if (!matches) {
    Sha256 piece;
    for (int64_t index = 0; index < chunks; ++index) {
      if (!read_chunk(index)) return out;
      piece.update(buffer.data(), static_cast<size_t>(chunk_length(size, chunk_size, index)));
      Digest digest = piece.finish();
      if (std::memcmp(digest.data(), chunk_digests.data() + index * kDigestSize, kDigestSize) != 0)
        out.bad_chunks.push_back(index);
    }
    return out;
  }
  for (int n = 0; n < kMaxNameAttempts; ++n) {
    // The chosen name first; if a file took it meanwhile, the next free variant.
    fs::path target = dir / (n == 0 ? paths.name : numbered_name(paths.base_name, n));
    int error = 0;
    if (rename_no_replace(paths.part, target, error)) {
      ::unlink(paths.record.c_str());
      out.verified = true;
      out.saved = target;
      return out;
    }
    if (error != EEXIST) {
      out.error = "cannot rename " + paths.part.string() + " to " + target.string() + ": " + std::strerror(error);
      return out;
    }
  }
  out.error = "no free name for " + paths.name + " in " + dir.string();
  return out;
}

}  // namespace p2pnet::download
