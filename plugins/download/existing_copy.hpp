// Before fetching a file, is an identical copy (the same SHA-256) already on
// this node? Looked for where a copy may be: among the shared files the
// search plugin's index lists under that hash (the `search.index` event, an
// SDK means any plugin can use), and among the files of download_dir whose
// size is the file's. Each candidate is read whole and hashed: neither the
// index nor a size is trusted to say two files are the same.
#pragma once

#include "shared_index.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace p2pnet::download {

struct CopyCandidates {
  std::filesystem::path shared_dir;
  std::vector<IndexedFile> indexed;   // index entries under the wanted hash
  std::filesystem::path private_dir;  // never read from (the node's data dir)
  std::filesystem::path download_dir;
  int64_t size = -1;  // -1: unknown, download_dir is not looked at
};

// Same-size files of download_dir hashed at most, so a folder of equal-sized
// files cannot make one download read without bound.
inline constexpr size_t kMaxSameSizeCandidates = 8;

// Where the first verified copy is, or an empty path. Blocking: call it from
// background work only.
std::filesystem::path find_existing_copy(const CopyCandidates& candidates, const std::string& sha256);

}  // namespace p2pnet::download
