// Issue 15, items 1 and 7: what a node does with forged discovery answers.
// A raw peer answers the victim's own `discover` with made-up entries; the
// tests judge what the victim then does: who answers `ping ID`, how many
// connections it opens to a third party, and what reaches its console and
// its log.
#include "node_core.hpp"
#include "raw_peer.hpp"
#include "test_node.hpp"

#include "p2pnet/log.hpp"

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace std::chrono_literals;

namespace {

// Plaintext, so that a RawPeer can speak to the victim; dials by id are
// pinned the same way with TLS, where the key also proves the id.
NodeConfig victim_config(const nlohmann::json& discovery = nlohmann::json::object()) {
  auto config = plaintext_config();
  nlohmann::json settings = {{"answer_quiet_ms", 1000}, {"answer_wait_ms", 20000}};
  settings.update(discovery);
  config.plugins.push_back(plugin("discovery", settings));
  config.plugins.push_back(plugin("ping", {{"keepalive_interval_ms", 0}}));
  return config;
}

int64_t core_counter(TestNode& node, const std::string& name) {
  auto events = node->stats().events;
  auto it = events.find(name);
  return it == events.end() ? 0 : static_cast<int64_t>(it->second);
}

int64_t plugin_counter(TestNode& node, const std::string& name) {
  auto counters = node->stats().plugin_counters;
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

nlohmann::json entry(const std::string& id, const std::string& host, uint16_t port) {
  return {{"id", id}, {"host", host}, {"port", port}};
}

// A peer of the victim that answers its discoveries with whatever a test says.
class Forger {
 public:
  explicit Forger(TestNode& victim) : raw_(victim.port()) {
    REQUIRE(raw_.handshake(random_id(), {"discover", "discover_answer"}));
    REQUIRE(wait_until([&] { return victim->peers().size() >= 1; }));
  }

  // The id of the next discover request the victim sends.
  std::string next_request() {
    for (int i = 0; i < 20; ++i) {
      auto frame = raw_.read_frame();
      if (!frame) break;
      if (frame->type() == "discover") return frame->json()["id"];
    }
    FAIL("the victim sent no discover request");
    return "";
  }

  void answer(const std::string& request, const nlohmann::json& node, nlohmann::json outbound = nlohmann::json::array(),
              nlohmann::json inbound = nlohmann::json::array()) {
    REQUIRE(raw_.send_json({{"type", "discover_answer"},
                            {"id", request},
                            {"node_id", node["id"]},
                            {"host", node["host"]},
                            {"port", node["port"]},
                            {"outbound_nodes", std::move(outbound)},
                            {"inbound_nodes", std::move(inbound)}}));
  }

 private:
  RawPeer raw_;
};

// Runs `discover 1` on the victim in the background; the lines it prints.
struct RunningCommand {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::atomic<int> status{-1};

  void start(TestNode& node, const std::string& line) {
    node->execute(
        line,
        [this](std::string_view text, bool) {
          std::lock_guard lock(mutex);
          lines.emplace_back(text);
        },
        [this](int s) { status = s; });
  }
  std::string text() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// A third party that accepts TCP connections, counts them and hangs up.
class CountingListener {
 public:
  CountingListener() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~CountingListener() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_; }

 private:
  void accept() {
    acceptor_.async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
      if (error) return;
      ++accepted_;
      std::error_code ignored;
      socket.close(ignored);
      accept();
    });
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("ping ID never reaches an impostor that a forged answer put at that id's address", "[peer_attacks]") {
  TestNode victim(victim_config()), honest(victim_config()), impostor(victim_config());
  Forger forger(victim);
  victim->execute("discover 1", {}, {});
  forger.answer(forger.next_request(), entry(honest.id(), "127.0.0.1", impostor.port()));
  REQUIRE(wait_until([&] { return plugin_counter(victim, "discovery.answers_received") == 1; }));

  auto ping = victim.run("ping " + honest.id());
  INFO(ping.text());
  CHECK_FALSE(ping.contains("pong from " + impostor.id()));
  CHECK(ping.status != 0);
  CHECK_FALSE(victim.has_peer(impostor.id()));
  CHECK(core_counter(victim, "pinned_id_mismatch") == 1);

  // The address proved wrong: it is not offered, nor dialed, again.
  auto again = victim.run("ping " + honest.id());
  INFO(again.text());
  CHECK(again.status != 0);
  CHECK(core_counter(victim, "pinned_id_mismatch") == 1);
  CHECK_FALSE(victim.run("nodes").contains(honest.id()));
}

TEST_CASE("under TLS an impostor is refused on its key alone and its address is not dialed for that id again",
          "[peer_attacks]") {
  auto config = test_config();  // encryption = true
  config.plugins.push_back(plugin("ping", {{"keepalive_interval_ms", 0}}));
  TestNode victim(config), honest(config), impostor(config);
  REQUIRE(victim->core()->peer_store().remember_hearsay(honest.id(), "127.0.0.1", impostor.port()) ==
          PeerStore::Hearsay::stored);

  auto ping = victim.run("ping " + honest.id());
  INFO(ping.text());
  CHECK(ping.status != 0);
  CHECK_FALSE(victim.has_peer(impostor.id()));
  CHECK(core_counter(victim, "pinned_id_mismatch") == 1);

  auto again = victim.run("ping " + honest.id());
  INFO(again.text());
  CHECK(again.status != 0);
  CHECK(core_counter(victim, "pinned_id_mismatch") == 1);
  CHECK_FALSE(victim.run("nodes").contains(honest.id()));
}

TEST_CASE("hearsay never replaces the address a handshake proved", "[peer_attacks]") {
  TestNode victim(victim_config()), honest(victim_config()), impostor(victim_config());
  REQUIRE(victim.connect_to(honest) == honest.id());
  REQUIRE(victim.run("disconnect " + honest.id()).status == 0);
  REQUIRE(wait_until([&] { return !victim.has_peer(honest.id()); }));

  Forger forger(victim);
  victim->execute("discover 1", {}, {});
  forger.answer(forger.next_request(), entry(honest.id(), "127.0.0.1", impostor.port()));
  REQUIRE(wait_until([&] { return plugin_counter(victim, "discovery.answers_received") == 1; }));

  auto nodes = victim.run("nodes");
  INFO(nodes.text());
  CHECK(nodes.contains(honest.id() + " 127.0.0.1:" + std::to_string(honest.port())));
  auto ping = victim.run("ping " + honest.id());
  INFO(ping.text());
  CHECK(ping.contains("pong from " + honest.id()));
  CHECK_FALSE(victim.has_peer(impostor.id()));
}

TEST_CASE("a forged answer of 2,000 nodes at a third party's port opens only a few connections to it",
          "[peer_attacks]") {
  CountingListener third_party;
  TestNode victim(victim_config({{"target_peers", 8}}));
  Forger forger(victim);
  victim->execute("discover 1", {}, {});
  auto outbound = nlohmann::json::array(), inbound = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) {
    outbound.push_back(entry(random_id(), "127.0.0.1", third_party.port()));
    inbound.push_back(entry(random_id(), "127.0.0.1", third_party.port()));
  }
  forger.answer(forger.next_request(), entry(random_id(), "127.0.0.1", third_party.port()), outbound, inbound);
  REQUIRE(wait_until([&] { return plugin_counter(victim, "discovery.answers_received") == 1; }));

  // Before the fix the victim dialed every entry, one after the other, as
  // fast as the third party hung up: about a thousand connections.
  CHECK_FALSE(wait_until([&] { return third_party.accepted() > 20; }, 3s));
  INFO("connections the third party accepted: " << third_party.accepted());
  CHECK(third_party.accepted() <= 20);
  CHECK(plugin_counter(victim, "discovery.entries_dropped") > 0);
  CHECK(victim->peers().size() == 1);  // the forger, still connected
}

TEST_CASE("hosts that are not numeric, or unspecified, multicast or loopback-from-afar, are not stored",
          "[peer_attacks]") {
  TestNode victim(victim_config());
  Forger forger(victim);
  victim->execute("discover 1", {}, {});
  std::vector<std::string> hosts = {
      "example.com", "localhost", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "10.0.0.1 "};
  auto outbound = nlohmann::json::array();
  std::vector<std::string> ids;
  for (const auto& host : hosts) {
    ids.push_back(random_id());
    outbound.push_back(entry(ids.back(), host, 4000));
  }
  std::string kept = random_id();
  outbound.push_back(entry(kept, "192.0.2.7", 4000));
  forger.answer(forger.next_request(), entry(random_id(), "127.0.0.1", 4001), outbound);
  REQUIRE(wait_until([&] { return plugin_counter(victim, "discovery.answers_received") == 1; }));

  auto nodes = victim.run("nodes");
  INFO(nodes.text());
  for (const auto& id : ids) CHECK_FALSE(nodes.contains(id));
  CHECK(nodes.contains(kept + " 192.0.2.7:4000"));
  CHECK(core_counter(victim, "hearsay_addresses_rejected") == static_cast<int64_t>(hosts.size()));
}

TEST_CASE("peer text reaches the console and the log only escaped", "[peer_attacks]") {
  std::mutex log_mutex;
  std::vector<std::string> log_lines;
  set_log_sink([&](LogSeverity, std::string_view line) {
    std::lock_guard lock(log_mutex);
    log_lines.emplace_back(line);
  });
  {
    TestNode victim(victim_config());
    Forger forger(victim);
    RunningCommand discover;
    discover.start(victim, "discover 1");
    const std::string hostile = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mFAKE\xe2\x80\xae\xc2\x9b";
    auto outbound = nlohmann::json::array({entry(random_id(), hostile, 4000)});
    forger.answer(forger.next_request(), entry(random_id(), hostile, 4001), outbound);
    REQUIRE(wait_until([&] { return discover.status != -1; }, 20s));

    auto text = discover.text() + victim.run("nodes").text();
    INFO(text);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\x07') == std::string::npos);
    CHECK(text.find("\xe2\x80\xae") == std::string::npos);
    CHECK(text.find("\xc2\x9b") == std::string::npos);
    CHECK(text.find("\\x1B]0;PWNED\\x07\\x1B[2J\\x1B[31mFAKE\\u{202E}\\u{009B}") != std::string::npos);
  }
  set_log_sink({});
  std::lock_guard lock(log_mutex);
  for (const auto& line : log_lines) {
    INFO(line);
    CHECK(line.find('\x1b') == std::string::npos);
  }
}

TEST_CASE("without TLS, a stranger claiming a connected peer's id from another address does not replace it",
          "[peer_attacks]") {
  TestNode first(victim_config()), second(victim_config());
  // The duplicate rule keeps the connection dialed by the smaller id, so the
  // victim is the node with the larger id and has dialed the other.
  TestNode& victim = first.id() > second.id() ? first : second;
  TestNode& real = first.id() > second.id() ? second : first;
  REQUIRE(victim.connect_to(real) == real.id());

  RawPeer stranger(victim.port(), "127.0.0.2");
  stranger.handshake(real.id(), {"ping"});
  CHECK(stranger.wait_closed(5s));
  CHECK(core_counter(victim, "unproven_duplicates_refused") == 1);
  auto peers = victim.run("peers");
  INFO(peers.text());
  CHECK(peers.contains(real.id() + " 127.0.0.1:" + std::to_string(real.port()) + " outbound"));
  auto ping = victim.run("ping " + real.id());
  INFO(ping.text());
  CHECK(ping.contains("pong from " + real.id()));
}
