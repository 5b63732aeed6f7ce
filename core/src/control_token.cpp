#include "control_token.hpp"

#include "p2pnet/node.hpp"

#include <fmt/core.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace p2pnet {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxTokenLength = 256;
constexpr size_t kRandomBytes = 32;

std::string read_token(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    throw StartupError(fmt::format("{}: cannot read the control token: {}", file.string(), std::strerror(errno)));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw StartupError(fmt::format("{}: the control token is not a regular file", file.string()));
  }
  if (info.st_mode & 0077) {
    ::close(fd);
    throw StartupError(fmt::format("{}: the control token is readable by other users (mode {:o}); chmod 600 it",
                                   file.string(), info.st_mode & 0777));
  }
  char buffer[kMaxTokenLength + 2];
  ssize_t got = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  std::string token(buffer, got > 0 ? static_cast<size_t>(got) : 0);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (auto why = unusable_control_token(token); !why.empty())
    throw StartupError(fmt::format("{}: {}; remove it to have a new one made", file.string(), why));
  return token;
}

std::string create_token(const std::filesystem::path& file) {
  unsigned char random[kRandomBytes];
  if (RAND_bytes(random, sizeof random) != 1) throw StartupError("cannot make a control token: no randomness");
  std::string token;
  for (unsigned char byte : random) token += fmt::format("{:02x}", byte);
  auto temporary = file.string() + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    throw StartupError(fmt::format("{}: cannot create the control token: {}", temporary, std::strerror(errno)));
  std::string text = token + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temporary.c_str(), file.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw StartupError(fmt::format("{}: cannot store the control token", file.string()));
  }
  return token;
}

}  // namespace

std::string unusable_control_token(const std::string& token) {
  if (token.size() < kMinTokenLength)
    return fmt::format("a control token needs at least {} characters", kMinTokenLength);
  if (token.size() > kMaxTokenLength) return fmt::format("a control token has at most {} characters", kMaxTokenLength);
  for (char c : token)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return "a control token may hold only letters, digits, '-' and '_'";
  return "";
}

std::string load_or_create_control_token(const std::filesystem::path& file) {
  std::error_code error;
  auto status = std::filesystem::symlink_status(file, error);
  if (!error && std::filesystem::exists(status)) return read_token(file);
  return create_token(file);
}

bool control_tokens_equal(const std::string& expected, const std::string& given) {
  // Digests first, so that the comparison takes as long whatever the length
  // of what the client sent.
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), b);
  return !expected.empty() && CRYPTO_memcmp(a, b, sizeof a) == 0;
}

}  // namespace p2pnet
