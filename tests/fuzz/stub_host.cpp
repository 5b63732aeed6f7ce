#include "stub_host.hpp"

#include "wire/header_scan.hpp"

#include <cstring>
#include <string>

struct p2pnet_host {
  p2pnet::fuzz::StubHost* stub;
};

namespace p2pnet::fuzz {
namespace {

StubHost& stub(p2pnet_host* host) { return *host->stub; }
const char* kSelfId = "1111111111111111111111111111111111111111111111111111111111111111";

// A plugin's outgoing header must be what the core would accept.
int check_header(const char* header, size_t length) {
  if (!header) __builtin_trap();
  auto scan = wire::scan_header(std::string_view(header, length));
  if (!scan.ok) __builtin_trap();
  return P2PNET_OK;
}

p2pnet_peer make_peer(StubHost& host, size_t index, std::vector<const char*>& types) {
  types.clear();
  for (const auto& t : host.types) types.push_back(t.c_str());
  p2pnet_peer peer{};
  peer.struct_size = sizeof peer;
  peer.id = host.peer_ids[index].c_str();
  peer.host = "127.0.0.1";
  peer.port = static_cast<uint16_t>(9000 + index);
  peer.inbound = index % 2;
  peer.authenticated = 1;
  peer.types = types.data();
  peer.type_count = types.size();
  peer.local_host = "127.0.0.1";
  return peer;
}

const p2pnet_host_api table = {
    sizeof(p2pnet_host_api),
    P2PNET_ABI_MAJOR,
    P2PNET_ABI_MINOR,
    [](p2pnet_host*) { return kSelfId; },
    [](p2pnet_host*) { return "127.0.0.1"; },
    [](p2pnet_host*) -> uint16_t { return 9999; },
    [](p2pnet_host* h) { return stub(h).data_dir.c_str(); },
    [](p2pnet_host*, int, const char*, size_t) {},
    [](p2pnet_host* h, const char* type) {
      stub(h).types.emplace_back(type);
      return P2PNET_OK;
    },
    [](p2pnet_host* h, const char* name, const char*, const char*) {
      stub(h).commands.emplace_back(name);
      return P2PNET_OK;
    },
    [](p2pnet_host* h, const char* event) {
      stub(h).events.emplace_back(event);
      return P2PNET_OK;
    },
    [](p2pnet_host* h, const char*, const char* header, size_t length, const void*, size_t) {
      ++stub(h).messages_sent;
      return check_header(header, length);
    },
    [](p2pnet_host* h, const char* header, size_t length, const void*, size_t, const char* const*, size_t) {
      ++stub(h).messages_sent;
      check_header(header, length);
      return static_cast<int>(stub(h).peer_ids.size());
    },
    [](p2pnet_host*, const char*) -> size_t { return 0; },
    [](p2pnet_host* h, p2pnet_peer_visitor visit, void* user) {
      std::vector<const char*> types;
      for (size_t i = 0; i < stub(h).peer_ids.size(); ++i) {
        auto peer = make_peer(stub(h), i, types);
        visit(user, &peer);
      }
    },
    [](p2pnet_host* h, const char* id, p2pnet_peer_visitor visit, void* user) {
      std::vector<const char*> types;
      for (size_t i = 0; i < stub(h).peer_ids.size(); ++i)
        if (stub(h).peer_ids[i] == id) {
          auto peer = make_peer(stub(h), i, types);
          visit(user, &peer);
          return P2PNET_OK;
        }
      return P2PNET_ERR_NOT_FOUND;
    },
    [](p2pnet_host* h, const char*, uint16_t, uint64_t* token) {
      *token = stub(h).next_token++;
      return P2PNET_OK;
    },
    [](p2pnet_host* h, const char*, uint64_t* token) {
      *token = stub(h).next_token++;
      return P2PNET_OK;
    },
    [](p2pnet_host*, const char*) { return P2PNET_OK; },
    [](p2pnet_host*, const char*, const char*, uint16_t) { return P2PNET_OK; },
    [](p2pnet_host*, p2pnet_node_visitor, void*) {},
    [](p2pnet_host*, const char*, const char* json, size_t length) {
      if (!nlohmann::json::accept(std::string_view(json, length))) __builtin_trap();  // bus events are JSON
      return P2PNET_OK;
    },
    [](p2pnet_host* h, uint64_t, uint64_t) { return stub(h).next_token++; },
    [](p2pnet_host*, uint64_t) {},
    [](p2pnet_host*, uint64_t, const char*, size_t, uint32_t) {},
    [](p2pnet_host*, uint64_t, int) {},
    [](p2pnet_host*, p2pnet_work_fn work, p2pnet_work_fn done, void* user) {
      work(user);
      if (done) done(user);
      return P2PNET_OK;
    },
    [](p2pnet_host*, const char*, int64_t) {},
    [](p2pnet_host*, const char*, const char* json, size_t length) {
      auto parsed = nlohmann::json::parse(std::string_view(json, length), nullptr, false);
      if (!parsed.is_object()) __builtin_trap();  // public events are JSON objects
      return P2PNET_OK;
    },
    [](p2pnet_host*) { return P2PNET_OK; },
    [](p2pnet_host*, const char*, size_t, uint64_t*) { return P2PNET_ERR_NOT_ALLOWED; },
    // A node behind a relay: answers the plugin builds carry it.
    [](p2pnet_host*, p2pnet_node_visitor visit, void* user) {
      static const std::string relay_id(64, 'c');
      p2pnet_known_node relay{sizeof(p2pnet_known_node), relay_id.c_str(), "192.0.2.7", 4000, 0};
      visit(user, &relay);
      return P2PNET_OK;
    },
    [](p2pnet_host*, const char*, const char*, const char*, uint16_t) { return P2PNET_OK; },
};

}  // namespace

const p2pnet_host_api& stub_host_api() { return table; }

p2pnet_host* stub_handle(StubHost& host) {
  static thread_local p2pnet_host handle;
  handle.stub = &host;
  return &handle;
}

}  // namespace p2pnet::fuzz
