// The downloads that ended (saved, failed, cancelled), kept across restarts
// in DATA_DIR/download-history.json: the last kMaxHistory, replaced
// atomically. The file is read back as hostile input: size-capped, every
// field bounded, a damaged entry skipped, a damaged file ignored.
// And the unfinished ones: NAME.part + NAME.part.json in download_dir,
// listed as paused at start so `resume` continues them.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

namespace p2pnet::download {

inline constexpr size_t kMaxHistory = 100;

struct EndedDownload {
  uint64_t id = 0;
  std::string name;
  std::string sha256;
  int64_t size = -1;           // -1: never learned
  std::string state;           // saved, failed, cancelled, already here
  std::string outcome;         // the final line
  double elapsed_seconds = 0;  // time spent running
  int sources = 0;             // sources that delivered chunks
};

std::filesystem::path history_path(const std::filesystem::path& data_dir);
// Blocking: background work only. Missing file: empty; damaged: empty and a warning in `warning`.
std::deque<EndedDownload> read_history(const std::filesystem::path& path, std::string& warning);
// "" or an error line.
std::string write_history(const std::filesystem::path& path, const std::deque<EndedDownload>& history);

struct UnfinishedPart {
  std::string name;  // the download's file name (NAME of NAME.part)
  std::string sha256;
  int64_t size = 0;
  int64_t verified_bytes = 0;
};
// NAME.part.json records with their NAME.part in `dir` (at most kMaxHistory, by name).
std::vector<UnfinishedPart> find_unfinished_parts(const std::filesystem::path& dir);

}  // namespace p2pnet::download
