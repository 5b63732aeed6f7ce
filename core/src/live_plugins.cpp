// Plugins in a node: loaded at start-up, and loaded, unloaded and reloaded
// while it runs without dropping a peer; `reload` applies node.toml again.
//
// Unloading takes the instance out of the node first (routes, commands,
// events, the plugin list, the advertised types), then drains it: timers
// cancelled, new work refused, on_stop, running callbacks and background
// jobs awaited for at most kUnloadWait, destroy. Whatever still runs then
// holds the instance, and so the library, until it ends. A reload checks
// the new file (a private copy, loaded and its descriptor checked) before
// the old instance goes, and brings the old one back if the new one's load
// hook fails: the two are never loaded together, since both would claim the
// same types and commands and may hold the same files.
#include "node_core.hpp"

#include "config_changes.hpp"

#include <fmt/core.h>
#include <boost/dll/runtime_symbol_info.hpp>
#include <p2pnet/counted.hpp>

#include <algorithm>

namespace p2pnet {
namespace {

constexpr auto kUnloadWait = std::chrono::seconds(5);

// Where stock plugins live relative to the running program: <prefix>/bin and
// <prefix>/lib/p2pnet/plugins, in the build tree and in an installed tree alike.
std::filesystem::path default_plugin_dir() {
  std::error_code error;
  auto program = boost::dll::program_location(error);
  if (error) return {};
  return program.parent_path().parent_path() / "lib" / "p2pnet" / "plugins";
}

std::vector<std::filesystem::path> plugin_dirs_of(const NodeConfig& config) {
  std::vector<std::filesystem::path> dirs = config.plugin_dirs;
  if (auto fallback = default_plugin_dir(); !fallback.empty()) dirs.push_back(fallback);
  return dirs;
}

const PluginConfig* table_named(const std::vector<PluginConfig>& tables, const std::string& name) {
  auto it = std::find_if(tables.begin(), tables.end(), [&](const auto& table) { return table.name == name; });
  return it == tables.end() ? nullptr : &*it;
}

}  // namespace

// --- Start-up ---------------------------------------------------------------

void NodeCore::load_plugins() {
  plugin_dirs_ = plugin_dirs_of(config_);
  plugin_tables_ = config_.plugins;
  try {
    load_enabled_plugins();
  } catch (...) {
    // The node will not run: give back what the plugins that did load hold,
    // and break the cycles between the node and its instances (routes,
    // commands and the list hold instances; each instance holds the node).
    for (const auto& plugin : plugin_list()) {
      plugin->destroy_and_wait();
      router_.release(plugin.get());
      plugin->release_node();
    }
    plugins_.clear();
    throw;
  }
}

void NodeCore::load_enabled_plugins() {
  for (const auto& plugin_config : config_.plugins) {
    if (!plugin_config.enabled) {
      log_->debug("plugin '{}' is disabled in the config", plugin_config.name);
      continue;
    }
    std::string refusal = load_plugin(plugin_config, false);
    if (refusal.empty()) continue;
    std::string line = fmt::format("[plugins.{}] {}", plugin_config.name, refusal);
    if (plugin_config.required) throw StartupError(line);
    log_->warn("{}; skipped, as it is not required (required = false)", line);
  }
  advertise_types();
}

// --- Loading and unloading instances ----------------------------------------

std::filesystem::path NodeCore::plugin_file_for(const PluginConfig& plugin_config) const {
  return plugin_config.path.empty() ? find_plugin_file(plugin_config.name, plugin_dirs_) : plugin_config.path;
}

std::string NodeCore::load_plugin(const PluginConfig& plugin_config, bool private_copy) {
  std::filesystem::path file;
  try {
    file = plugin_file_for(plugin_config);
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  auto loaded = private_copy ? load_plugin_library_copy(file) : load_plugin_library(file);
  if (!loaded) return loaded.refusal;
  for (const auto& note : loaded.library->notes)
    log_->warn("[plugins.{}] plugin file {}: {}", plugin_config.name, file.string(), note);
  return add_instance(plugin_config, loaded.library);
}

std::string NodeCore::add_instance(const PluginConfig& plugin_config,
                                   const std::shared_ptr<const PluginLibrary>& library) {
  for (const auto& name : {library->name, plugin_config.name})
    if (auto existing = find_plugin(name))
      return fmt::format("two plugins are named '{}': {} and {}", name, existing->library().file.string(),
                         library->file.string());
  if (library->name != plugin_config.name)
    log_->warn("[plugins.{}] loads {}, which calls itself '{}'", plugin_config.name, library->file.string(),
               library->name);
  auto instance = std::make_shared<PluginInstance>(library, shared_from_this(), runtime_.io, runtime_.background,
                                                   config_.log_level);
  instance->config = plugin_config;
  try {
    instance->create(plugin_config.settings);
  } catch (const StartupError& e) {
    // Never created, nothing to destroy; what it registered before failing goes.
    router_.release(instance.get());
    bus_.unsubscribe(instance.get());
    plugins_.remove(instance.get());
    return fmt::format("{} ({})", e.what(), library->file.string());
  }
  // In this order, each queued on the plugin's strand: on_start, the peers
  // already connected (a peer that connects meanwhile is told once), then
  // the messages its types bring.
  const bool running = started_.load();
  if (running) instance->start();
  plugins_.add(instance);
  if (running)
    for (const auto& connection : established_peers())
      if (!connection->closing()) instance->peer_connected(connection);
  router_.activate(instance.get());
  if (running) advertise_types();
  log_->debug("loaded plugin '{}' {} from {}", library->name, library->version, library->file.string());
  return "";
}

int NodeCore::remove_instance(const std::shared_ptr<PluginInstance>& plugin, const OutputSink& out) {
  plugins_.remove(plugin.get());
  router_.release(plugin.get());
  bus_.unsubscribe(plugin.get());
  advertise_types();
  auto report = plugin->unload(std::chrono::steady_clock::now() + kUnloadWait);
  // Its commands can no longer end by themselves; the console and ctl must not wait for ever.
  running_commands_.fail_all(plugin.get(), fmt::format("error: plugin {} unloaded", plugin->name()));
  if (!report.callbacks_finished)
    out(fmt::format("plugin {}: a callback was still running after {} s; on_stop and destroy run when it returns",
                    plugin->name(), kUnloadWait.count()),
        false);
  if (report.jobs_running)
    out(fmt::format("plugin {}: {} still running after {} s; the plugin is destroyed and its library unloaded "
                    "when the last one ends",
                    plugin->name(), counted(static_cast<long long>(report.jobs_running), "background job"),
                    kUnloadWait.count()),
        false);
  if (!report.destroyed) log_->warn("plugin '{}' unloaded from the node; it is destroyed later", plugin->name());
  return report.destroyed ? 0 : 1;
}

std::shared_ptr<PluginInstance> NodeCore::find_plugin(const std::string& name) const { return plugins_.find(name); }

std::vector<std::shared_ptr<PluginInstance>> NodeCore::plugin_list() const { return plugins_.list(); }

Registration NodeCore::register_type(PluginInstance& plugin, const std::string& type) {
  if (!plugin.loading()) return {P2PNET_ERR_NOT_ALLOWED, ""};
  switch (router_.claim(type, plugin.shared_from_this())) {
    case Router::Claim::ok:
      plugin.types.push_back(type);
      return {P2PNET_OK, ""};
    case Router::Claim::reserved:
      return {P2PNET_ERR_CONFLICT,
              fmt::format("plugin '{}' claims message type '{}', which the core reserves", plugin.name(), type)};
    case Router::Claim::taken:
      auto owner = router_.claimant(type);
      return {P2PNET_ERR_CONFLICT, fmt::format("plugins '{}' and '{}' both claim message type '{}'",
                                               owner ? owner->name() : "?", plugin.name(), type)};
  }
  return {P2PNET_ERR_INVALID, ""};
}

Registration NodeCore::register_command(PluginInstance& plugin, const CommandInfo& command) {
  if (!plugin.loading()) return {P2PNET_ERR_NOT_ALLOWED, ""};
  if (!plugin.library().callbacks.on_command) {
    // The command could only ever print nothing and fail.
    auto why = fmt::format("plugin '{}' registers command '{}' but has no on_command callback to run it", plugin.name(),
                           command.name);
    plugin.log().error("{}", why);
    return {P2PNET_ERR_INVALID, why};
  }
  if (is_core_command(command.name))
    return {P2PNET_ERR_CONFLICT,
            fmt::format("plugin '{}' registers command '{}', which the core already has", plugin.name(), command.name)};
  if (auto owner = plugins_.claim_command(plugin.shared_from_this(), command); !owner.empty())
    return {P2PNET_ERR_CONFLICT,
            fmt::format("plugins '{}' and '{}' both register command '{}'", owner, plugin.name(), command.name)};
  plugin.commands.push_back(command);
  return {P2PNET_OK, ""};
}

// --- The types peers may send us --------------------------------------------

void NodeCore::advertise_types() {
  auto types = router_.types();
  {
    std::lock_guard lock(hello_mutex_);
    if (hello_template_.types == types) return;
    hello_template_.types = types;
  }
  if (!started_) return;
  // Before the walk of the peers: a handshake that ends meanwhile either is
  // in the walk or sees this (send_types_if_stale).
  types_changed_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
  auto frame = wire::make_frame(wire::encode_types_update(types));
  for (const auto& connection : established_peers()) connection->send(frame);
}

void NodeCore::send_types_if_stale(const std::shared_ptr<Connection>& connection) {
  if (types_changed_ns_.load() < connection->connected_at().time_since_epoch().count()) return;
  std::vector<std::string> types;
  {
    std::lock_guard lock(hello_mutex_);
    types = hello_template_.types;
  }
  connection->send(wire::make_frame(wire::encode_types_update(types)));
}

void NodeCore::on_types_update(const std::shared_ptr<Connection>& connection, const wire::FrameView& frame) {
  auto parsed = wire::parse_types_update(frame.header);
  if (!parsed.types) {
    count_event("malformed_types_updates");
    log_->info("ignored a types update from {}: {}", connection->describe(), parsed.error);
    return;
  }
  log_->debug("{} now handles {} message types", connection->describe(), parsed.types->size());
  connection->replace_types(std::move(*parsed.types));
}

// --- Live operations (the worker thread) ------------------------------------

void NodeCore::set_config_source(std::function<NodeConfig()> source) {
  std::lock_guard lock(config_source_mutex_);
  config_source_ = std::move(source);
}

void NodeCore::run_live(std::function<int(const OutputSink&)> operation, OutputSink out,
                        std::function<void(int)> done) {
  // `this`, not a shared pointer: stop() joins the worker before the core can
  // go, and the worker must never hold the last reference to it.
  bool queued = live_worker_.post([this, operation = std::move(operation), out, done] {
    if (stopping_) {
      out("error: node is stopping", false);
      return done(1);
    }
    done(operation(out));
  });
  if (!queued) {
    out("error: node is stopping", false);
    done(1);
  }
}

int NodeCore::load_plugin_live(const std::string& name, const std::string& path, const OutputSink& out) {
  if (auto existing = find_plugin(name)) {
    out(fmt::format("error: plugin {} {} is already loaded from {}; to load its file again: plugin reload {}", name,
                    existing->library().version, existing->library().file.string(), name),
        false);
    return 1;
  }
  PluginConfig plugin_config;
  if (const auto* table = table_named(plugin_tables_, name)) plugin_config = *table;
  plugin_config.name = name;
  if (!path.empty()) plugin_config.path = std::filesystem::absolute(path);
  if (auto refusal = load_plugin(plugin_config, true); !refusal.empty()) {
    out(fmt::format("error: {}", refusal), false);
    return 1;
  }
  auto plugin = find_plugin(name);
  out(fmt::format("loaded plugin {} {} from {}", plugin->name(), plugin->library().version,
                  plugin->library().file.string()),
      false);
  return 0;
}

int NodeCore::unload_plugin_live(const std::string& name, const OutputSink& out) {
  auto plugin = find_plugin(name);
  if (!plugin) {
    out(fmt::format("error: no plugin named {} is loaded", name), false);
    return 1;
  }
  remove_instance(plugin, out);
  out(fmt::format("unloaded plugin {}", plugin->name()), false);
  return 0;
}

int NodeCore::reload_plugin_live(const std::string& name, const OutputSink& out) {
  auto plugin = find_plugin(name);
  if (!plugin) {
    out(fmt::format("error: no plugin named {} is loaded; to load it: plugin load {}", name, name), false);
    return 1;
  }
  std::string old_version = plugin->library().version;
  if (reload_instance(plugin, plugin->config, out) != 0) return 1;
  auto fresh = find_plugin(name);
  out(fmt::format("reloaded plugin {}: {} -> {} from {}", fresh->name(), old_version, fresh->library().version,
                  fresh->library().file.string()),
      false);
  return 0;
}

int NodeCore::reload_instance(const std::shared_ptr<PluginInstance>& old, const PluginConfig& plugin_config,
                              const OutputSink& out) {
  const std::string name = old->name();
  auto keeps_running = [&](const std::string& why) {
    out(fmt::format("error: {}; plugin {} {} keeps running", why, name, old->library().version), false);
    return 1;
  };
  std::filesystem::path file;
  try {
    file = plugin_file_for(plugin_config);
  } catch (const PluginLoadError& e) {
    return keeps_running(e.what());
  }
  auto candidate = load_plugin_library_copy(file);
  if (!candidate) return keeps_running(candidate.refusal);
  if (candidate.library->name != name)
    return keeps_running(
        fmt::format("plugin file {} holds plugin '{}', not '{}'", file.string(), candidate.library->name, name));
  for (const auto& note : candidate.library->notes)
    log_->warn("[plugins.{}] plugin file {}: {}", plugin_config.name, file.string(), note);
  remove_instance(old, out);
  auto refusal = add_instance(plugin_config, candidate.library);
  if (refusal.empty()) return 0;
  out(fmt::format("error: plugin {}: the new one failed to load: {}", name, refusal), false);
  if (auto again = add_instance(old->config, old->library_handle()); !again.empty())
    out(fmt::format("error: plugin {}: the old one failed to load again too: {}; it is not loaded", name, again),
        false);
  else
    out(fmt::format("plugin {}: the old one ({}) is loaded again, with a fresh state", name, old->library().version),
        false);
  return 1;
}

int NodeCore::reload_config(const OutputSink& out) {
  std::function<NodeConfig()> source;
  {
    std::lock_guard lock(config_source_mutex_);
    source = config_source_;
  }
  if (!source) {
    out("error: this node was not started from a configuration file; nothing to reload", false);
    return 1;
  }
  NodeConfig fresh;
  try {
    fresh = source();
  } catch (const std::exception& e) {
    out(fmt::format("error: {}; nothing changed", e.what()), false);
    return 1;
  }
  for (const auto& key : restart_only_changes(config_, fresh))
    out(fmt::format("{}: changes take effect after a restart", key), false);
  apply_relay_service(fresh.relay.service, out);
  plugin_dirs_ = plugin_dirs_of(fresh);
  plugin_tables_ = fresh.plugins;

  int changes = 0;
  int failures = 0;
  for (const auto& plugin : plugin_list()) {
    const auto* table = table_named(fresh.plugins, plugin->config.name);
    if (table && table->enabled) continue;
    ++changes;
    if (remove_instance(plugin, out) != 0) ++failures;
    out(fmt::format("plugin {}: {}; unloaded", plugin->name(), table ? "disabled" : "no longer configured"), false);
  }
  for (const auto& table : fresh.plugins) {
    if (!table.enabled) continue;
    auto loaded = find_plugin(table.name);
    if (!loaded) {
      ++changes;
      if (auto refusal = load_plugin(table, true); !refusal.empty()) {
        ++failures;
        out(fmt::format("error: [plugins.{}] {}", table.name, refusal), false);
        continue;
      }
      out(fmt::format("plugin {}: enabled; loaded {}", table.name, find_plugin(table.name)->library().version), false);
      continue;
    }
    if (loaded->config.settings == table.settings && loaded->config.path == table.path) continue;
    ++changes;
    if (reload_instance(loaded, table, out) != 0) {
      ++failures;
      continue;
    }
    out(fmt::format("plugin {}: settings changed; reloaded", table.name), false);
  }
  out(changes == 0 ? "configuration reloaded: no plugin changed"
                   : fmt::format("configuration reloaded: {} changed", counted(changes, "plugin")),
      false);
  return failures == 0 ? 0 : 1;
}

}  // namespace p2pnet
