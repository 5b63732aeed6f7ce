#include "plugin_library.hpp"

#include <dlfcn.h>
#include <fmt/core.h>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace p2pnet {
namespace {

std::mutex cache_mutex;
// Held while a library is mapped (its static constructors run) and while
// it is unmapped (its static destructors run). The loader may map a new
// copy of a plugin where the old one was: the kernel orders the two, but
// ThreadSanitizer does not see that order and reports the destructors and
// constructors of the same statics as a race. The lock makes it visible.
std::mutex mapping_mutex;
// Nodes in one process share a library loaded from the same path. A library
// is unloaded (dlclose) when the last instance using it is gone; each
// instance keeps it until then, and everything that may still call into a
// plugin (a queued callback, a background job) holds its instance.
std::map<std::filesystem::path, std::weak_ptr<const PluginLibrary>> loaded;

// The descriptor as ABI 1.0 released it; the host accepts this size for ever.
constexpr size_t kDescriptorSize10 = offsetof(p2pnet_plugin_descriptor, api) + sizeof(const p2pnet_plugin_api*);

// Every member of the callback table after struct_size is one function
// pointer, so whole members are counted in pointers from the first.
using AnyCallback = void (*)();
constexpr size_t kFirstCallback = offsetof(p2pnet_plugin_api, create);
static_assert((sizeof(p2pnet_plugin_api) - kFirstCallback) % sizeof(AnyCallback) == 0);
static_assert(offsetof(p2pnet_plugin_api, on_command_finished) == sizeof(p2pnet_plugin_api) - sizeof(AnyCallback));

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

// Boost.DLL reports a failed load as a bare errno ("Bad file descriptor");
// the dynamic loader's own words ("file too short", "undefined symbol: X")
// are what tells the user what is wrong.
std::string dynamic_loader_error(const std::filesystem::path& file, const std::error_code& boost_error) {
  dlerror();  // clear any stale message
  if (void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    dlclose(handle);
    return boost_error ? boost_error.message() : "unknown error";
  }
  const char* reason = dlerror();
  return reason ? reason : "unknown error";
}

// A descriptor of any size from ABI 1.0's up: members it lacks read as zero,
// members this host does not know are ignored.
bool read_descriptor(const p2pnet_plugin_descriptor* raw, p2pnet_plugin_descriptor& out, std::string& refusal) {
  out = {};
  if (!raw) {
    refusal = "the entry point returned no descriptor";
    return false;
  }
  if (raw->struct_size < kDescriptorSize10) {
    refusal = fmt::format("the descriptor is {} bytes, less than ABI 1.0's {}: not a p2pnet plugin descriptor",
                          raw->struct_size, kDescriptorSize10);
    return false;
  }
  std::memcpy(&out, raw, std::min<size_t>(raw->struct_size, sizeof out));
  return true;
}

// The plugin's table may come from an older minor version and end before
// later members: copy the whole members it has, leave the rest null. A size
// that ends inside a member is rounded down, never half a pointer copied.
bool read_callbacks(const p2pnet_plugin_api* raw, PluginLibrary& library, std::string& refusal) {
  if (!raw || raw->struct_size < kFirstCallback + sizeof(AnyCallback)) {
    refusal = "the plugin has no callback table";
    return false;
  }
  size_t known = std::min<size_t>(raw->struct_size, sizeof(p2pnet_plugin_api));
  size_t whole = kFirstCallback + (known - kFirstCallback) / sizeof(AnyCallback) * sizeof(AnyCallback);
  if (whole != known)
    library.notes.push_back(fmt::format(
        "the callback table's struct_size {} ends inside a member: using its first {} callbacks, the rest are absent",
        raw->struct_size, (whole - kFirstCallback) / sizeof(AnyCallback)));
  library.callbacks = {};
  std::memcpy(&library.callbacks, raw, whole);
  library.callbacks.struct_size = sizeof(p2pnet_plugin_api);
  return true;
}

// Opens `file`; messages and the library's `file` name `shown` (the path the
// user gave when `file` is a private copy of it).
PluginLoadResult open_library(const std::filesystem::path& file, const std::filesystem::path& shown) {
  auto refuse = [&](const std::string& reason) {
    return PluginLoadResult{nullptr, fmt::format("plugin file {}: {}", shown.string(), reason)};
  };
  std::shared_ptr<boost::dll::shared_library> library(new boost::dll::shared_library,
                                                      [](boost::dll::shared_library* unloaded) {
                                                        std::lock_guard lock(mapping_mutex);
                                                        delete unloaded;
                                                      });
  std::error_code error;
  {
    std::lock_guard lock(mapping_mutex);
    library->load(file, error, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  }
  if (error || !library->is_loaded())
    return refuse("not a loadable shared library (" + dynamic_loader_error(file, error) + ")");
  if (!library->has(P2PNET_ENTRY_SYMBOL))
    return refuse(fmt::format("no entry symbol {}: not a p2pnet plugin", P2PNET_ENTRY_SYMBOL));
  auto entry = library->get<const p2pnet_plugin_descriptor*()>(P2PNET_ENTRY_SYMBOL);
  p2pnet_plugin_descriptor descriptor;
  std::string refusal;
  if (!read_descriptor(entry(), descriptor, refusal)) return refuse(refusal);
  if (descriptor.abi_major != P2PNET_ABI_MAJOR)
    return refuse(fmt::format("built for plugin ABI {}.{}, this node supports ABI {}.{}", descriptor.abi_major,
                              descriptor.abi_minor, P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR));
  if (descriptor.abi_minor > P2PNET_ABI_MINOR)
    return refuse(fmt::format("needs plugin ABI {}.{}, this node only has ABI {}.{}; upgrade the node",
                              descriptor.abi_major, descriptor.abi_minor, P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR));
  if (!valid_plugin_name(descriptor.name))
    return refuse("the plugin's name is missing or not made of letters, digits, '_' and '-'");

  auto result = std::make_shared<PluginLibrary>();
  if (!read_callbacks(descriptor.api, *result, refusal)) return refuse(refusal);
  result->file = shown;
  result->name = descriptor.name;
  result->version = descriptor.version ? descriptor.version : "";
  result->description = descriptor.description ? descriptor.description : "";
  result->abi_major = descriptor.abi_major;
  result->abi_minor = descriptor.abi_minor;
  result->handle = library;
  return {result, ""};
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

PluginLoadResult load_plugin_library(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::exists(file, error))
    return {nullptr, fmt::format("plugin file {}: file not found", file.string())};
  auto key = std::filesystem::weakly_canonical(file, error);
  if (error) key = file;
  std::lock_guard lock(cache_mutex);
  std::erase_if(loaded, [](const auto& entry) { return entry.second.expired(); });
  auto it = loaded.find(key);
  if (it != loaded.end())
    if (auto library = it->second.lock()) return {library, ""};
  auto result = open_library(file, file);
  if (result) loaded[key] = result.library;
  return result;
}

PluginLoadResult load_plugin_library_copy(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error))
    return {nullptr, fmt::format("plugin file {}: file not found", file.string())};
  // A directory only this user can enter: nobody can swap the copy between
  // writing it and loading it.
  std::string pattern = (std::filesystem::temp_directory_path(error) / "p2pnet-plugin-XXXXXX").string();
  if (error || !mkdtemp(pattern.data()))
    return {nullptr, fmt::format("plugin file {}: cannot make a private temporary directory to load a copy from: {}",
                                 file.string(), std::strerror(errno))};
  std::filesystem::path dir = pattern;
  auto copy = dir / file.filename();
  PluginLoadResult result;
  if (std::filesystem::copy_file(file, copy, error))
    result = open_library(copy, file);
  else
    result = {nullptr,
              fmt::format("plugin file {}: cannot copy it to {}: {}", file.string(), dir.string(), error.message())};
  // The mapping stays valid once the file is gone.
  std::filesystem::remove_all(dir, error);
  // The loader's own words name the copy; the user knows the file.
  for (auto at = result.refusal.find(copy.string()); at != std::string::npos;
       at = result.refusal.find(copy.string(), at + file.string().size()))
    result.refusal.replace(at, copy.string().size(), file.string());
  return result;
}

}  // namespace p2pnet
