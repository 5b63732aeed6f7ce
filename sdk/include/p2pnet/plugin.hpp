// The C++ layer of the p2pnet SDK: derive from p2pnet::Plugin, override the
// hooks you need, register handlers in on_load, and export the class with
// P2PNET_PLUGIN. Everything here is header-only and compiled into the plugin,
// so only the C types of plugin_abi.h cross into the node. One header of
// near 700 lines on purpose: a plugin author includes one file and finds
// every hook, handler and host call of the C++ layer in it.
#pragma once

#include <p2pnet/plugin_abi.h>
#include <p2pnet/command_line.hpp>
#include <p2pnet/hex.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace p2pnet {

using json = nlohmann::json;
using Bytes = std::span<const std::byte>;

enum class LogLevel : int {
  trace = P2PNET_LOG_TRACE,
  debug = P2PNET_LOG_DEBUG,
  info = P2PNET_LOG_INFO,
  warn = P2PNET_LOG_WARN,
  error = P2PNET_LOG_ERROR,
};

inline Bytes as_bytes(std::string_view text) { return {reinterpret_cast<const std::byte*>(text.data()), text.size()}; }

inline bool is_node_id(std::string_view id) { return is_sha256_hex(id); }

// A connected peer, valid only during the callback that received it.
class PeerRef {
 public:
  explicit PeerRef(const p2pnet_peer* raw) : raw_(raw) {}
  std::string_view id() const { return raw_->id; }
  std::string_view host() const { return raw_->host; }
  std::string_view local_host() const { return raw_->local_host ? raw_->local_host : ""; }
  uint16_t port() const { return raw_->port; }
  bool inbound() const { return raw_->inbound != 0; }
  bool authenticated() const { return raw_->authenticated != 0; }
  // The relay's id for a relayed link; "" for a direct one (and on a node
  // older than ABI 1.3, whose links are all direct).
  std::string_view relayed_via() const {
    return P2PNET_HAS_MEMBER(p2pnet_peer, raw_, relay_id) && raw_->relay_id ? raw_->relay_id : "";
  }
  bool handles(std::string_view type) const {
    for (size_t i = 0; i < raw_->type_count; ++i)
      if (type == raw_->types[i]) return true;
    return false;
  }

 private:
  const p2pnet_peer* raw_;
};

// A connected peer, copied out of the node.
struct Peer {
  std::string id;
  std::string host;
  std::string local_host;
  uint16_t port = 0;
  bool inbound = false;
  bool authenticated = false;
  std::vector<std::string> types;
  std::string relayed_via;  // "" for a direct link

  static Peer from(const p2pnet_peer& raw) {
    Peer peer{raw.id,
              raw.host,
              raw.local_host ? raw.local_host : "",
              raw.port,
              raw.inbound != 0,
              raw.authenticated != 0,
              {},
              std::string(PeerRef(&raw).relayed_via())};
    for (size_t i = 0; i < raw.type_count; ++i) peer.types.emplace_back(raw.types[i]);
    return peer;
  }
  bool handles(std::string_view type) const {
    for (const auto& t : types)
      if (t == type) return true;
    return false;
  }
};

// A node of the peer store.
struct KnownNode {
  std::string id;
  std::string host;
  uint16_t port = 0;
  int64_t last_seen_ms = 0;
};

struct Message {
  std::string_view type;
  const json& header;
  Bytes body;
};

class Plugin;

// One run of a console command. Output goes to whoever typed it. The command
// ends when the handler returns, unless the handler calls keep() and finishes
// the returned copy later with done().
class Command {
 public:
  Command(Plugin* owner, uint64_t token, std::string name, std::string line)
      : owner_(owner), token_(token), name_(std::move(name)), line_(std::move(line)) {
    args_ = split_command_line(line_);
  }
  const std::string& name() const { return name_; }
  const std::string& line() const { return line_; }
  const std::vector<std::string>& args() const { return args_; }

  inline void print(std::string_view text) const;
  inline void progress(std::string_view text) const;
  inline void done(int status = 0);
  Command keep() {
    kept_ = true;
    Command copy = *this;
    copy.kept_ = false;
    return copy;
  }
  bool kept() const { return kept_; }
  bool finished() const { return finished_; }

