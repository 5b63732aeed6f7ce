#include "temp_dir.hpp"

#include <stdexcept>
#include <stdlib.h>

namespace p2pnet::test {

TempDir::TempDir(const std::string& label) {
  std::string pattern = (std::filesystem::temp_directory_path() / (label + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace p2pnet::test
