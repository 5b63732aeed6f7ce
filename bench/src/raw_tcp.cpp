#include "raw_tcp.hpp"

#include "bench_support.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <string>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace p2pnet::bench {
namespace {

// A connected pair of loopback TCP sockets.
struct SocketPair {
  int client = -1;
  int server = -1;
  SocketPair() {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("raw baseline: cannot listen");
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("raw baseline: cannot connect");
    server = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~SocketPair() {
    ::close(client);
    ::close(server);
  }
};

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n <= 0) throw std::runtime_error("raw baseline: write failed");
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void read_exact(int fd, char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n <= 0) throw std::runtime_error("raw baseline: read failed");
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::string frame(size_t payload) {
  std::string out(8, '\0');
  uint32_t length = htonl(static_cast<uint32_t>(payload));
  std::memcpy(out.data(), &length, 4);
  out.append(payload, 'x');
  return out;
}

}  // namespace

double raw_framed_throughput(size_t frames, size_t payload) {
  SocketPair pair;
  std::string one = frame(payload);
  auto start = Clock::now();
  std::thread sender([&] {
    // Batches like a node's gathered writes: as many frames as fit 64 KiB.
    size_t per_batch = std::max<size_t>(1, 65536 / one.size());
    std::string batch;
    for (size_t i = 0; i < per_batch; ++i) batch += one;
    size_t sent = 0;
    while (sent < frames) {
      size_t n = std::min(per_batch, frames - sent);
      write_all(pair.client, batch.data(), n * one.size());
      sent += n;
    }
  });
  std::vector<char> buffer(65536 + one.size());
  size_t have = 0, received = 0;
  while (received < frames) {
    ssize_t n = ::read(pair.server, buffer.data() + have, buffer.size() - have);
    if (n <= 0) throw std::runtime_error("raw baseline: read failed");
    have += static_cast<size_t>(n);
    size_t offset = 0;
    while (have - offset >= 8) {
      uint32_t length;
      std::memcpy(&length, buffer.data() + offset, 4);
      size_t total = 8 + ntohl(length);
      if (have - offset < total) break;
      offset += total;
      ++received;
    }
    std::memmove(buffer.data(), buffer.data() + offset, have - offset);
    have -= offset;
  }
  double elapsed = seconds_since(start);
  sender.join();
  return static_cast<double>(frames) / elapsed;
}

std::vector<double> raw_ping_pong(size_t rounds, size_t payload) {
  SocketPair pair;
  std::string ping = frame(payload);
  std::thread echo([&] {
    std::string buffer(ping.size(), '\0');
    for (size_t i = 0; i < rounds; ++i) {
      read_exact(pair.server, buffer.data(), buffer.size());
      write_all(pair.server, buffer.data(), buffer.size());
    }
  });
  std::vector<double> rtts;
  std::string answer(ping.size(), '\0');
  for (size_t i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    write_all(pair.client, ping.data(), ping.size());
    read_exact(pair.client, answer.data(), answer.size());
    rtts.push_back(seconds_since(start) * 1000.0);
  }
  echo.join();
  return rtts;
}

double raw_file_copy(const std::filesystem::path& source, const std::filesystem::path& target, bool sync) {
  SocketPair pair;
  int in = ::open(source.c_str(), O_RDONLY);
  int out = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0) throw std::runtime_error("raw baseline: cannot open files");
  struct stat info {};
  ::fstat(in, &info);
  size_t size = static_cast<size_t>(info.st_size);
  auto start = Clock::now();
  std::thread sender([&] {
    off_t offset = 0;
    while (static_cast<size_t>(offset) < size)
      if (::sendfile(pair.client, in, &offset, size - static_cast<size_t>(offset)) <= 0)
        throw std::runtime_error("raw baseline: sendfile failed");
  });
  std::vector<char> buffer(1 << 20);
  size_t received = 0;
  while (received < size) {
    ssize_t n = ::read(pair.server, buffer.data(), buffer.size());
    if (n <= 0) throw std::runtime_error("raw baseline: read failed");
    write_all(out, buffer.data(), static_cast<size_t>(n));
    received += static_cast<size_t>(n);
  }
  if (sync) ::fsync(out);
  double elapsed = seconds_since(start);
  sender.join();
  ::close(in);
  ::close(out);
  return static_cast<double>(size) / elapsed / 1e6;
}

}  // namespace p2pnet::bench
