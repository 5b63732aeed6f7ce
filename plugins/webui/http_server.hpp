// A small HTTP + WebSocket server on its own thread, behind plain C++ types.
// The implementation (websocketpp) compiles only as C++17, so this header is
// the whole boundary: nothing of websocketpp or Asio leaks into the C++20
// plugin. Every callback runs on the server's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace webui {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::string host;
  std::string origin;  // "" when the client sent none
  std::string authorization;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Answers one request; callable once, from any thread.
using Responder = std::function<void(HttpResponse)>;

struct HttpServerLimits {
  size_t max_request_bytes = 64 * 1024;              // headers and body, each
  size_t max_connections = 32;                       // HTTP and WebSocket together
  size_t max_queued_socket_bytes = 4 * 1024 * 1024;  // unread event output before a WebSocket client is dropped
};

struct HttpServerHandlers {
  std::function<void(const HttpRequest&, Responder)> on_request;
  // A WebSocket upgrade: nullopt accepts it, a response refuses it.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> admit_socket;
  std::function<void(const std::string&)> on_problem;  // for the log
};

class HttpServer {
 public:
  HttpServer(HttpServerLimits limits, HttpServerHandlers handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (port 0: the OS picks); returns the bound port.
  // Throws std::runtime_error when it cannot listen.
  uint16_t listen(const std::string& host, uint16_t port);
  // Serves on a new thread (after listen(), so that the caller can settle
  // what its handlers read, such as the port, before the first request).
  void run();
  // Sends a text message to every WebSocket client; from any thread.
  void broadcast(std::string text);
  // Closes the port and every connection and joins the thread. Idempotent.
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace webui
