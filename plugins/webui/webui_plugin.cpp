// webui: the node's console and events over HTTP and a WebSocket on
// loopback, and one page (embedded in this library) that uses them.
//   GET  /, /app.js, /style.css        the page
//   POST /api/command {"command": LINE} -> {"lines": [...], "status": N}
//   GET  /api/peers                      -> {"peers": [{id, host, port, inbound, authenticated}]}
//   GET  /api/events (WebSocket)         {"event": NAME, "data": {...}, "time_ms": N} per public event
// The server runs on its own thread; everything that touches the plugin
// (run_command, peers(), counters of commands in flight) hops to the
// plugin's context through the inbox first.
#include "http_server.hpp"
#include "page_files.hpp"
#include "webui_access.hpp"
#include "webui_sdk_shim.hpp"
#include "webui_token.hpp"

#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include <chrono>
#include <deque>
#include <mutex>

namespace {

using p2pnet::json;
constexpr uint64_t kInboxPollMs = 10;
constexpr size_t kMaxCommandLineBytes = 4096;
constexpr size_t kMaxOutputLines = 10000;
constexpr size_t kMaxOutputBytes = 4 * 1024 * 1024;

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

webui::HttpResponse json_response(int status, const json& body) { return {status, "application/json", dump(body), {}}; }
webui::HttpResponse error_response(int status, const std::string& text) {
  return json_response(status, {{"error", text}});
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Work the server thread hands to the plugin's context. The plugin's state is
// not thread-safe; the host's timer brings the plugin here every few
// milliseconds to run what is waiting.
class Inbox {
 public:
  void push(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  void run_waiting() {
    std::deque<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex_);
      ready.swap(tasks_);
    }
    for (auto& task : ready) task();
  }

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
};

class WebuiPlugin : public WebuiBase {
 public:
#if P2PNET_ABI_MINOR >= 2
  static constexpr uint16_t abi_minor = 2;
#endif

  ~WebuiPlugin() override { stop_server(); }

  void on_load(const json& table) override {
    p2pnet::Settings settings(table, "webui");
    std::string listen = settings.string("listen", "127.0.0.1:7102", 64);
    std::string token = settings.string("token", "", 256);
    max_connections_ = static_cast<size_t>(settings.integer("max_connections", 16, 2, 1024));
    max_commands_ = static_cast<size_t>(settings.integer("max_commands", 8, 1, 256));
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");

    if (auto why = webui::unusable_listen_address(listen); !why.empty())
      throw std::invalid_argument("plugins.webui.listen: " + why + " (got \"" + listen + "\")");
    listen_ = *webui::parse_listen_address(listen);
    if (!token.empty()) {
      if (auto why = webui::unusable_token(token); !why.empty())
        throw std::invalid_argument("plugins.webui.token: " + why);
      token_ = token;
      token_source_ = "plugins.webui.token";
    } else {
      token_file_ = data_dir() / "webui.token";
      token_ = webui::load_or_create_token(token_file_);
      token_source_ = token_file_.string();
    }
    subscribe_public([this](std::string_view event, const json& data) { forward_event(event, data); });
  }

  void on_start() override {
    webui::HttpServerHandlers handlers;
    handlers.on_request = [this](const webui::HttpRequest& request, webui::Responder respond) {
      serve(request, std::move(respond));
    };
    handlers.admit_socket = [this](const webui::HttpRequest& request) { return admit_socket(request); };
    handlers.on_problem = [this](const std::string& text) { warn(text); };
    webui::HttpServerLimits limits;
    limits.max_connections = max_connections_;
    server_ = std::make_unique<webui::HttpServer>(limits, std::move(handlers));
    try {
      listen_.port = server_->start(listen_.host, listen_.port);
    } catch (const std::exception& e) {
      server_.reset();
      error(std::string("webui: ") + e.what());
      return;
    }
    poll_timer_ = every(kInboxPollMs, [this] { inbox_.run_waiting(); });
    std::string shown_host = listen_.host.find(':') == std::string::npos ? listen_.host : "[" + listen_.host + "]";
    print("webui listening on http://" + shown_host + ":" + std::to_string(listen_.port) + "/ (token in " +
          token_source_ + ")");
  }

  void on_stop() override {
    stop_server();
    if (poll_timer_) cancel(poll_timer_);
    poll_timer_ = 0;
  }

 private:
  void stop_server() {
    if (server_) server_->stop();
    server_.reset();
  }

  // --- On the server thread: only immutable settings, the inbox and
  // counters (the host's C calls are thread-safe) -------------------------