 private:
  Plugin* owner_;
  uint64_t token_;
  std::string name_;
  std::string line_;
  std::vector<std::string> args_;
  bool kept_ = false;
  bool finished_ = false;
};

using TimerId = uint64_t;

namespace detail {
template <class T>
struct Adapter;

// What a host visitor collects; an exception thrown while collecting is kept
// here and rethrown once the host's (C) frames are left behind.
template <class Out>
struct Collected {
  Out out{};
  std::exception_ptr failure;
  template <class F>
  void add(F&& f) noexcept {
    if (failure) return;
    try {
      f(out);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  Out take() {
    if (failure) std::rethrow_exception(failure);
    return std::move(out);
  }
};
}  // namespace detail

// Base class of every C++ plugin. Hooks default to doing nothing; handlers
// registered with handle(), subscribe() and command() are dispatched by the
// default hooks. All hooks and handlers of one instance run one at a time.
class Plugin {
 public:
  using MessageHandler = std::function<void(const PeerRef&, const Message&)>;
  // The header as received (JSON text the node has validated), unparsed.
  using RawMessageHandler = std::function<void(const PeerRef&, std::string_view header, Bytes body)>;
  using EventHandler = std::function<void(const json&)>;
  using CommandHandler = std::function<void(Command&)>;
  using ConnectHandler = std::function<void(std::optional<std::string> peer_id, std::string error)>;
  // Since 1.2.
  using PublicEventHandler = std::function<void(std::string_view event, const json& data)>;
  using CommandOutputHandler = std::function<void(std::string_view line, bool transient)>;
  using CommandDoneHandler = std::function<void(int status)>;

  // The lowest host ABI minor this plugin needs. A plugin that uses an
  // addition of a later minor says so in its class:
  //   static constexpr uint16_t abi_minor = 1;
  // and older nodes then refuse it with a clear line instead of failing later.
  static constexpr uint16_t abi_minor = 0;

  virtual ~Plugin() = default;

  // Load hook: read settings and register types, commands and events here.
  // Throw to refuse loading; the message is shown to the user.
  virtual void on_load(const json& /*settings*/) {}
  virtual void on_start() {}
  virtual void on_stop() {}
  virtual void on_peer_connected(const PeerRef& /*peer*/) {}
  virtual void on_peer_disconnected(const PeerRef& /*peer*/, std::string_view /*reason*/) {}
  virtual void on_message(const PeerRef& peer, const Message& message) {
    auto it = message_handlers_.find(std::string(message.type));
    if (it != message_handlers_.end()) it->second(peer, message);
  }
  virtual void on_event(std::string_view event, const json& data) {
    auto it = event_handlers_.find(std::string(event));
    if (it != event_handlers_.end()) it->second(data);
  }

  // --- Registration (only in on_load) ---------------------------------------
  void handle(const std::string& type, MessageHandler handler) {
    check(api_->register_type(host_, type.c_str()), "register message type '" + type + "'");
    message_handlers_[type] = std::move(handler);
  }
  // For hot paths: the handler parses only what it needs (or nothing).
  void handle_raw(const std::string& type, RawMessageHandler handler) {
    check(api_->register_type(host_, type.c_str()), "register message type '" + type + "'");
    raw_handlers_[type] = std::move(handler);
  }
  void command(const std::string& name, const std::string& usage, const std::string& help, CommandHandler handler) {
    check(api_->register_command(host_, name.c_str(), usage.c_str(), help.c_str()), "register command '" + name + "'");
    command_handlers_[name] = std::move(handler);
  }
  void subscribe(const std::string& event, EventHandler handler) {
    check(api_->subscribe(host_, event.c_str()), "subscribe to '" + event + "'");
    event_handlers_[event] = std::move(handler);
  }
  // Every public event of the node (since 1.2: set abi_minor = 2): peer.connected,
  // peer.disconnected, notice, and what plugins publish with publish_public.
  void subscribe_public(PublicEventHandler handler) {
    if (!P2PNET_HAS_MEMBER(p2pnet_host_api, api_, subscribe_public))
      throw std::runtime_error("subscribe_public needs a node with plugin ABI 1.2");
    check(api_->subscribe_public(host_), "subscribe to public events");
    public_event_handler_ = std::move(handler);
  }

