// The C++ layer of the SDK against a fake host table: what it promises about
// exceptions, background jobs (and the download plugin's shape of them) and
// the ABI minor it declares.
#include "background_job.hpp"

#include <p2pnet/plugin.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

namespace {

class Bare : public p2pnet::Plugin {};

class NeedsNewer : public p2pnet::Plugin {
 public:
  static constexpr uint16_t abi_minor = 1;
};

// What the fake host saw; one test at a time uses it.
struct FakeHost {
  bool visitor_returned = false;
  std::vector<std::function<void()>> never_finished;  // background jobs whose done never comes
  bool finish_jobs = false;
};
FakeHost fake;

// A peer and a node record whose id is null: copying them throws in the
// plugin's visitor, on the far side of the host's (C) frames.
void list_peers(p2pnet_host*, p2pnet_peer_visitor visit, void* user) {
  p2pnet_peer peer{sizeof(p2pnet_peer), nullptr, "127.0.0.1", 1, 0, 0, nullptr, 0, nullptr, nullptr};
  visit(user, &peer);
  visit(user, &peer);
  fake.visitor_returned = true;
}
int get_peer(p2pnet_host* host, const char*, p2pnet_peer_visitor visit, void* user) {
  list_peers(host, visit, user);
  return P2PNET_OK;
}
void list_known_nodes(p2pnet_host*, p2pnet_node_visitor visit, void* user) {
  p2pnet_known_node node{sizeof(p2pnet_known_node), nullptr, "127.0.0.1", 1, 0};
  visit(user, &node);
  fake.visitor_returned = true;
}
int run_background(p2pnet_host*, p2pnet_work_fn work, p2pnet_work_fn done, void* user) {
  work(user);
  if (fake.finish_jobs)
    done(user);
  else
    fake.never_finished.push_back([done, user] { done(user); });
  return P2PNET_OK;
}
void log(p2pnet_host*, int, const char*, size_t) {}
void count(p2pnet_host*, const char*, int64_t) {}

p2pnet_host_api fake_api() {
  p2pnet_host_api api{};
  api.struct_size = sizeof api;
  api.abi_major = P2PNET_ABI_MAJOR;
  api.abi_minor = P2PNET_ABI_MINOR;
  api.list_peers = list_peers;
  api.get_peer = get_peer;
  api.list_known_nodes = list_known_nodes;
  api.run_background = run_background;
  api.log = log;
  api.count = count;
  return api;
}

// A plugin instance as the host creates and destroys it.
template <class T>
struct Loaded {
  p2pnet_host_api api = fake_api();
  std::unique_ptr<T, void (*)(T*)> plugin{create(api), [](T* p) { p2pnet::detail::Adapter<T>::destroy(p); }};
  static T* create(const p2pnet_host_api& api) {
    fake = {};
    char error[128] = {0};
    return static_cast<T*>(p2pnet::detail::Adapter<T>::create(&api, nullptr, nullptr, 0, error, sizeof error));
  }
};

}  // namespace

TEST_CASE("an exception in a peers() - peer() or known_nodes() visitor never unwinds through the host") {
  Loaded<Bare> loaded;
  REQUIRE(loaded.plugin);
  CHECK_THROWS_AS(loaded.plugin->peers(), std::logic_error);
  CHECK(fake.visitor_returned);
  fake.visitor_returned = false;
  CHECK_THROWS_AS(loaded.plugin->peer("x"), std::logic_error);
  CHECK(fake.visitor_returned);
  fake.visitor_returned = false;
  CHECK_THROWS_AS(loaded.plugin->known_nodes(), std::logic_error);
  CHECK(fake.visitor_returned);
}

TEST_CASE("a background job whose completion the host never delivers is freed with the plugin") {
  auto captured = std::make_shared<int>(0);
  std::weak_ptr<int> watch = captured;
  {
    Loaded<Bare> loaded;
    loaded.plugin->background([] {}, [captured] { ++*captured; });
    captured.reset();
    CHECK_FALSE(watch.expired());  // the job holds it until done or destroy
    REQUIRE(fake.never_finished.size() == 1);
  }
  CHECK(watch.expired());
}

TEST_CASE("a background job that completes runs its continuation once and is freed") {
  auto captured = std::make_shared<int>(0);
  std::weak_ptr<int> watch = captured;
  Loaded<Bare> loaded;
  fake.finish_jobs = true;
  loaded.plugin->background([] {}, [captured] { ++*captured; });
  CHECK(*captured == 1);
  captured.reset();
  CHECK(watch.expired());
}

TEST_CASE("a C++ plugin needs ABI minor 0 unless it declares a newer one") {
  CHECK(p2pnet::detail::describe<Bare>("bare", "1", "")->abi_minor == 0);
  CHECK(p2pnet::detail::describe<NeedsNewer>("newer", "1", "")->abi_minor == 1);
  CHECK(p2pnet::detail::describe<Bare>("bare", "1", "")->abi_major == P2PNET_ABI_MAJOR);
}

// The download plugin's one shape of background work, on the same fake host.
TEST_CASE("a download background job hands its result - or its exception as the error - to its continuation") {
  Loaded<Bare> loaded;
  fake.finish_jobs = true;
  std::vector<p2pnet::download::JobError> results;
  p2pnet::download::run_in_background(
      *loaded.plugin, [] { return p2pnet::download::JobError{"disk full"}; },
      [&](p2pnet::download::JobError result) { results.push_back(result); });
  p2pnet::download::run_in_background(
      *loaded.plugin, []() -> p2pnet::download::JobError { throw std::runtime_error("OpenSSL SHA-256 update failed"); },
      [&](p2pnet::download::JobError result) { results.push_back(result); });
  REQUIRE(results.size() == 2);
  CHECK(results[0].error == "disk full");
  CHECK(results[1].error == "OpenSSL SHA-256 update failed");
}
