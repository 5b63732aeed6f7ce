// Which keys of a re-read node.toml `reload` names as taking effect only
// after a restart: relay_service applies at once, the other relay keys wait.
#include "config_changes.hpp"

#include <catch2/catch.hpp>

using p2pnet::NodeConfig;
using p2pnet::restart_only_changes;
using p2pnet::Switch;

TEST_CASE("relay_service is applied by reload, not named as restart-only") {
  NodeConfig running, fresh;
  fresh.relay.service = Switch::off;
  CHECK(restart_only_changes(running, fresh).empty());
  fresh.relay.service = Switch::on;
  CHECK(restart_only_changes(running, fresh).empty());
}

TEST_CASE("the other relay keys still take effect only after a restart") {
  NodeConfig running, fresh;
  fresh.relay.service = Switch::on;
  fresh.relay.use_relays = Switch::off;
  fresh.relay.max_reservations = running.relay.max_reservations + 1;
  fresh.relay.max_circuits = running.relay.max_circuits + 1;
  CHECK(restart_only_changes(running, fresh) ==
        std::vector<std::string>{"use_relays", "relay_max_reservations", "relay_max_circuits"});
}