  // --- Messaging ------------------------------------------------------------
  int send(std::string_view peer_id, const json& header, Bytes body = {}) {
    return send_text(peer_id, header.dump(), body);
  }
  int send_text(std::string_view peer_id, std::string_view header, Bytes body = {}) {
    std::string id(peer_id);
    return api_->send(host_, id.c_str(), header.data(), header.size(), body.data(), body.size());
  }
  // Sends to every peer that handles the message's type, except the given ids.
  int broadcast(const json& header, const std::vector<std::string>& except = {}, Bytes body = {}) {
    std::string text = header.dump();
    std::vector<const char*> ids;
    ids.reserve(except.size());
    for (const auto& id : except) ids.push_back(id.c_str());
    return api_->broadcast(host_, text.data(), text.size(), body.data(), body.size(), ids.data(), ids.size());
  }
  size_t queued_bytes(std::string_view peer_id) {
    std::string id(peer_id);
    return api_->queued_bytes(host_, id.c_str());
  }

  // --- Peers and the peer store -----------------------------------------------
  std::vector<Peer> peers() {
    detail::Collected<std::vector<Peer>> collected;
    api_->list_peers(
        host_,
        [](void* user, const p2pnet_peer* p) {
          static_cast<detail::Collected<std::vector<Peer>>*>(user)->add(
              [p](std::vector<Peer>& out) { out.push_back(Peer::from(*p)); });
        },
        &collected);
    return collected.take();
  }
  std::optional<Peer> peer(std::string_view peer_id) {
    detail::Collected<std::optional<Peer>> collected;
    std::string id(peer_id);
    api_->get_peer(
        host_, id.c_str(),
        [](void* user, const p2pnet_peer* p) {
          static_cast<detail::Collected<std::optional<Peer>>*>(user)->add(
              [p](std::optional<Peer>& out) { out = Peer::from(*p); });
        },
        &collected);
    return collected.take();
  }
  void connect(const std::string& host, uint16_t port, ConnectHandler done) {
    uint64_t token = 0;
    int status = api_->connect(host_, host.c_str(), port, &token);
    finish_connect_request(status, token, std::move(done));
  }
  void connect_to(const std::string& node_id, ConnectHandler done) {
    uint64_t token = 0;
    int status = api_->connect_id(host_, node_id.c_str(), &token);
    finish_connect_request(status, token, std::move(done));
  }
  int disconnect(std::string_view peer_id) {
    std::string id(peer_id);
    return api_->disconnect(host_, id.c_str());
  }
  int remember_node(const std::string& node_id, const std::string& host, uint16_t port) {
    return api_->remember_node(host_, node_id.c_str(), host.c_str(), port);
  }
  // The relay holding this node's place (since 1.4): its id and where this
  // node reaches it; nothing when it holds none or the node predates 1.4.
  std::optional<KnownNode> own_relay() {
    if (!P2PNET_HAS_MEMBER(p2pnet_host_api, api_, own_relay)) return std::nullopt;
    detail::Collected<std::optional<KnownNode>> collected;
    api_->own_relay(
        host_,
        [](void* user, const p2pnet_known_node* n) {
          static_cast<detail::Collected<std::optional<KnownNode>>*>(user)->add([n](std::optional<KnownNode>& out) {
            out = KnownNode{n->id, n->host, n->port, n->last_seen_ms};
          });
        },
        &collected);
    return collected.take();
  }
  // Hearsay that node_id holds a place on a relay (since 1.4): connecting to
  // it by id goes through that relay first. P2PNET_ERR_UNSUPPORTED before 1.4.
  int remember_relay(const std::string& node_id, const std::string& relay_id, const std::string& relay_host,
                     uint16_t relay_port) {
    if (!P2PNET_HAS_MEMBER(p2pnet_host_api, api_, remember_relay)) return P2PNET_ERR_UNSUPPORTED;
    return api_->remember_relay(host_, node_id.c_str(), relay_id.c_str(), relay_host.c_str(), relay_port);
  }
  std::vector<KnownNode> known_nodes() {
    detail::Collected<std::vector<KnownNode>> collected;
    api_->list_known_nodes(
        host_,
        [](void* user, const p2pnet_known_node* n) {
          static_cast<detail::Collected<std::vector<KnownNode>>*>(user)->add([n](std::vector<KnownNode>& out) {
            out.push_back({n->id, n->host, n->port, n->last_seen_ms});
          });
        },
        &collected);
    return collected.take();
  }

