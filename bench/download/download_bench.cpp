// download_bench [MiB] [chunk_size] [requests_per_source]: one file (default 1 GiB) downloaded
// between two in-process nodes on loopback, against raw TCP on loopback
// measured in the same run. The download's time includes everything a user
// waits for: the source hashing the file for its manifest (cold run only; the
// warm run reuses the cached manifest), per-chunk verification, writing, and
// the final whole-file SHA-256 check.
#include "node_core.hpp"
#include "p2pnet/node.hpp"

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Writes `size` pseudo-random bytes and returns their SHA-256.
std::string write_file(const fs::path& path, uint64_t size) {
  std::ofstream out(path, std::ios::binary);
  std::vector<uint64_t> block(2 * 1024 * 1024);
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  EVP_MD_CTX* hash = EVP_MD_CTX_new();
  EVP_DigestInit_ex(hash, EVP_sha256(), nullptr);
  for (uint64_t written = 0; written < size;) {
    for (auto& word : block) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      word = state;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(size - written, block.size() * 8));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    EVP_DigestUpdate(hash, block.data(), n);
    written += n;
  }
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_DigestFinal_ex(hash, digest, &length);
  EVP_MD_CTX_free(hash);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

// Seconds to push `size` bytes through one loopback TCP connection.
double raw_tcp_seconds(uint64_t size) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot listen on loopback");
  auto start = Clock::now();
  std::thread receiver([listener, size] {
    int fd = ::accept(listener, nullptr, nullptr);
    std::vector<char> buffer(1 << 20);
    for (uint64_t got = 0; got < size;) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n <= 0) break;
      got += static_cast<uint64_t>(n);
    }
    ::close(fd);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot connect");
  std::vector<char> buffer(1 << 20, 'x');
  for (uint64_t sent = 0; sent < size;) {
    ssize_t n = ::write(fd, buffer.data(), static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - sent)));
    if (n <= 0) throw std::runtime_error("write failed");
    sent += static_cast<uint64_t>(n);
  }
  ::close(fd);
  receiver.join();
  ::close(listener);
  return seconds_since(start);
}

p2pnet::NodeConfig node_config(const fs::path& downloads, int64_t chunk_size, int64_t requests_per_source) {
  p2pnet::NodeConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.log_level = p2pnet::LogSeverity::warn;
  config.plugin_dirs = {P2PNET_STOCK_PLUGIN_DIR};
  p2pnet::PluginConfig download;
  download.name = "download";
  download.settings = {
      {"download_dir", downloads.string()}, {"chunk_size", chunk_size}, {"requests_per_source", requests_per_source}};
  config.plugins.push_back(download);
  return config;
}

// Runs `download 1` on `node`; the seconds until it printed its last line, and that line.
std::pair<double, std::string> timed_download(p2pnet::Node& node) {
  auto last = std::make_shared<std::string>();
  std::promise<void> finished;
  auto start = Clock::now();
  node.execute(
      "download 1",
      [last](std::string_view line, bool transient) {
        if (!transient) *last = line;
      },
      [&finished](int) { finished.set_value(); });
  finished.get_future().wait();
  return {seconds_since(start), *last};
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const int64_t chunk_size = argc > 2 ? std::strtoll(argv[2], nullptr, 10) : 256 * 1024;
  const int64_t requests_per_source = argc > 3 ? std::strtoll(argv[3], nullptr, 10) : 8;
  const uint64_t size = mib * 1024 * 1024;
  auto dir = fs::temp_directory_path() / ("p2pnet-download-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir / "shared");
  std::printf("file: %llu MiB, chunks of %lld bytes, %lld requests in flight, in %s\n",
              static_cast<unsigned long long>(mib), static_cast<long long>(chunk_size),
              static_cast<long long>(requests_per_source), dir.c_str());
  const std::string sha = write_file(dir / "shared" / "bench.bin", size);

  const double raw = raw_tcp_seconds(size);
  const double raw_rate = static_cast<double>(mib) / raw;
  std::printf("raw TCP loopback:           %8.1f MiB/s  (%.2f s)\n", raw_rate, raw);

  auto runtime = std::make_shared<p2pnet::Runtime>(2, 2);
  p2pnet::Node source(node_config(dir / "source-downloads", chunk_size, requests_per_source), runtime);
  p2pnet::Node sink(node_config(dir / "downloads", chunk_size, requests_per_source), runtime);
  source.start();
  sink.start();
  std::promise<std::string> connected;
  sink.connect("127.0.0.1", source.listen_port(), [&connected](const std::string& id, const std::string& error) {
    connected.set_value(error.empty() ? id : "");
  });
  if (connected.get_future().get().empty()) {
    std::fprintf(stderr, "cannot connect the nodes\n");
    return 1;
  }
  // Stand in for the search plugin: the source's index and one search result.
  struct stat info {};
  ::stat((dir / "shared" / "bench.bin").c_str(), &info);
  nlohmann::json index = {
      {"shared_dir", fs::canonical(dir / "shared").string()},
      {"files",
       {{{"path", "bench.bin"}, {"size", size}, {"sha256", sha}, {"mtime", static_cast<int64_t>(info.st_mtime)}}}}};
  source.core()->bus().publish("search.index", index.dump());
  nlohmann::json results = {
      {"request", ""},
      {"query", "bench"},
      {"results",
       {{{"index", 1},
         {"name", "bench.bin"},
         {"size", size},
         {"sha256", sha},
         {"sources", {{{"node_id", source.id()}, {"host", "127.0.0.1"}, {"port", source.listen_port()}}}}}}}};
  sink.core()->bus().publish("search.results", results.dump());

  int status = 0;
  for (const char* run : {"cold", "warm"}) {
    auto [seconds, line] = timed_download(sink);
    bool saved = line.rfind("saved ", 0) == 0;
    double rate = static_cast<double>(mib) / seconds;
    std::printf("download (%s manifest):    %8.1f MiB/s  (%.2f s)  %.3f x raw TCP   %s\n", run, rate, seconds,
                rate / raw_rate, saved ? "verified" : line.c_str());
    if (!saved) status = 1;
    fs::remove(dir / "downloads" / "bench.bin");
  }
  sink.stop();
  source.stop();
  fs::remove_all(dir);
  return status;
}
