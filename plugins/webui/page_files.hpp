// The page's files, compiled into the plugin (page_files.cpp is generated
// from page/ by embed_page.cmake), so that installing the plugin is one file.
#pragma once

#include <optional>
#include <string_view>

namespace webui {

struct PageFile {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::string_view content;
};

std::optional<PageFile> find_page_file(std::string_view path);

}  // namespace webui