  // --- Local event bus ------------------------------------------------------
  int publish(const std::string& event, const json& data) {
    std::string text = data.dump();
    return api_->publish(host_, event.c_str(), text.data(), text.size());
  }

  // Publishes to the bus and beyond it: control clients following events and
  // plugins that subscribe_public (since 1.2). data must be a JSON object.
  int publish_public(const std::string& event, const json& data) {
    if (!P2PNET_HAS_MEMBER(p2pnet_host_api, api_, publish_public)) return P2PNET_ERR_UNSUPPORTED;
    std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
    return api_->publish_public(host_, event.c_str(), text.data(), text.size());
  }

  // --- Running console commands (since 1.2) ------------------------------------
  // Runs a line as if typed at the console. `out` gets each output line
  // (transient: a status line the next replaces), then `done` the status;
  // both later, on this plugin's context. P2PNET_OK, or why not (then neither
  // handler runs): P2PNET_ERR_QUEUE_FULL beyond P2PNET_MAX_RUNNING_COMMANDS.
  int run_command(std::string_view line, CommandOutputHandler out, CommandDoneHandler done) {
    if (!P2PNET_HAS_MEMBER(p2pnet_host_api, api_, run_command)) return P2PNET_ERR_UNSUPPORTED;
    uint64_t token = 0;
    int status = api_->run_command(host_, line.data(), line.size(), &token);
    if (status == P2PNET_OK) running_commands_[token] = RunningCommand{std::move(out), std::move(done)};
    return status;
  }

  // --- Timers ---------------------------------------------------------------
  TimerId after(uint64_t delay_ms, std::function<void()> fn) { return start_timer(delay_ms, 0, std::move(fn)); }
  TimerId every(uint64_t interval_ms, std::function<void()> fn) {
    return start_timer(interval_ms, interval_ms, std::move(fn));
  }
  void cancel(TimerId id) {
    if (timers_.erase(id) > 0) api_->timer_cancel(host_, id);
  }

  // --- Background work ------------------------------------------------------
  // Runs work on a background thread, then `then` on this plugin's own context.
  // work must not touch the plugin's state; hand results over through captures.
  // A job whose completion the host never delivers (it stopped first) is
  // freed with the plugin.
  void background(std::function<void()> work, std::function<void()> then) {
    auto job = std::make_unique<BackgroundJob>(BackgroundJob{this, std::move(work), std::move(then), {}});
    BackgroundJob* raw = job.get();
    background_jobs_.emplace(raw, std::move(job));
    int status = api_->run_background(host_, &BackgroundJob::run, &BackgroundJob::finish, raw);
    if (status != P2PNET_OK) background_jobs_.erase(raw);
  }

  // Runs `fn` on this plugin's context, like a hook. The one call that may
  // come from any thread: a thread the plugin runs itself (a server's) hands
  // its work over with it. False when the node no longer takes work (the
  // plugin is stopping); fn is then dropped.
  bool post(std::function<void()> fn) {
    auto task = std::make_unique<PostedTask>(PostedTask{this, std::move(fn)});
    PostedTask* raw = task.get();
    {
      std::lock_guard lock(posted_mutex_);
      posted_.emplace(raw, std::move(task));
    }
    if (api_->run_background(host_, &PostedTask::nothing, &PostedTask::run, raw) == P2PNET_OK) return true;
    std::lock_guard lock(posted_mutex_);
    posted_.erase(raw);
    return false;
  }

  // --- Console, logging, counters ----------------------------------------------
  void print(std::string_view text) { api_->print(host_, 0, text.data(), text.size(), 0); }
  // The console's status area (one line at the bottom of a terminal, shown
  // nowhere else): replaces what was there; "" clears it.
  void status(std::string_view text) { api_->print(host_, 0, text.data(), text.size(), P2PNET_PRINT_TRANSIENT); }
  void log(LogLevel level, std::string_view text) {
    api_->log(host_, static_cast<int>(level), text.data(), text.size());
  }
  void debug(std::string_view text) { log(LogLevel::debug, text); }
  void info(std::string_view text) { log(LogLevel::info, text); }
  void warn(std::string_view text) { log(LogLevel::warn, text); }
  void error(std::string_view text) { log(LogLevel::error, text); }
  void count(const std::string& counter, int64_t delta = 1) { api_->count(host_, counter.c_str(), delta); }

