// The webui plugin inside a real Node (so the sanitizer suites, TSan
// included, see its server thread, its hops to the plugin's context and its
// unload under load); the process tests in tests/webui drive it end to end.
#include "test_node.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

// One blocking loopback connection with a receive timeout.
class Socket {
 public:
  explicit Socket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Socket() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& text) {
    for (size_t sent = 0; sent < text.size();) {
      ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  // Reads until `done` holds for what arrived, the peer closes, or the timeout.
  std::string receive(const std::function<bool(const std::string&)>& done) {
    std::string data;
    char buffer[4096];
    while (!done(data)) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      data.append(buffer, static_cast<size_t>(n));
    }
    return data;
  }

 private:
  int fd_;
  bool connected_ = false;
};

struct Reply {
  int status = 0;
  std::string body;
};

Reply http(uint16_t port, const std::string& method, const std::string& target, const std::string& token,
           const std::string& body = "") {
  Socket socket(port);
  if (!socket.connected()) return {};
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  socket.send(request);
  std::string data = socket.receive([](const std::string&) { return false; });
  Reply reply;
  if (data.size() > 12) reply.status = std::atoi(data.c_str() + 9);
  auto end = data.find("\r\n\r\n");
  if (end != std::string::npos) reply.body = data.substr(end + 4);
  return reply;
}

struct Webui {
  uint16_t port = 0;
  std::string token;
};

// The port and token of the nth (from 1) "webui listening on" line.
Webui wait_for_webui(TestNode& node, size_t nth = 1) {
  static const std::regex line(R"(^webui listening on http://127\.0\.0\.1:(\d+)/ \(token in (.+)\)$)");
  Webui webui;
  REQUIRE(wait_until([&] {
    size_t seen = 0;
    for (const auto& event : node.events()) {
      std::smatch match;
      if (std::regex_match(event, match, line) && ++seen == nth) {
        webui.port = static_cast<uint16_t>(std::stoi(match[1]));
        std::ifstream(match[2].str()) >> webui.token;
        return true;
      }
    }
    return false;
  }));
  return webui;
}

NodeConfig webui_config() {
  auto config = test_config();
  config.plugins.push_back(plugin("webui", {{"listen", "127.0.0.1:0"}}));
  return config;
}

}  // namespace

TEST_CASE("webui serves its page and API with the token only", "[webui]") {
  TestNode node(webui_config());
  auto webui = wait_for_webui(node);
  REQUIRE(webui.token.size() == 64);

  auto page = http(webui.port, "GET", "/", "");
  CHECK(page.status == 200);
  CHECK(page.body.find("<title>p2pnet node</title>") != std::string::npos);
  auto refused = http(webui.port, "GET", "/api/peers", "");
  CHECK(refused.status == 401);
  CHECK(node.run("stats").contains("webui.token_refused 1"));
  auto peers = http(webui.port, "GET", "/api/peers", webui.token);
  CHECK(peers.status == 200);
  CHECK(peers.body == R"({"peers":[]})");
}

TEST_CASE("webui unloads cleanly while clients keep sending requests", "[webui]") {
  TestNode node(webui_config());
  auto webui = wait_for_webui(node);
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&, i] {
      while (!stop) {
        auto reply = http(webui.port, "GET", i % 2 ? "/api/peers" : "/app.js", webui.token);
        if (reply.status == 200) ++answered;
      }
    });
  REQUIRE(wait_until([&] { return answered > 20; }));
  CHECK(node.run("plugin unload webui").status == 0);
  CHECK_FALSE(Socket(webui.port).connected());
  CHECK(node.run("plugin load webui").status == 0);
  auto again = wait_for_webui(node, 2);
  int before = answered;
  stop = true;
  for (auto& client : clients) client.join();
  CHECK(answered >= before);
  CHECK(http(again.port, "GET", "/api/peers", again.token).status == 200);
}

TEST_CASE("webui answers 503 beyond max_connections, and serves again once they go", "[webui]") {
  auto config = test_config();
  config.plugins.push_back(plugin("webui", {{"listen", "127.0.0.1:0"}, {"max_connections", 2}}));
  TestNode node(config);
  auto webui = wait_for_webui(node);
  {
    Socket idle1(webui.port), idle2(webui.port);
    REQUIRE(idle1.connected());
    REQUIRE(idle2.connected());
    // The two idle connections are accepted before the request's: wait until the server has them.
    REQUIRE(wait_until([&] { return http(webui.port, "GET", "/api/peers", webui.token).status == 503; }));
  }
  CHECK(wait_until([&] { return http(webui.port, "GET", "/api/peers", webui.token).status == 200; }));
}

TEST_CASE("webui drops an events client that does not read, and keeps serving", "[webui]") {
  auto config = webui_config();
  config.plugins.push_back(plugin("recorder"));
  TestNode node(config);
  auto webui = wait_for_webui(node);

  Socket idle(webui.port);
  REQUIRE(idle.connected());
  idle.send("GET /api/events?token=" + webui.token + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(webui.port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n");
  auto handshake = idle.receive([](const std::string& data) { return data.find("\r\n\r\n") != std::string::npos; });
  REQUIRE(handshake.rfind("HTTP/1.1 101", 0) == 0);

  // 16 MiB of events, far beyond the 4 MiB a client may leave unread (and
  // what the kernel's socket buffers hold).
  std::string padding(64 * 1024, 'x');
  for (int i = 0; i < 256; ++i)
    REQUIRE(node.run("recorder-publish test.padding {\"pad\":\"" + padding + "\"}").contains("status 0"));
  // Read it all now: the server has closed this client, so the stream ends.
  std::string unread = idle.receive([](const std::string&) { return false; });
  CHECK(unread.size() < 256u * padding.size());
  CHECK(http(webui.port, "GET", "/api/peers", webui.token).status == 200);
}
