// webui: the node's console and events over HTTP and a WebSocket on
// loopback, and one page (embedded in this library) that uses them.
//   GET  /, /app.js, /style.css        the page
//   POST /api/command {"command": LINE} -> {"lines": [...], "status": N}
//   GET  /api/peers                      -> {"peers": [{id, host, port, inbound, authenticated}]}
//   GET  /api/events (WebSocket)         {"event": NAME, "data": {...}, "time_ms": N} per public event
// The server runs on its own thread; everything that touches the plugin
// (run_command, peers(), counters of commands in flight) hops to the
// plugin's context with post() first.
#include "http_server.hpp"
#include "webui_access.hpp"
#include "webui_routes.hpp"
#include "webui_token.hpp"

#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <chrono>
#include <map>

namespace {

using p2pnet::json;
constexpr size_t kMaxOutputLines = 10000;
constexpr size_t kMaxOutputBytes = 4 * 1024 * 1024;

webui::HttpResponse error_response(int status, const std::string& text) {
  return webui::json_response(status, {{"error", text}});
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class WebuiPlugin : public p2pnet::Plugin {
 public:
  static constexpr uint16_t abi_minor = 2;  // run_command, subscribe_public

  ~WebuiPlugin() override { stop_server(); }

  void on_load(const json& table) override {
    p2pnet::Settings settings(table, "webui");
    std::string listen = settings.string("listen", "127.0.0.1:7102", 64);
    std::string token = settings.string("token", "", 256);
    max_connections_ = static_cast<size_t>(settings.integer("max_connections", 16, 2, 1024));
    max_commands_ = static_cast<size_t>(settings.integer("max_commands", 8, 1, P2PNET_MAX_RUNNING_COMMANDS));
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");

    if (auto why = webui::unusable_listen_address(listen); !why.empty())
      throw std::invalid_argument("plugins.webui.listen: " + why + " (got \"" + listen + "\")");
    rules_.listen = *webui::parse_listen_address(listen);
    if (!token.empty()) {
      if (auto why = webui::unusable_token(token); !why.empty())
        throw std::invalid_argument("plugins.webui.token: " + why);
      rules_.token = token;
      token_source_ = "plugins.webui.token";
      rules_.token_place = "node.toml";
    } else {
      auto file = data_dir() / "webui.token";
      rules_.token = webui::load_or_create_token(file);
      token_source_ = file.string();
      rules_.token_place = "the data dir";
    }
    subscribe_public([this](std::string_view event, const json& data) { forward_event(event, data); });
    // Listening here, not in on_start, makes a taken port a load error
    // (which stops start-up, or keeps the old instance on a reload).
    start_listening();
  }

  void on_start() override {
    server_->run();
    print("webui listening on http://" + webui::own_hosts(rules_.listen).front() + "/ (token in " + token_source_ +
          ")");
  }

  void on_stop() override {
    // A command still running now (the `stop` that stops the node, as a
    // rule: its end may reach this plugin only after on_stop) is answered
    // with what it printed, before the server goes.
    for (auto& [id, command] : commands_)
      command.respond(webui::json_response(
          200, {{"lines", std::move(command.output.lines)}, {"status", 1}, {"error", "the node is stopping"}}));
    commands_.clear();
    stop_server();
  }

 private:
  void start_listening() {
    webui::HttpServerHandlers handlers;
    handlers.on_request = [this](const webui::HttpRequest& request, webui::Responder respond) {
      serve(request, std::move(respond));
    };
    handlers.admit_socket = [this](const webui::HttpRequest& request) { return admit_socket(request); };
    handlers.on_problem = [this](const std::string& text) { warn(text); };
    webui::HttpServerLimits limits;
    limits.max_connections = max_connections_;
    server_ = std::make_unique<webui::HttpServer>(limits, std::move(handlers));
    rules_.listen.port = server_->listen(rules_.listen.host, rules_.listen.port);
  }

  void stop_server() {
    if (server_) server_->stop();
    server_.reset();
  }

  // --- On the server thread: only immutable settings, post() and
  // counters (the host's C calls are thread-safe) -------------------------

  std::optional<webui::HttpResponse> admit_socket(const webui::HttpRequest& request) {
    auto refused = webui::check_socket(request, rules_);
    if (!refused) return std::nullopt;
    if (!refused->counter.empty()) count(refused->counter);
    return std::move(refused->response);
  }

  void serve(const webui::HttpRequest& request, webui::Responder respond) {
    auto route = webui::route_request(request, rules_);
    if (auto* answer = std::get_if<webui::Answer>(&route)) {
      if (!answer->counter.empty()) count(answer->counter);
      return respond(std::move(answer->response));
    }
    if (std::holds_alternative<webui::ListPeers>(route))
      return on_plugin_context(
          [this](const webui::Responder& respond) { respond(webui::json_response(200, peers_json())); }, respond);
    on_plugin_context([this, line = std::get<webui::RunCommand>(route).line](
                          const webui::Responder& respond) { run_for_client(line, respond); },
                      respond);
  }

  // The plugin's state and the SDK calls that keep some (run_command,
  // peers()) belong to its context: the request goes there with post().
  void on_plugin_context(std::function<void(const webui::Responder&)> work, webui::Responder respond) {
    if (!post([work = std::move(work), respond] { work(respond); }))
      respond(error_response(503, "the node is stopping"));
  }

  // --- On the plugin's context -------------------------------------------

  struct Output {
    json lines = json::array();
    size_t bytes = 0;
    bool truncated = false;
  };
  struct ClientCommand {
    Output output;
    webui::Responder respond;
  };

  void run_for_client(const std::string& line, webui::Responder respond) {
    if (commands_.size() >= max_commands_) {
      count("commands_refused");
      return respond(error_response(429, "too many commands running (" + std::to_string(max_commands_) + ")"));
    }
    uint64_t id = ++last_command_id_;
    commands_[id].respond = respond;
    int status = run_command(
        line,
        [this, id](std::string_view text, bool transient) {
          auto it = commands_.find(id);
          if (transient || it == commands_.end()) return;  // status lines: the events carry the progress
          Output& output = it->second.output;
          if (output.lines.size() >= kMaxOutputLines || output.bytes + text.size() > kMaxOutputBytes) {
            output.truncated = true;
            return;
          }
          output.bytes += text.size();
          output.lines.push_back(std::string(text));
        },
        [this, id](int done_status) {
          auto it = commands_.find(id);
          if (it == commands_.end()) return;  // answered when the node stopped
          json body = {{"lines", std::move(it->second.output.lines)}, {"status", done_status}};
          if (it->second.output.truncated) body["truncated"] = true;
          it->second.respond(webui::json_response(200, body));
          commands_.erase(it);
        });
    if (status != P2PNET_OK) {
      commands_.erase(id);
      count("commands_refused");
      respond(error_response(status == P2PNET_ERR_QUEUE_FULL ? 429 : 503,
                             "the node refused the command (status " + std::to_string(status) + ")"));
    }
  }

  json peers_json() {
    json list = json::array();
    for (const auto& peer : peers())
      list.push_back({{"id", peer.id},
                      {"host", peer.host},
                      {"port", peer.port},
                      {"inbound", peer.inbound},
                      {"authenticated", peer.authenticated}});
    return {{"peers", list}};
  }

  void forward_event(std::string_view event, const json& data) {
    if (!server_) return;
    server_->broadcast(webui::dump_json({{"event", event}, {"data", data}, {"time_ms", now_ms()}}));
  }

  webui::AccessRules rules_;  // fixed once loaded: the server thread reads it
  std::string token_source_;
  size_t max_connections_ = 16;
  size_t max_commands_ = 8;
  uint64_t last_command_id_ = 0;
  std::map<uint64_t, ClientCommand> commands_;  // running for a client, by our own id
  std::unique_ptr<webui::HttpServer> server_;
};

}  // namespace

P2PNET_PLUGIN(WebuiPlugin, "webui", "1.0.0", "web page and HTTP/WebSocket API on loopback")
