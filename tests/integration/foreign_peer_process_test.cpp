// A program that is not a p2pnet node (here one speaking like the Python
// p2pnetwork, JSON ended by a 0x04 byte) is told apart by its first bytes:
// the node closes it with "not a p2pnet peer (first bytes look like ...)"
// instead of hints about the encryption setting, in both directions.
#include "node_process.hpp"
#include "raw_peer.hpp"
#include "wait.hpp"

#include <fstream>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace p2pnet::test;

namespace {

const std::string kForeignMessage = std::string(R"({"message": "hi", "from": "python"})") + '\x04';

std::string write_node_config(const TempDir& dir, bool encryption) {
  auto path = dir / (encryption ? "tls.toml" : "plain.toml");
  std::ofstream(path) << "[node]\nlog_level = \"info\"\nencryption = " << (encryption ? "true" : "false") << "\n";
  return path.string();
}

bool stderr_has(Process& process, const std::string& text) {
  return wait_until([&] { return process.stderr_text().find(text) != std::string::npos; });
}

// A p2pnetwork-style server: reads what the dialer sends, answers with its
// id as plain text, and closes once the dialer does.
class ForeignServer {
 public:
  ForeignServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 1) == 0);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[4096];
      if (::recv(client, buffer, sizeof buffer, 0) > 0) {
        const std::string id = "python-node-id-1234";
        [[maybe_unused]] auto sent = ::send(client, id.data(), id.size(), MSG_NOSIGNAL);
        while (::recv(client, buffer, sizeof buffer, 0) > 0) {
        }
      }
      ::close(client);
    });
  }
  ~ForeignServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("a client that speaks JSON ended by 0x04 is closed as not a p2pnet peer") {
  TempDir dir("foreign");
  for (bool encryption : {true, false}) {
    INFO("encryption = " << encryption);
    NodeProcess node(P2PNODE_PATH, write_node_config(dir, encryption));
    RawPeer client(node.port());
    client.send_raw(kForeignMessage);
    CHECK(client.wait_closed());
    CHECK_FALSE(client.last_bye());  // no goodbye frame: it could not read one
    INFO(node.process().stderr_text());
    CHECK(
        stderr_has(node.process(), "closed before the handshake finished: not a p2pnet peer (first bytes look like '" +
                                       kForeignMessage.substr(0, 24) + "...')"));
    CHECK(node.process().stderr_text().find("set encryption") == std::string::npos);
    CHECK(node.command("peers", "^0 peers$"));  // and the node goes on
  }
}

TEST_CASE("dialing a server that is not a p2pnet node says so") {
  TempDir dir("foreign");
  for (bool encryption : {true, false}) {
    INFO("encryption = " << encryption);
    NodeProcess node(P2PNODE_PATH, write_node_config(dir, encryption));
    ForeignServer server;
    const std::string target = "127\\.0\\.0\\.1:" + std::to_string(server.port());
    CHECK(node.command("connect 127.0.0.1 " + std::to_string(server.port()),
                       "^error: cannot connect to " + target +
                           R"(: not a p2pnet peer \(first bytes look like 'python-node-id-1234'\)$)"));
  }
}
