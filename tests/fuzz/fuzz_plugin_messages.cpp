// Fuzzes one stock plugin's message handlers and console commands in
// isolation: the plugin is loaded from its shared library and driven through
// its C callbacks by a stub host, as a long-running node would drive it.
//
// Input: byte 0 picks a registered message type (0xff: a console command,
// byte 1 picking which), byte 1 the sending peer; the rest is the header
// text up to a NUL, then the body. A header the core would reject never
// reaches a plugin, so such inputs are skipped.
#include "stub_host.hpp"
#include "wire/header_scan.hpp"

#include <p2pnet/plugin_abi.h>

#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using namespace p2pnet::fuzz;

struct Loaded {
  StubHost host;
  const p2pnet_plugin_api* api = nullptr;
  void* instance = nullptr;
};

Loaded& plugin() {
  static Loaded loaded = [] {
    Loaded l;
    void* library = dlopen(P2PNET_FUZZ_PLUGIN_FILE, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      std::fprintf(stderr, "cannot load %s: %s\n", P2PNET_FUZZ_PLUGIN_FILE, dlerror());
      std::abort();
    }
    auto entry = reinterpret_cast<p2pnet_plugin_entry_fn>(dlsym(library, P2PNET_ENTRY_SYMBOL));
    l.api = entry()->api;
    auto dir = std::filesystem::temp_directory_path() / "p2pnet-fuzz-plugin";
    std::filesystem::create_directories(dir / "shared" / "sub");
    std::FILE* file = std::fopen((dir / "shared" / "sub" / "hello.txt").c_str(), "w");
    if (file) {
      std::fputs("hello fuzz", file);
      std::fclose(file);
    }
    l.host.data_dir = (dir / "data").string();
    l.host.peer_ids = {std::string(64, 'a'), std::string(64, 'b'), std::string(64, 'c')};
    std::ifstream settings_file(P2PNET_FUZZ_PLUGIN_SETTINGS_FILE);
    nlohmann::json settings = nlohmann::json::parse(settings_file);
    if (settings.contains("shared_dir")) settings["shared_dir"] = (dir / "shared").string();
    if (settings.contains("download_dir")) settings["download_dir"] = (dir / "downloads").string();
    std::string text = settings.dump();
    char error[256] = {0};
    l.instance = l.api->create(&stub_host_api(), stub_handle(l.host), text.data(), text.size(), error, sizeof error);
    if (!l.instance) {
      std::fprintf(stderr, "plugin refused to load: %s\n", error);
      std::abort();
    }
    if (l.api->on_start) l.api->on_start(l.instance);
    return l;
  }();
  return loaded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Loaded& l = plugin();
  if (size < 2 || l.host.types.empty()) return 0;
  std::vector<const char*> types;
  for (const auto& t : l.host.types) types.push_back(t.c_str());
  const auto* rest = reinterpret_cast<const char*>(data + 2);
  size_t rest_size = size - 2;
  if (data[0] == 0xff) {
    if (l.host.commands.empty() || !l.api->on_command) return 0;
    const auto& name = l.host.commands[data[1] % l.host.commands.size()];
    l.api->on_command(l.instance, 1, name.c_str(), rest, rest_size);
    return 0;
  }
  const std::string& type = l.host.types[data[0] % l.host.types.size()];
  const char* separator = static_cast<const char*>(std::memchr(rest, 0, rest_size));
  size_t header_size = separator ? static_cast<size_t>(separator - rest) : rest_size;
  auto header = nlohmann::json::parse(rest, rest + header_size, nullptr, false);
  if (!header.is_object()) return 0;
  header["type"] = type;
  std::string text = header.dump();
  if (!p2pnet::wire::scan_header(text).ok) return 0;  // e.g. nested deeper than the core allows
  const char* body = separator ? separator + 1 : rest + rest_size;
  size_t body_size = static_cast<size_t>((rest + rest_size) - body);
  p2pnet_peer peer{};
  peer.struct_size = sizeof peer;
  peer.id = l.host.peer_ids[data[1] % l.host.peer_ids.size()].c_str();
  peer.host = "127.0.0.1";
  peer.port = 9001;
  peer.inbound = data[1] & 1;
  peer.authenticated = 1;
  peer.types = types.data();
  peer.type_count = types.size();
  peer.local_host = "127.0.0.1";
  l.api->on_message(l.instance, &peer, type.data(), type.size(), text.data(), text.size(), body, body_size);
  return 0;
}
