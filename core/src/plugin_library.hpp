// A plugin's shared library, loaded once per process with Boost.DLL and
// checked against the ABI before any of its code runs beyond the entry point.
#pragma once

#include <p2pnet/plugin_abi.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace p2pnet {

class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PluginLibrary {
  std::filesystem::path file;
  std::string name;
  std::string version;
  std::string description;
  uint16_t abi_major = 0;
  uint16_t abi_minor = 0;
  // The plugin's callback table, normalised to this host's layout: members
  // the plugin's table does not wholly hold are null.
  p2pnet_plugin_api callbacks{};
  // What the loader adjusted to accept the library, one line each, for the
  // node to log (for example a callback table rounded down to whole members).
  std::vector<std::string> notes;
  std::shared_ptr<void> handle;  // keeps the library mapped
};

// Either a library or the one line saying why it was refused: a caller that
// loads plugins while the node runs keeps going on a refusal.
struct PluginLoadResult {
  std::shared_ptr<const PluginLibrary> library;
  std::string refusal;  // empty when library is set
  explicit operator bool() const { return library != nullptr; }
};

// The file a plugin is found in: p2pnet_<name>.so in the first directory
// that has it. Throws PluginLoadError naming every directory searched.
std::filesystem::path find_plugin_file(const std::string& name, const std::vector<std::filesystem::path>& dirs);

// Loads (or returns the already loaded) library. A refusal is one line
// naming the file and the reason.
PluginLoadResult load_plugin_library(const std::filesystem::path& file);

// Loads a private copy of the file, never a library already loaded: the way
// to load a new build of a plugin while the old one still runs (the dynamic
// loader would hand back the old one for the same path). The copy is
// deleted once mapped; the library's `file` and messages name `file`.
PluginLoadResult load_plugin_library_copy(const std::filesystem::path& file);

std::string plugin_file_name(const std::string& name);

}  // namespace p2pnet