  // --- Node facts -----------------------------------------------------------
  std::string node_id() const { return api_->node_id(host_); }
  std::string listen_host() const { return api_->listen_host(host_); }
  uint16_t listen_port() const { return api_->listen_port(host_); }
  std::filesystem::path data_dir() const { return api_->data_dir(host_); }

 private:
  template <class T>
  friend struct detail::Adapter;
  friend class Command;

  struct RunningCommand {
    CommandOutputHandler out;
    CommandDoneHandler done;
  };
  struct Timer {
    std::function<void()> fn;
    bool repeating;
  };
  struct BackgroundJob {
    Plugin* owner;
    std::function<void()> work;
    std::function<void()> then;
    std::string failure;
    static void run(void* user) {
      auto* job = static_cast<BackgroundJob*>(user);
      try {
        job->work();
      } catch (const std::exception& e) {
        job->failure = e.what();
      } catch (...) {
        job->failure = "unknown exception";
      }
    }
    // Called by the node on the plugin's context: like every hook, no
    // exception may leave it (it would unwind through the node's threads).
    static void finish(void* user) {
      auto* raw = static_cast<BackgroundJob*>(user);
      auto owned = raw->owner->background_jobs_.extract(raw);
      if (owned.empty()) return;
      std::unique_ptr<BackgroundJob> job = std::move(owned.mapped());
      try {
        if (!job->failure.empty()) {
          job->owner->count("hook_exceptions");
          job->owner->error("background work failed: " + job->failure);
          return;
        }
        if (job->then) job->then();
      } catch (const std::exception& e) {
        job->owner->report_exception("background completion", e.what());
      } catch (...) {
        job->owner->report_exception("background completion", "unknown exception");
      }
    }
  };

  // post()'s work: nothing on a background thread, then fn on the plugin's
  // context. A task the node never runs (it stopped first) goes with the plugin.
  struct PostedTask {
    Plugin* owner;
    std::function<void()> fn;
    static void nothing(void*) {}
    static void run(void* user) {
      auto* raw = static_cast<PostedTask*>(user);
      std::unique_ptr<PostedTask> task;
      {
        std::lock_guard lock(raw->owner->posted_mutex_);
        auto owned = raw->owner->posted_.extract(raw);
        if (owned.empty()) return;
        task = std::move(owned.mapped());
      }
      try {
        task->fn();
      } catch (const std::exception& e) {
        task->owner->report_exception("posted work", e.what());
      } catch (...) {
        task->owner->report_exception("posted work", "unknown exception");
      }
    }
  };

  void report_exception(const char* hook, const char* what) noexcept {
    try {
      count("hook_exceptions");
      error(std::string(hook) + " threw: " + what);
    } catch (...) {
    }
  }

  static void check(int status, const std::string& what) {
    if (status == P2PNET_OK) return;
    const char* reason = status == P2PNET_ERR_CONFLICT      ? "already taken"
                         : status == P2PNET_ERR_NOT_ALLOWED ? "only allowed in on_load"
                                                            : "invalid";
    throw std::runtime_error("cannot " + what + ": " + reason);
  }
  TimerId start_timer(uint64_t delay_ms, uint64_t repeat_ms, std::function<void()> fn) {
    TimerId id = api_->timer_start(host_, delay_ms, repeat_ms);
    if (id != 0) timers_[id] = Timer{std::move(fn), repeat_ms != 0};
    return id;
  }
  void fire_timer(TimerId id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    if (it->second.repeating) {
      auto fn = it->second.fn;  // the handler may cancel its own timer
      fn();
    } else {
      auto fn = std::move(it->second.fn);
      timers_.erase(it);
      fn();
    }
  }
  void finish_connect_request(int status, uint64_t token, ConnectHandler done) {
    if (status != P2PNET_OK) {
      if (done) done(std::nullopt, status == P2PNET_ERR_NOT_FOUND ? "unknown node" : "cannot connect now");
      return;
    }
    if (done) connect_handlers_[token] = std::move(done);
  }
  void dispatch_command(uint64_t token, const std::string& name, std::string line) {
    Command cmd(this, token, name, std::move(line));
    auto it = command_handlers_.find(name);
    if (it != command_handlers_.end()) it->second(cmd);
    if (!cmd.kept() && !cmd.finished()) cmd.done(0);
  }

