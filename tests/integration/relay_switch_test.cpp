// relay_service changed by `reload` on a relay started from a node.toml
// file: a relay that turns its service off withdraws the places it held and
// tells each holder, which then holds a place on another relay among its
// peers; a caller is refused a circuit through the relay that is off and
// gets one through the other. An unasked answer from a peer holding no place
// for the node changes nothing. Real nodes on loopback.
#include "raw_peer.hpp"
#include "relay_nodes.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

// A relay whose node.toml `reload` reads again; relay_service is written as
// given (true, false or "auto").
class FileRelay {
 public:
  explicit FileRelay(const std::string& relay_service) : dir_("p2pnet-relay-switch"), file_(dir_ / "node.toml") {
    write(relay_service);
    node_ = std::make_unique<TestNode>(load_config_file(file_).config);
    (*node_)->set_config_source([file = file_] { return load_config_file(file).config; });
  }
  TestNode& node() { return *node_; }
  // Renamed into place, as an editor saves: a reload never reads half a file.
  void write(const std::string& relay_service) {
    const auto temporary = dir_ / "node.toml.new";
    std::ofstream(temporary) << "[node]\n"
                             << "host = \"127.0.0.1\"\n"
                             << "port = 0\n"
                             << "data_dir = '" << (dir_ / "data").string() << "'\n"
                             << "log_level = \"warn\"\n"
                             << "handshake_timeout_ms = 3000\n"
                             << "plugin_dirs = ['" << stock_plugin_dir().string() << "', '"
                             << test_plugin_dir().string() << "']\n"
                             << "relay_service = " << relay_service << "\n"
                             << "\n[plugins.probe]\n";
    std::filesystem::rename(temporary, file_);
  }

 private:
  TempDir dir_;
  std::filesystem::path file_;
  std::unique_ptr<TestNode> node_;
};

bool printed(TestNode& node, const std::string& line) {
  for (const auto& event : node.events())
    if (event == line) return true;
  return false;
}

}  // namespace

TEST_CASE("a relay turned off by reload withdraws its places, and the holder moves to another relay") {
  FileRelay file_relay("true");
  TestNode& relay = file_relay.node();
  TestNode other_relay(relay_config()), alice(reserving_config()), bob(circuit_caller_config(false));
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return holds_place(alice, relay); }));
  REQUIRE(alice.connect_to(other_relay) == other_relay.id());
  REQUIRE(bob.connect_to(relay) == relay.id());
  CHECK(relay.run("nat").contains("relay service: on (1 reservation, 0 circuits)"));
  CHECK(other_relay.run("nat").contains("relay service: on (0 reservations, 0 circuits)"));

  file_relay.write("false");
  auto reload = relay.run("reload");
  INFO(reload.text());
  CHECK(reload.status == 0);
  CHECK(reload.text() ==
        "relay_service: on -> off\n"
        "relay service: 1 reservation withdrawn\n"
        "configuration reloaded: no plugin changed\n");
  CHECK(relay.event_count("relay_reservations_withdrawn") == 1);
  CHECK(relay.run("nat").contains("relay service: off (0 reservations, 0 circuits)"));

  // Alice hears of it at once and takes a place on the other relay.
  CHECK(wait_until([&] { return holds_place(alice, other_relay); }));
  CHECK_FALSE(holds_place(alice, relay));
  CHECK(printed(alice, "relay: lost " + relay.id().substr(0, 8) + " (the relay service turned off)"));
  CHECK(alice.event_count("relay_unasked_answers") == 0);
  CHECK(alice->peers().size() == 2);  // the link to the relay stays

  // A circuit through the relay that is off is refused...
  auto refused = bob.run("connect " + alice.id());
  CHECK(refused.status == 1);
  CHECK(refused.contains(relay.id().substr(0, 8) + ": the relay service is off on this node"));
  CHECK(relay.event_count("relay_circuits_refused") == 1);
  // ...and one through the relay holding her place now works.
  REQUIRE(bob.connect_to(other_relay) == other_relay.id());
  auto relayed = bob.run("connect " + alice.id());
  INFO(relayed.text());
  CHECK(relayed.status == 0);
  CHECK(relayed.contains("(relayed via " + other_relay.id().substr(0, 8) + ")"));
}

TEST_CASE("reload with relay_service unchanged says nothing of it, and off -> on offers the service to new peers") {
  FileRelay file_relay("false");
  TestNode& relay = file_relay.node();
  auto same = relay.run("reload");
  CHECK(same.status == 0);
  CHECK(same.text() == "configuration reloaded: no plugin changed\n");

  file_relay.write("true");
  auto on = relay.run("reload");
  CHECK(on.status == 0);
  CHECK(on.text() ==
        "relay_service: off -> on\n"
        "configuration reloaded: no plugin changed\n");
  // A peer that links now reads the relay feature in the hello and gets a place.
  TestNode alice(reserving_config());
  REQUIRE(alice.connect_to(relay) == relay.id());
  CHECK(wait_until([&] { return holds_place(alice, relay); }));
  CHECK(relay.run("nat").contains("relay service: on (1 reservation, 0 circuits)"));

  // auto on loopback: no peer's vote counts, so the node is not public and
  // the service is off; the place goes.
  file_relay.write("\"auto\"");
  auto automatic = relay.run("reload");
  CHECK(automatic.text() ==
        "relay_service: on -> auto (the service is off now)\n"
        "relay service: 1 reservation withdrawn\n"
        "configuration reloaded: no plugin changed\n");
  CHECK(wait_until([&] { return !holds_place(alice, relay); }));
}

TEST_CASE("answers about places that nobody asked for, from a peer that holds none, change nothing") {
  auto relay_plain = relay_config();
  relay_plain.encryption = false;
  auto reserving_plain = reserving_config();
  reserving_plain.encryption = false;
  TestNode relay(relay_plain), alice(reserving_plain);
  REQUIRE(alice.connect_to(relay) == relay.id());
  REQUIRE(wait_until([&] { return holds_place(alice, relay); }));

  RawPeer stranger(alice.port());
  REQUIRE(stranger.handshake());
  REQUIRE(stranger.send_json({{"type", "p2pnet.relay.reserved"}, {"granted", false}, {"reason", "go away"}}));
  REQUIRE(stranger.send_json({{"type", "p2pnet.relay.reserved"}, {"granted", true}}));
  CHECK(wait_until([&] { return alice.event_count("relay_unasked_answers") == 2; }));
  CHECK(holds_place(alice, relay));
  for (const auto& event : alice.events()) CHECK(event.find("relay: lost") == std::string::npos);
}
