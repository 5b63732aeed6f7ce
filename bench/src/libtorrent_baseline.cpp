#include "libtorrent_baseline.hpp"

#include <array>
#include <cstdio>
#include <memory>
#include <sstream>

namespace p2pnet::bench::libtorrent {

namespace fs = std::filesystem;

std::optional<double> download_rate(const fs::path& file, const fs::path& out_dir, std::string& why) {
  fs::create_directories(out_dir);
  // The paths are the bench's own scratch paths; quoted for the shell all the same.
  auto quoted = [](const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string command = "/usr/bin/python3 " +
                        quoted(std::string(P2PNET_BENCH_BASELINE_DIR) + "/libtorrent_download.py") + " " +
                        quoted(file.string()) + " " + quoted(out_dir.string()) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    why = "cannot start python3";
    return std::nullopt;
  }
  std::string output;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe.get())) output += buffer.data();
  int status = pclose(pipe.release());
  fs::remove(out_dir / file.filename());
  double rate = 0;
  std::istringstream parsed(output);
  if (status != 0 || !(parsed >> rate) || rate <= 0) {
    why = output.empty() ? "the libtorrent script failed" : output.substr(0, output.find('\n'));
    return std::nullopt;
  }
  return rate;
}

}  // namespace p2pnet::bench::libtorrent