  std::optional<webui::HttpResponse> refuse(const webui::HttpRequest& request, bool needs_token) {
    if (!webui::host_allowed(request.host, listen_)) {
      count("host_refused");
      return error_response(403, "Host header must name this server (127.0.0.1, localhost or ::1 with its port)");
    }
    if (!webui::origin_allowed(request.origin, listen_)) {
      count("origin_refused");
      return error_response(403, "cross-origin requests are refused");
    }
    if (!needs_token) return std::nullopt;
    std::string given = webui::bearer_token(request.authorization);
    if (given.empty()) given = webui::query_value(request.target, "token");
    if (given.empty()) {
      count("token_refused");
      return error_response(401, "missing token: send Authorization: Bearer TOKEN (the token is in " +
                                     std::string(token_file_.empty() ? "node.toml" : "the data dir") + ")");
    }
    if (!webui::tokens_equal(token_, given)) {
      count("token_refused");
      return error_response(401, "wrong token");
    }
    return std::nullopt;
  }

  std::optional<webui::HttpResponse> admit_socket(const webui::HttpRequest& request) {
    if (webui::target_path(request.target) != "/api/events") return error_response(404, "no such socket");
    return refuse(request, true);
  }

  void serve(const webui::HttpRequest& request, webui::Responder respond) {
    std::string_view path = webui::target_path(request.target);
    bool api = path.substr(0, 5) == "/api/";
    if (auto refusal = refuse(request, api)) return respond(*refusal);
    if (!api) {
      if (request.method != "GET" && request.method != "HEAD") return respond(error_response(405, "use GET"));
      auto file = webui::find_page_file(path == "/" ? "/index.html" : path);
      if (!file) return respond(error_response(404, "no such page"));
      webui::HttpResponse response{200, std::string(file->content_type), std::string(file->content), {}};
      // The page runs only its own script and style, and no other site may frame it.
      response.headers = {{"Content-Security-Policy",
                           "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
                          {"X-Frame-Options", "DENY"},
                          {"Referrer-Policy", "no-referrer"}};
      return respond(std::move(response));
    }
    if (path == "/api/command") {
      if (request.method != "POST") return respond(error_response(405, "use POST"));
      return start_command(request.body, std::move(respond));
    }
    if (path == "/api/peers") {
      if (request.method != "GET") return respond(error_response(405, "use GET"));
      return inbox_.push([this, respond = std::move(respond)] { respond(json_response(200, peers_json())); });
    }
    respond(error_response(404, "no such API"));
  }

  void start_command(const std::string& body, webui::Responder respond) {
    json request = json::parse(body, nullptr, false);
    if (!request.is_object() || !request.contains("command") || !request["command"].is_string())
      return respond(error_response(400, "expected {\"command\": \"LINE\"}"));
    std::string line = request["command"].get<std::string>();
    if (line.size() > kMaxCommandLineBytes)
      return respond(
          error_response(413, "a command line has at most " + std::to_string(kMaxCommandLineBytes) + " bytes"));
    inbox_.push([this, line = std::move(line), respond = std::move(respond)]() mutable {
      run_for_client(line, std::move(respond));
    });
  }

  // --- On the plugin's context -------------------------------------------

  struct Output {
    json lines = json::array();
    size_t bytes = 0;
    bool truncated = false;
  };

  void run_for_client(const std::string& line, webui::Responder respond) {
    if (commands_running_ >= max_commands_) {
      count("commands_refused");
      return respond(error_response(429, "too many commands running (" + std::to_string(max_commands_) + ")"));
    }
    auto output = std::make_shared<Output>();
    ++commands_running_;
    int status = run_line(
        line,
        [output](std::string_view text, bool transient) {
          if (transient) return;  // status lines; the events carry the progress
          if (output->lines.size() >= kMaxOutputLines || output->bytes + text.size() > kMaxOutputBytes) {
            output->truncated = true;
            return;
          }
          output->bytes += text.size();
          output->lines.push_back(std::string(text));
        },
        [this, output, respond](int done_status) {
          --commands_running_;
          json body = {{"lines", std::move(output->lines)}, {"status", done_status}};
          if (output->truncated) body["truncated"] = true;
          respond(json_response(200, body));
        });
    if (status != P2PNET_OK) {
      --commands_running_;
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
    server_->broadcast(dump({{"event", event}, {"data", data}, {"time_ms", now_ms()}}));
  }

  webui::ListenAddress listen_;
  std::string token_;
  std::filesystem::path token_file_;
  std::string token_source_;
  size_t max_connections_ = 16;
  size_t max_commands_ = 8;
  size_t commands_running_ = 0;
  p2pnet::TimerId poll_timer_ = 0;
  Inbox inbox_;
  std::unique_ptr<webui::HttpServer> server_;
};

}  // namespace

P2PNET_PLUGIN(WebuiPlugin, "webui", "1.0.0", "web page and HTTP/WebSocket API on loopback")
