// websocketpp (Debian's libwebsocketpp-dev) on standalone Asio. Compiled as
// C++17: websocketpp 0.8.2 does not compile as C++20 with g++ 12.
#define ASIO_STANDALONE
#include "http_server.hpp"

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace webui {
namespace {

struct Config : websocketpp::config::asio {
  typedef Config type;
};

using Server = websocketpp::server<Config>;
using Connection = Server::connection_ptr;
using Handle = websocketpp::connection_hdl;

HttpRequest request_of(const Connection& con) {
  const auto& req = con->get_request();
  return {req.get_method(),
          con->get_resource(),
          req.get_header("Host"),
          req.get_header("Origin"),
          req.get_header("Authorization"),
          req.get_body()};
}

void fill(const Connection& con, const HttpResponse& response) {
  con->set_status(static_cast<websocketpp::http::status_code::value>(response.status));
  con->replace_header("Content-Type", response.content_type);
  con->replace_header("Cache-Control", "no-store");
  con->replace_header("X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : response.headers) con->replace_header(name, value);
  con->set_body(response.body);
}

HttpResponse too_busy() { return {503, "application/json", "{\"error\":\"too many connections\"}", {}}; }

}  // namespace

struct HttpServer::Impl {
  HttpServerLimits limits;
  HttpServerHandlers handlers;
  Server server;
  std::thread thread;
  // Touched only on the server thread (and by stop() once it has joined it).
  std::set<Handle, std::owner_less<Handle>> sockets;
  // Deferred HTTP responses. Nothing else holds such a connection while it
  // waits (no read or timer is pending), so this map keeps it alive.
  std::map<Handle, Connection, std::owner_less<Handle>> waiting;
  std::mutex stop_mutex;
  bool running = false;

  void problem(const std::string& text) {
    if (handlers.on_problem) handlers.on_problem(text);
  }

  // Every accepted connection, HTTP or WebSocket, until its object is gone;
  // websocketpp has no limit of its own.
  std::vector<Handle> accepted;

  bool over_limit() {
    accepted.erase(std::remove_if(accepted.begin(), accepted.end(), [](const Handle& h) { return h.expired(); }),
                   accepted.end());
    return accepted.size() > limits.max_connections;
  }

  void on_http(Handle hdl, const std::shared_ptr<Impl>& self) {
    Connection con = server.get_con_from_hdl(hdl);
    if (over_limit()) return fill(con, too_busy());
    if (con->defer_http_response()) return fill(con, {500, "application/json", "{\"error\":\"internal\"}", {}});
    waiting.emplace(hdl, con);
    std::weak_ptr<Impl> weak = self;
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder respond = [weak, hdl, answered](HttpResponse response) {
      if (answered->exchange(true)) return;
      auto impl = weak.lock();
      if (!impl) return;
      // The posted function runs only while the thread runs, and stop()
      // joins it before the server goes: the raw pointer stays valid.
      Impl* raw = impl.get();
      asio::post(raw->server.get_io_service(), [raw, hdl, response = std::move(response)] {
        auto waiting = raw->waiting.find(hdl);
        if (waiting == raw->waiting.end()) return;  // the server stopped meanwhile
        Connection con = std::move(waiting->second);
        raw->waiting.erase(waiting);
        websocketpp::lib::error_code ec;
        fill(con, response);
        con->send_http_response(ec);
      });
    };
    handlers.on_request(request_of(con), std::move(respond));
  }

  bool on_validate(Handle hdl) {
    Connection con = server.get_con_from_hdl(hdl);
    if (over_limit()) {
      fill(con, too_busy());
      return false;
    }
    if (auto refusal = handlers.admit_socket(request_of(con))) {
      fill(con, *refusal);
      return false;
    }
    return true;
  }

  void send_to_all(const std::string& text) {
    for (auto it = sockets.begin(); it != sockets.end();) {
      websocketpp::lib::error_code ec;
      Connection con = server.get_con_from_hdl(*it, ec);
      if (ec) {
        it = sockets.erase(it);
        continue;
      }
      if (con->get_buffered_amount() + text.size() > limits.max_queued_socket_bytes) {
        problem("dropping an events client that does not read (" + std::to_string(con->get_buffered_amount()) +
                " bytes unread)");
        con->close(websocketpp::close::status::policy_violation, "too slow", ec);
        it = sockets.erase(it);
        continue;
      }
      con->send(text, websocketpp::frame::opcode::text);
      ++it;
    }
  }

  // After the thread has ended: close what is left so the sockets go now,
  // not when the last responder lets go of this object.
  void close_everything() {
    asio::error_code ignored;
    for (const auto& hdl : sockets) {
      websocketpp::lib::error_code ec;
      Connection con = server.get_con_from_hdl(hdl, ec);
      if (!ec) con->get_raw_socket().close(ignored);
    }
    for (const auto& [hdl, con] : waiting) con->get_raw_socket().close(ignored);
    sockets.clear();
    waiting.clear();
  }
};

HttpServer::HttpServer(HttpServerLimits limits, HttpServerHandlers handlers) : impl_(std::make_shared<Impl>()) {
  impl_->limits = limits;
  impl_->handlers = std::move(handlers);
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::listen(const std::string& host, uint16_t port) {
  auto& impl = *impl_;
  Server& server = impl.server;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  websocketpp::lib::error_code ec;
  server.init_asio(ec);
  if (ec) throw std::runtime_error("cannot start the HTTP server: " + ec.message());
  server.set_max_http_body_size(impl.limits.max_request_bytes);
  server.set_max_message_size(4096);  // the page sends nothing over its socket
  server.set_open_handshake_timeout(10000);
  // A reload binds the same port while the old instance's connections may
  // still be in TIME_WAIT.
  server.set_reuse_addr(true);
  std::weak_ptr<Impl> weak = impl_;
  Impl* raw = impl_.get();
  server.set_http_handler([raw, weak](Handle hdl) {
    if (auto self = weak.lock()) raw->on_http(hdl, self);
  });
  server.set_validate_handler([raw](Handle hdl) { return raw->on_validate(hdl); });
  server.set_tcp_pre_init_handler([raw](Handle hdl) { raw->accepted.push_back(hdl); });
  server.set_open_handler([raw](Handle hdl) { raw->sockets.insert(hdl); });
  server.set_close_handler([raw](Handle hdl) { raw->sockets.erase(hdl); });
  server.set_fail_handler([raw](Handle hdl) { raw->sockets.erase(hdl); });
  asio::error_code address_error;
  auto address = asio::ip::make_address(host, address_error);
  if (address_error) throw std::runtime_error("not a numeric address: " + host);
  server.listen(asio::ip::tcp::endpoint(address, port), ec);
  if (ec) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  server.start_accept(ec);
  if (ec) throw std::runtime_error("cannot accept on " + host + ":" + std::to_string(port) + ": " + ec.message());
  asio::error_code local_error;
  return server.get_local_endpoint(local_error).port();
}

void HttpServer::run() {
  Impl* raw = impl_.get();
  std::lock_guard lock(raw->stop_mutex);
  raw->running = true;
  raw->thread = std::thread([raw] {
    try {
      raw->server.run();
    } catch (const std::exception& e) {
      raw->problem(std::string("HTTP server stopped: ") + e.what());
    }
  });
}

void HttpServer::broadcast(std::string text) {
  Impl* raw = impl_.get();
  std::lock_guard lock(raw->stop_mutex);
  if (!raw->running) return;
  asio::post(raw->server.get_io_service(), [raw, text = std::move(text)] { raw->send_to_all(text); });
}

void HttpServer::stop() {
  Impl* raw = impl_.get();
  {
    std::lock_guard lock(raw->stop_mutex);
    if (!raw->running) return;
    raw->running = false;
    asio::post(raw->server.get_io_service(), [raw] {
      websocketpp::lib::error_code ec;
      raw->server.stop_listening(ec);
      for (const auto& hdl : raw->sockets)
        raw->server.close(hdl, websocketpp::close::status::going_away, "stopping", ec);
      raw->server.stop();
    });
  }
  if (raw->thread.joinable()) raw->thread.join();
  raw->close_everything();
}

}  // namespace webui
