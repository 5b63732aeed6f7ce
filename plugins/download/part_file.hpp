// The downloading side's files in download_dir: NAME.part (the data, written
// at chunk offsets) and NAME.part.json (the record of verified chunks). Every
// function here blocks on the disk: call it from background work only.
// Nothing that already exists in download_dir is ever overwritten: a new
// name, "NAME (1).ext", is chosen instead.
#pragma once

#include "common/sha256.hpp"
#include "part_record.hpp"
#include "unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p2pnet::download {

struct PartPaths {
  std::string name;       // the file name the download will have
  std::string base_name;  // the name asked for; numbered variants of it replace a taken name
  std::filesystem::path final_path;
  std::filesystem::path part;    // NAME.part
  std::filesystem::path record;  // NAME.part.json
};
PartPaths part_paths(const std::filesystem::path& dir, const std::string& name);

// "report.txt", 2 -> "report (2).txt"; n == 0 gives the name itself.
std::string numbered_name(const std::string& name, int n);

// A file name from an untrusted source: the last path component, without
// control characters, at most 200 bytes; names ending in .part or .part.json
// get a "_" so they never collide with a download's own files. Empty if
// nothing usable is left.
std::string sanitize_file_name(std::string_view name);

// NAME.part, open for reading and writing; background jobs share it (pwrite
// and pread at distinct offsets need no lock).
class PartFile {
 public:
  explicit PartFile(UniqueFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
  // Each returns "" or an error line naming the file.
  std::string write(int64_t offset, const void* data, size_t size) const;
  std::string sync() const;
  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::filesystem::path path_;
};

struct PreparedPart {
  std::string error;  // "" on success
  PartPaths paths;
  std::shared_ptr<PartFile> file;
  std::optional<PartRecord> record;     // an earlier attempt at the same hash, to resume
  std::filesystem::path existing_copy;  // set instead of the rest: the file is already here
};

// Chooses the name (resuming NAME.part of the same hash if there is one) and
// opens or creates NAME.part.
PreparedPart prepare_part(const std::filesystem::path& dir, const std::string& wanted_name, const std::string& sha256);

// Flushes NAME.part, then replaces NAME.part.json atomically. "" or an error.
std::string write_record(const PartFile& file, const std::filesystem::path& record_path, const PartRecord& record);

struct FinishedPart {
  std::string error;                // a disk error; the .part is kept
  bool verified = false;            // the whole file matched its SHA-256 and was renamed into place
  std::vector<int64_t> bad_chunks;  // chunks that do not match the manifest (only when not verified)
  std::filesystem::path saved;      // where the file now is
};

// Checks the whole file against its SHA-256 (and, when that fails, every
// chunk against the manifest); only a match is renamed, without overwriting,
// to its final name. `hashed_sha256` is the file's SHA-256 if the caller
// already read it back from NAME.part while downloading; a match spares a
// second pass over the file, anything else ("" or a mismatch) reads it again.
FinishedPart finish_part(const PartFile& file, const std::filesystem::path& dir, const PartPaths& paths, int64_t size,
                         int64_t chunk_size, const std::string& chunk_digests, const std::string& sha256,
                         const std::string& hashed_sha256 = "");

// Feeds bytes [from, to) of NAME.part to `hash`. "" or an error line.
std::string hash_range(const PartFile& file, int64_t from, int64_t to, Sha256& hash);

}  // namespace p2pnet::download
