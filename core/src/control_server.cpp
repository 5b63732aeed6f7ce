#include "control_server.hpp"

#include "control_protocol.hpp"
#include "control_request.hpp"
#include "control_token.hpp"
#include "node_core.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/un.h>
#include <chrono>
#include <deque>
#include <future>

namespace p2pnet {

using json = nlohmann::json;

namespace {

// A TCP client must prove the token within this time, so that programs that
// connect and say nothing cannot hold the client slots.
constexpr auto kFirstRequestDeadline = std::chrono::seconds(10);
// At stop, how long clients get to read what is queued for them.
constexpr auto kFlushTime = std::chrono::seconds(1);

}  // namespace

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ControlServer& server, asio::generic::stream_protocol::socket socket, bool needs_token)
      : server_(server),
        socket_(std::move(socket)),
        input_(control::kMaxRequestBytes + 1),
        needs_token_(needs_token),
        deadline_(socket_.get_executor()) {}

  void start() {
    if (needs_token_) {
      deadline_.expires_after(kFirstRequestDeadline);
      deadline_.async_wait([weak = weak_from_this()](const std::error_code& error) {
        auto self = weak.lock();
        if (error || !self || self->proven_) return;
        self->refuse("no request with a token in time");
      });
    }
    read_next();
  }

  void send_event(const std::string& name, const json& data, int64_t time_ms) {
    if (subscribed_) send({{"event", name}, {"data", data}, {"time_ms", time_ms}});
  }

  // Says why, then closes once that is written.
  void refuse(const std::string& why) {
    send({{"error", why}});
    close_after_writing_ = true;
  }

  // What is queued (the last lines and status of a command such as `stop`)
  // still goes out; nothing new is read.
  void close_once_written() {
    close_after_writing_ = true;
    if (!writing_) close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    deadline_.cancel();
    std::error_code ignored;
    socket_.close(ignored);
    server_.forget(shared_from_this());
  }

 private:
  void read_next() {
    asio::async_read_until(socket_, input_, '\n', [self = shared_from_this()](const std::error_code& error, size_t n) {
      self->on_line(error, n);
    });
  }

  void on_line(const std::error_code& error, size_t length) {
    if (closed_ || close_after_writing_) return;
    if (error == asio::error::not_found)
      return refuse(fmt::format("request longer than {} bytes", control::kMaxRequestBytes));
    if (error) return close();
    std::string line(asio::buffers_begin(input_.data()), asio::buffers_begin(input_.data()) + length - 1);
    input_.consume(length);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) run(line);
    if (!closed_ && !close_after_writing_) read_next();
  }

  void run(const std::string& line) {
    auto parsed = control::parse_request(line);
    if (auto* why = std::get_if<std::string>(&parsed)) return refuse(*why);
    auto& request = std::get<control::Request>(parsed);
    const int64_t id = request.id;
    if (needs_token_) {
      if (!request.token || !control_tokens_equal(server_.token_, *request.token)) {
        server_.count("control_token_refused");
        return refuse(request.token ? "wrong token" : "missing token: every request on TCP carries \"token\"");
      }
      proven_ = true;
      deadline_.cancel();
    }
    if (request.kind == control::Request::Kind::subscribe) {
      subscribed_ = true;
      return send({{"id", id}, {"status", 0}});
    }
    if (!server_.taking_commands_) {
      send({{"id", id}, {"line", "error: the node is stopping"}});
      send({{"id", id}, {"status", 1}});
      return;
    }
    if (running_ >= control::kMaxCommandsPerClient) {
      send({{"id", id}, {"line", fmt::format("error: {} commands already running", running_)}});
      send({{"id", id}, {"status", 1}});
      return;
    }
    ++running_;
    std::weak_ptr<Session> weak = shared_from_this();
    auto& io = server_.io_;
    server_.node_.execute(
        request.command,
        [weak, &io, id](std::string_view text, bool transient) {
          asio::post(io, [weak, id, text = std::string(text), transient] {
            if (auto self = weak.lock()) self->send({{"id", id}, {transient ? "progress" : "line", text}});
          });
        },
        [weak, &io, id](int status) {
          asio::post(io, [weak, id, status] {
            if (auto self = weak.lock()) {
              --self->running_;
              self->send({{"id", id}, {"status", status}});
            }
          });
        });
  }

  void send(const json& message) {
    if (closed_) return;
    // Output is whatever a command printed: invalid UTF-8 is replaced, not fatal.
    std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    if (queued_ + text.size() > control::kMaxQueuedOutputBytes) return close();  // it does not read
    queued_ += text.size();
    pending_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void write_next() {
    if (pending_.empty()) {
      writing_ = false;
      if (close_after_writing_) close();
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(pending_.front()),
                      [self = shared_from_this()](const std::error_code& error, size_t) {
                        if (self->closed_) return;
                        if (error) return self->close();
                        self->queued_ -= self->pending_.front().size();
                        self->pending_.pop_front();
                        self->write_next();
                      });
  }

  ControlServer& server_;
  asio::generic::stream_protocol::socket socket_;
  asio::streambuf input_;
  const bool needs_token_;
  bool proven_ = false;
  asio::steady_timer deadline_;
  std::deque<std::string> pending_;
  size_t queued_ = 0;
  size_t running_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_writing_ = false;
  bool subscribed_ = false;
};