  const p2pnet_host_api* api_ = nullptr;
  p2pnet_host* host_ = nullptr;
  std::string name_;
  std::unordered_map<std::string, MessageHandler> message_handlers_;
  std::unordered_map<std::string, RawMessageHandler> raw_handlers_;
  std::unordered_map<std::string, EventHandler> event_handlers_;
  std::unordered_map<std::string, CommandHandler> command_handlers_;
  std::unordered_map<TimerId, Timer> timers_;
  std::unordered_map<uint64_t, ConnectHandler> connect_handlers_;
  std::unordered_map<uint64_t, RunningCommand> running_commands_;
  std::mutex posted_mutex_;  // post() is called from other threads
  std::unordered_map<PostedTask*, std::unique_ptr<PostedTask>> posted_;
  PublicEventHandler public_event_handler_;
  std::unordered_map<BackgroundJob*, std::unique_ptr<BackgroundJob>> background_jobs_;
};

inline void Command::print(std::string_view text) const {
  owner_->api_->print(owner_->host_, token_, text.data(), text.size(), 0);
}
inline void Command::progress(std::string_view text) const {
  owner_->api_->print(owner_->host_, token_, text.data(), text.size(), P2PNET_PRINT_TRANSIENT);
}
inline void Command::done(int status) {
  if (finished_) return;
  finished_ = true;
  owner_->api_->command_done(owner_->host_, token_, status);
}

namespace detail {

// Turns C callbacks into virtual calls; no exception escapes into the host.
template <class T>
struct Adapter {
  static T* self(void* p) { return static_cast<T*>(p); }

  template <class F>
  static void guarded(void* p, const char* hook, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      report(p, hook, e.what());
    } catch (...) {
      report(p, hook, "unknown exception");
    }
  }
  static void report(void* p, const char* hook, const char* what) { self(p)->report_exception(hook, what); }

  static void* create(const p2pnet_host_api* api, p2pnet_host* host, const char* config, size_t config_len, char* error,
                      size_t error_cap) {
    auto fail = [&](const char* reason) -> void* {
      if (error && error_cap > 0) {
        std::strncpy(error, reason, error_cap - 1);
        error[error_cap - 1] = '\0';
      }
      return nullptr;
    };
    if (api == nullptr || api->abi_major != P2PNET_ABI_MAJOR) return fail("host ABI major differs");
    try {
      auto plugin = std::make_unique<T>();
      plugin->api_ = api;
      plugin->host_ = host;
      json settings = config_len ? json::parse(config, config + config_len) : json::object();
      plugin->on_load(settings);
      return plugin.release();
    } catch (const std::exception& e) {
      return fail(e.what());
    } catch (...) {
      return fail("unknown exception in on_load");
    }
  }
  static void destroy(void* p) {
    try {
      delete self(p);
    } catch (...) {
    }
  }
  static void on_start(void* p) {
    guarded(p, "on_start", [&] { self(p)->on_start(); });
  }
  static void on_stop(void* p) {
    guarded(p, "on_stop", [&] { self(p)->on_stop(); });
  }
  static void on_peer_connected(void* p, const p2pnet_peer* peer) {
    guarded(p, "on_peer_connected", [&] { self(p)->on_peer_connected(PeerRef(peer)); });
  }
  static void on_peer_disconnected(void* p, const p2pnet_peer* peer, const char* reason) {
    guarded(p, "on_peer_disconnected", [&] { self(p)->on_peer_disconnected(PeerRef(peer), reason ? reason : ""); });
  }
  static void on_message(void* p, const p2pnet_peer* peer, const char* type, size_t type_len, const char* header,
                         size_t header_len, const void* body, size_t body_len) {
    guarded(p, "on_message", [&] {
      Plugin* plugin = self(p);
      if (!plugin->raw_handlers_.empty()) {
        auto raw = plugin->raw_handlers_.find(std::string(type, type_len));
        if (raw != plugin->raw_handlers_.end())
          return raw->second(PeerRef(peer), std::string_view(header, header_len),
                             Bytes(static_cast<const std::byte*>(body), body_len));
      }
      json parsed = json::parse(header, header + header_len);
      Message message{std::string_view(type, type_len), parsed, Bytes(static_cast<const std::byte*>(body), body_len)};
      self(p)->on_message(PeerRef(peer), message);
    });
  }
  static void on_event(void* p, const char* event, const char* data, size_t len) {
    guarded(p, "on_event", [&] { self(p)->on_event(event, json::parse(data, data + len)); });
  }
  static void on_timer(void* p, uint64_t id) {
    guarded(p, "on_timer", [&] { self(p)->fire_timer(id); });
  }
  static void on_command(void* p, uint64_t token, const char* name, const char* args, size_t args_len) {
    bool ran = false;
    guarded(p, "on_command", [&] {
      self(p)->dispatch_command(token, name, std::string(args, args_len));
      ran = true;
    });
    if (!ran) {
      const char* text = "error: command failed (see log)";
      self(p)->api_->print(self(p)->host_, token, text, std::strlen(text), 0);
      self(p)->api_->command_done(self(p)->host_, token, 1);
    }
  }
  static void on_connect_result(void* p, uint64_t token, const char* peer_id, const char* error) {
    guarded(p, "on_connect_result", [&] {
      Plugin* plugin = self(p);
      auto it = plugin->connect_handlers_.find(token);
      if (it == plugin->connect_handlers_.end()) return;
      auto handler = std::move(it->second);
      plugin->connect_handlers_.erase(it);
      if (peer_id)
        handler(std::string(peer_id), "");
      else
        handler(std::nullopt, error ? error : "connect failed");
    });
  }

