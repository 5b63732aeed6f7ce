#include "webui_token.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace webui {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxTokenLength = 256;
constexpr size_t kRandomBytes = 32;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": " + why);
}

std::string read_token(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fail(file, std::string("cannot read the webui token: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail(file, "the webui token is not a regular file");
  }
  if (info.st_mode & 0077) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%o", static_cast<unsigned>(info.st_mode & 0777));
    fail(file, std::string("the webui token is readable by other users (mode ") + mode + "); chmod 600 it");
  }
  char buffer[kMaxTokenLength + 2];
  ssize_t got = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  std::string token(buffer, got > 0 ? static_cast<size_t>(got) : 0);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (auto why = unusable_token(token); !why.empty()) fail(file, why + "; remove it to have a new one made");
  return token;
}

std::string create_token(const std::filesystem::path& file) {
  unsigned char random[kRandomBytes];
  if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random))
    fail(file, "cannot make a webui token: no randomness");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char byte : random) {
    token += kHex[byte >> 4];
    token += kHex[byte & 15];
  }
  auto temporary = file.string() + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail(temporary, std::string("cannot create the webui token: ") + std::strerror(errno));
  std::string text = token + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temporary.c_str(), file.c_str()) != 0) {
    std::remove(temporary.c_str());
    fail(file, "cannot store the webui token");
  }
  return token;
}

}  // namespace

std::string unusable_token(const std::string& token) {
  if (token.size() < kMinTokenLength)
    return "a webui token needs at least " + std::to_string(kMinTokenLength) + " characters";
  if (token.size() > kMaxTokenLength)
    return "a webui token has at most " + std::to_string(kMaxTokenLength) + " characters";
  for (char c : token)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return "a webui token may hold only letters, digits, '-' and '_'";
  return "";
}

std::string load_or_create_token(const std::filesystem::path& file) {
  std::error_code error;
  auto status = std::filesystem::symlink_status(file, error);
  if (!error && std::filesystem::exists(status)) return read_token(file);
  return create_token(file);
}

}  // namespace webui
