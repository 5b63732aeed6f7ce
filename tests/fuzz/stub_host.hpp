// A host function table for driving one plugin instance in isolation (fuzz
// targets): it accepts what a node would accept, runs background work
// inline, and records registrations, without any network.
#pragma once

#include <p2pnet/plugin_abi.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace p2pnet::fuzz {

struct StubHost {
  std::vector<std::string> types;
  std::vector<std::string> commands;
  std::vector<std::string> events;
  std::vector<std::string> peer_ids;  // fake connected peers; they handle every type
  std::string data_dir;
  uint64_t next_token = 1;
  size_t messages_sent = 0;
};

// The table; every function finds the StubHost through the p2pnet_host*.
const p2pnet_host_api& stub_host_api();
p2pnet_host* stub_handle(StubHost& host);

}  // namespace p2pnet::fuzz
