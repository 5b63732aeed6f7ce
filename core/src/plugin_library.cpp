#include "plugin_library.hpp"

#include <boost/dll/shared_library.hpp>
#include <fmt/core.h>

#include <map>
#include <mutex>

namespace p2pnet {
namespace {

std::mutex cache_mutex;
// Libraries stay loaded until the process ends: code of a plugin may still be
// on a stack somewhere, and unloading buys nothing for a long-running node.
std::map<std::filesystem::path, std::shared_ptr<const PluginLibrary>> loaded;

bool valid_plugin_name(const char* name) {
  if (!name || !*name) return false;
  size_t length = 0;
  for (const char* p = name; *p; ++p, ++length) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok || length >= 64) return false;
  }
  return true;
}

std::shared_ptr<const PluginLibrary> open_library(const std::filesystem::path& file) {
  auto fail = [&](const std::string& reason) {
    return PluginLoadError(fmt::format("plugin file {}: {}", file.string(), reason));
  };
  auto library = std::make_shared<boost::dll::shared_library>();
  std::error_code error;
  library->load(file, error, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (error || !library->is_loaded()) throw fail("not a loadable shared library (" + error.message() + ")");
  if (!library->has(P2PNET_ENTRY_SYMBOL))
    throw fail(fmt::format("no entry symbol {}: not a p2pnet plugin", P2PNET_ENTRY_SYMBOL));
  auto entry = library->get<const p2pnet_plugin_descriptor*()>(P2PNET_ENTRY_SYMBOL);
  const p2pnet_plugin_descriptor* descriptor = entry();
  if (!descriptor || descriptor->struct_size < sizeof(p2pnet_plugin_descriptor))
    throw fail("the entry point returned no valid descriptor");
  if (descriptor->abi_major != P2PNET_ABI_MAJOR)
    throw fail(fmt::format("built for plugin ABI {}.{}, this node supports ABI {}.{}", descriptor->abi_major,
                           descriptor->abi_minor, P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR));
  if (descriptor->abi_minor > P2PNET_ABI_MINOR)
    throw fail(fmt::format("needs plugin ABI {}.{}, this node only has ABI {}.{}; upgrade the node",
                           descriptor->abi_major, descriptor->abi_minor, P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR));
  if (!valid_plugin_name(descriptor->name))
    throw fail("the plugin's name is missing or not made of letters, digits, '_' and '-'");
  if (!descriptor->api || descriptor->api->struct_size < sizeof(uint32_t)) throw fail("the plugin has no callback table");

  auto result = std::make_shared<PluginLibrary>();
  result->file = file;
  result->name = descriptor->name;
  result->version = descriptor->version ? descriptor->version : "";
  result->description = descriptor->description ? descriptor->description : "";
  result->abi_major = descriptor->abi_major;
  result->abi_minor = descriptor->abi_minor;
  result->api = descriptor->api;
  result->handle = library;
  return result;
}

}  // namespace

std::string plugin_file_name(const std::string& name) { return "p2pnet_" + name + ".so"; }

std::filesystem::path find_plugin_file(const std::string& name, const std::vector<std::filesystem::path>& dirs) {
  std::string searched;
  for (const auto& dir : dirs) {
    auto candidate = dir / plugin_file_name(name);
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
    searched += (searched.empty() ? "" : ", ") + dir.string();
  }
  throw PluginLoadError(fmt::format("plugin '{}': {} not found in {}", name, plugin_file_name(name),
                                    searched.empty() ? "any plugin directory (none configured)" : searched));
}

std::shared_ptr<const PluginLibrary> load_plugin_library(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::exists(file, error)) throw PluginLoadError(fmt::format("plugin file {}: file not found", file.string()));
  auto key = std::filesystem::weakly_canonical(file, error);
  if (error) key = file;
  std::lock_guard lock(cache_mutex);
  auto it = loaded.find(key);
  if (it != loaded.end()) return it->second;
  auto library = open_library(file);
  loaded.emplace(key, library);
  return library;
}

}  // namespace p2pnet
