// The baseline users would pick instead for files: libtorrent (Debian's
// python3-libtorrent), seeding and downloading the same file on loopback in
// one script, bench/baselines/libtorrent_download.py.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace p2pnet::bench::libtorrent {

// MB/s (10^6 B/s) of one verified libtorrent download of `file` into
// `out_dir` (which it leaves empty again); nullopt with `why` set when the
// baseline cannot run here (no python3-libtorrent, the script failed).
std::optional<double> download_rate(const std::filesystem::path& file, const std::filesystem::path& out_dir,
                                    std::string& why);

}  // namespace p2pnet::bench::libtorrent