ControlServer::ControlServer(Node& node, const NodeConfig& config)
    : node_(node),
      socket_(control::socket_path(config)),
      max_clients_(config.control.max_clients),
      tcp_(config.control.tcp),
      token_(config.control.token),
      local_acceptor_(io_),
      tcp_acceptor_(io_),
      flush_deadline_(io_) {
  if (!tcp_.empty() && token_.empty()) token_file_ = control::token_path(config);
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  bind_socket();
  if (!tcp_.empty()) {
    if (!token_file_.empty()) token_ = load_or_create_control_token(token_file_);
    bind_tcp();
  }
  started_ = true;
  accept_next(local_acceptor_, false);
  if (tcp_acceptor_.is_open()) accept_next(tcp_acceptor_, true);
  thread_ = std::thread([this] { io_.run(); });
}

void ControlServer::bind_socket() {
  constexpr size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
  if (socket_.native().size() > kMaxPath)
    throw StartupError(fmt::format("control socket {}: longer than {} bytes; set [control] socket to a shorter path",
                                   socket_.string(), kMaxPath));
  std::error_code error;
  auto status = std::filesystem::symlink_status(socket_, error);
  if (!error && std::filesystem::exists(status)) {
    if (!std::filesystem::is_socket(status))
      throw StartupError(fmt::format("control socket {}: exists and is not a socket", socket_.string()));
    std::filesystem::remove(socket_, error);  // left by a node that did not stop cleanly
  }
  asio::local::stream_protocol::endpoint endpoint(socket_.string());
  local_acceptor_.open(endpoint.protocol(), error);
  if (!error) local_acceptor_.bind(endpoint, error);
  // Owner only, set before listen(): until then nobody can connect.
  if (!error && ::chmod(socket_.c_str(), 0600) != 0) error = std::error_code(errno, std::generic_category());
  if (!error) local_acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) throw StartupError(fmt::format("control socket {}: {}", socket_.string(), error.message()));
}

void ControlServer::bind_tcp() {
  auto host_port = split_host_port(tcp_, true);  // checked when node.toml was read
  std::error_code error;
  auto address = host_port ? asio::ip::make_address(host_port->first, error) : asio::ip::address();
  if (!host_port || error) throw StartupError(fmt::format("control tcp {}: expected HOST:PORT", tcp_));
  asio::ip::tcp::endpoint endpoint(address, host_port->second);
  tcp_acceptor_.open(endpoint.protocol(), error);
  if (!error) tcp_acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) tcp_acceptor_.bind(endpoint, error);
  if (!error) tcp_acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) throw StartupError(fmt::format("control tcp {}: {}", tcp_, error.message()));
}

std::string ControlServer::tcp_address() const {
  std::error_code error;
  if (!tcp_acceptor_.is_open()) return "";
  auto endpoint = tcp_acceptor_.local_endpoint(error);
  if (error) return "";
  auto host = endpoint.address().to_string();
  return endpoint.address().is_v6() ? fmt::format("[{}]:{}", host, endpoint.port())
                                    : fmt::format("{}:{}", host, endpoint.port());
}

void ControlServer::stop_taking_commands() {
  if (!started_) return;
  std::promise<void> refused;
  asio::post(io_, [this, &refused] {
    taking_commands_ = false;
    refused.set_value();
  });
  refused.get_future().wait();
}

void ControlServer::stop() {
  if (!started_) return;
  started_ = false;
  // Clients get what is queued for them (a `stop` command's own status among
  // it), for a moment; one that does not read then is cut off.
  std::promise<void> closed;
  asio::post(io_, [this, &closed] {
    std::error_code ignored;
    local_acceptor_.close(ignored);
    tcp_acceptor_.close(ignored);
    stopping_ = true;
    flush_deadline_.expires_after(kFlushTime);
    flush_deadline_.async_wait([this, &closed](const std::error_code&) {
      auto sessions = sessions_;
      for (const auto& session : sessions) session->close();
      closed.set_value();
    });
    auto sessions = sessions_;
    for (const auto& session : sessions) session->close_once_written();
    if (sessions_.empty()) flush_deadline_.cancel();
  });
  closed.get_future().wait();
  io_.stop();
  thread_.join();
  std::error_code ignored;
  std::filesystem::remove(socket_, ignored);
}

void ControlServer::publish(const std::string& event, const std::string& json_text) {
  if (!started_) return;
  auto time_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  // Parsed here, once for every client; the node let only JSON objects through.
  auto data = json::parse(json_text, nullptr, false);
  if (data.is_discarded()) return;
  asio::post(io_, [this, event, data = std::move(data), time_ms] {
    auto sessions = sessions_;  // a client that does not read is closed while sending
    for (const auto& session : sessions) session->send_event(event, data, time_ms);
  });
}

template <class Acceptor>
void ControlServer::accept_next(Acceptor& acceptor, bool needs_token) {
  auto socket = std::make_shared<asio::generic::stream_protocol::socket>(io_);
  acceptor.async_accept(*socket, [this, &acceptor, needs_token, socket](const std::error_code& error) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error) {
      auto session = std::make_shared<Session>(*this, std::move(*socket), needs_token);
      if (sessions_.size() >= max_clients_) {
        session->refuse(fmt::format("too many control clients (at most {})", max_clients_));
      } else {
        sessions_.insert(session);
        session->start();
      }
    }
    accept_next(acceptor, needs_token);
  });
}

void ControlServer::forget(const std::shared_ptr<Session>& session) {
  sessions_.erase(session);
  if (stopping_ && sessions_.empty()) flush_deadline_.cancel();  // all flushed: stop now
}

// Only on thread_, and only while commands are taken: the node still runs.
void ControlServer::count(const std::string& event) {
  if (auto* core = node_.core(); core && taking_commands_) core->count_event(event);
}

}  // namespace p2pnet
