#include "index_cache.hpp"

#include <p2pnet/fields.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace p2pnet::search {
namespace {

constexpr const char* kFormat = "p2pnet-search-index";
constexpr int kVersion = 1;

CacheLoad corrupt(std::string problem) {
  CacheLoad out;
  out.status = CacheLoad::Status::corrupt;
  out.problem = std::move(problem);
  return out;
}

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error("cannot write index cache " + file.string() + ": " + what + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& text, const std::filesystem::path& file) {
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(file, "write");
    }
    written += static_cast<size_t>(n);
  }
}

}  // namespace

CacheLoad load_index_cache(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  std::ifstream in(file, std::ios::binary);
  if (!in) return corrupt("cannot open it");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return corrupt("not a JSON object");
  if (fields::string(parsed, "format", 64) != kFormat || fields::integer(parsed, "version", 0, 1000) != kVersion)
    return corrupt("unknown format or version");
  auto shared_dir = parsed.find("shared_dir");
  auto files = parsed.find("files");
  if (shared_dir == parsed.end() || !shared_dir->is_string() || files == parsed.end() || !files->is_array())
    return corrupt("shared_dir or files missing");
  CacheLoad out;
  out.status = CacheLoad::Status::loaded;
  out.index.shared_dir = shared_dir->get<std::string>();
  out.index.files.reserve(files->size());
  for (const auto& item : *files) {
    auto entry = indexed_file_from_json(item);
    if (!entry) return corrupt("a bad file entry: " + item.dump().substr(0, 80));
    out.index.files.push_back(std::move(*entry));
  }
  return out;
}

void save_index_cache(const std::filesystem::path& file, const CachedIndex& index) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& entry : index.files) files.push_back(to_json(entry));
  nlohmann::json document = {
      {"format", kFormat}, {"version", kVersion}, {"shared_dir", index.shared_dir}, {"files", std::move(files)}};
  std::string text = document.dump();

  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  auto temporary = file;
  temporary += ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(temporary, "open");
  write_all(fd, text, temporary);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail(temporary, "fsync");
  }
  if (::close(fd) != 0) fail(temporary, "close");
  if (::rename(temporary.c_str(), file.c_str()) != 0) fail(file, "rename");
}

}  // namespace p2pnet::search