  static void on_public_event(void* p, const char* event, const char* data, size_t len) {
    guarded(p, "on_public_event", [&] {
      Plugin* plugin = self(p);
      if (plugin->public_event_handler_) plugin->public_event_handler_(event, json::parse(data, data + len));
    });
  }
  static void on_command_output(void* p, uint64_t token, const char* text, size_t len, uint32_t flags) {
    guarded(p, "on_command_output", [&] {
      Plugin* plugin = self(p);
      auto it = plugin->running_commands_.find(token);
      if (it != plugin->running_commands_.end() && it->second.out)
        it->second.out(std::string_view(text, len), (flags & P2PNET_PRINT_TRANSIENT) != 0);
    });
  }
  static void on_command_finished(void* p, uint64_t token, int status) {
    guarded(p, "on_command_finished", [&] {
      Plugin* plugin = self(p);
      auto it = plugin->running_commands_.find(token);
      if (it == plugin->running_commands_.end()) return;
      auto done = std::move(it->second.done);
      plugin->running_commands_.erase(it);
      if (done) done(status);
    });
  }

  static const p2pnet_plugin_api* api() {
    static const p2pnet_plugin_api table = {
        sizeof(p2pnet_plugin_api),
        &create,
        &destroy,
        &on_start,
        &on_stop,
        &on_peer_connected,
        &on_peer_disconnected,
        &on_message,
        &on_event,
        &on_timer,
        &on_command,
        &on_connect_result,
        &on_public_event,
        &on_command_output,
        &on_command_finished,
    };
    return &table;
  }
};

template <class T>
const p2pnet_plugin_descriptor* describe(const char* name, const char* version, const char* description) {
  static_assert(T::abi_minor <= P2PNET_ABI_MINOR, "the plugin needs a newer SDK than the one it is built with");
  static const p2pnet_plugin_descriptor descriptor = {
      sizeof(p2pnet_plugin_descriptor), P2PNET_ABI_MAJOR, T::abi_minor, name, version, description, Adapter<T>::api(),
  };
  return &descriptor;
}

}  // namespace detail
}  // namespace p2pnet

// Exports a Plugin subclass: P2PNET_PLUGIN(EchoPlugin, "echo", "1.0.0", "Echoes messages back")
#define P2PNET_PLUGIN(Class, name, version, description)                               \
  extern "C" P2PNET_EXPORT const p2pnet_plugin_descriptor* p2pnet_plugin_entry(void) { \
    return ::p2pnet::detail::describe<Class>(name, version, description);              \
  }
