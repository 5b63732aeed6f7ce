#include "attacks.hpp"

#include "raw_peer.hpp"
#include "tls_peer.hpp"

#include <fmt/core.h>

#include <deque>
#include <thread>

namespace p2pnet::hostile {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using test::encode_frame;
using test::RawPeer;

std::string prefix(uint32_t header, uint32_t body) {
  std::string out;
  for (uint32_t value : {header, body})
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
  return out;
}

std::vector<std::string> all_types() {
  auto types = stock_types();
  return types;
}

// A connection for one run, counted in the attack's tally.
struct Session {
  std::unique_ptr<RawPeer> peer;
  AttackTally& tally;

  Session(const AttackTarget& target, AttackTally& t) : tally(t) {
    try {
      peer = std::make_unique<RawPeer>(target.port);
      ++tally.connections;
    } catch (const std::exception&) {
      ++tally.refused;
    }
  }
  explicit operator bool() const { return peer != nullptr; }
  bool handshake(std::vector<std::string> types = {}) {
    return peer && peer->handshake(test::random_id(), std::move(types)).has_value();
  }
  bool raw(std::string_view bytes) {
    tally.bytes += static_cast<int64_t>(bytes.size());
    return peer->send_raw(bytes);
  }
  bool frame(std::string_view header, std::string_view body = {}) {
    ++tally.frames;
    return raw(encode_frame(header, body));
  }
  void drain() {
    while (peer->read_frame(1ms)) {
    }
  }
  // Waits for the node to close the connection, as it should after a violation.
  void expect_close(std::chrono::milliseconds timeout = 3s) {
    if (peer->wait_closed(timeout)) ++tally.closed_by_node;
  }
};

void random_bytes_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s) return;
  std::string bytes = random_bytes(random, 1 + random() % 8192);
  if (random() % 2) bytes[0] = target.tls ? '\x16' : '\0';  // get past the first-byte check
  s.raw(bytes);
  s.expect_close();
}

void bad_prefix_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  const uint32_t too_big_header = static_cast<uint32_t>(target.max_header + 1);
  const uint32_t too_big_body = static_cast<uint32_t>(target.max_body + 1);
  const std::vector<std::string> prefixes = {
      prefix(0xFFFFFFFF, 0xFFFFFFFF), prefix(0xFFFFFFFF, 0),   prefix(0, 0xFFFFFFFF), prefix(0x80000000, 0x80000000),
      prefix(too_big_header, 0),      prefix(2, too_big_body), prefix(0, 0),          prefix(0x7FFFFFFF, 1)};
  Session s(target, tally);
  if (!s) return;
  bool after_hello = random() % 2;
  if (after_hello && !s.handshake()) return;
  ++tally.frames;
  s.raw(prefixes[random() % prefixes.size()] + random_bytes(random, random() % 64));
  s.expect_close();
}

// A hello that announces a body as large as max_body_bytes: before the
// handshake the node must not buffer it.
void hello_with_body_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s) return;
  std::string hello = test::hello_json(test::random_id()).dump();
  ++tally.frames;
  s.raw(prefix(static_cast<uint32_t>(hello.size()), static_cast<uint32_t>(target.max_body)) + hello);
  for (int i = 0; i < 16 && s.raw(random_bytes(random, 65536)); ++i) {
  }
  s.expect_close();
}

void truncated_frame_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s) return;
  std::string frame;
  if (random() % 2) {
    frame = encode_frame(test::hello_json(test::random_id()).dump());  // a hello cut short
  } else {
    if (!s.handshake()) return;
    frame = encode_frame(json{{"type", "ping"}, {"nonce", "1"}}.dump(), random_bytes(random, 100000));
  }
  ++tally.frames;
  s.raw(frame.substr(0, 1 + random() % (frame.size() - 1)));
  if (random() % 2) std::this_thread::sleep_for(std::chrono::milliseconds(random() % 300));
}  // dropped mid-frame

void bad_header_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  auto headers = bad_headers(random, target.max_header);
  Session s(target, tally);
  if (!s) return;
  if (random() % 4 != 0 && !s.handshake()) return;  // mostly after the hello, sometimes instead of it
  s.frame(headers[random() % headers.size()]);
  s.expect_close();
}

void bad_hello_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  json hello = test::hello_json(test::random_id());
  switch (random() % 10) {
    case 0:
      hello.erase("id");
      break;
    case 1:
      hello["protocol"] = 2;
      break;
    case 2:
      hello["protocol"] = "1";
      break;
    case 3:
      hello["id"] = "not-hex";
      break;
    case 4:
      hello["port"] = -1;
      break;
    case 5:
      hello["types"] = json::array();
      for (int i = 0; i < 20000; ++i) hello["types"].push_back(fmt::format("t{}", i));
      break;
    case 6:
      hello["types"] = "ping";
      break;
    case 7:
      hello["max_header"] = 0;
      hello["max_body"] = -5;
      break;
    case 8:
      hello["agent"] = std::string(200000, 'a');
      break;
    default:
      hello["type"] = "ping";
      break;
  }
  Session s(target, tally);
  if (!s) return;
  s.frame(hello.dump());
  s.expect_close();
}

void mutated_messages_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s || !s.handshake(all_types())) return;
  for (int i = 0; i < 40; ++i) {
    std::string kind;
    auto frame = mutated_message(random, target.real_sha256, target.max_header, &kind);
    if (!s.frame(frame.header, frame.body)) {
      ++tally.closed_by_node;
      return;
    }
    s.drain();
  }
}

void forged_answers_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  static const std::vector<std::string> answers = {
      "pong", "discover_answer", "search_result", "download.manifest", "download.chunk", "download.error"};
  Session s(target, tally);
  if (!s || !s.handshake(all_types())) return;
  for (int i = 0; i < 200; ++i) {
    const auto& type = answers[random() % answers.size()];
    std::string body;
    if (type == "download.manifest") body = random_bytes(random, 4 * 32);
    if (type == "download.chunk") body = random_bytes(random, 1 + random() % 65536);
    if (!s.frame(forged_message(random, type, target.real_sha256).dump(), body)) {
      ++tally.closed_by_node;
      return;
    }
    if (i % 20 == 0) s.drain();
  }
  s.drain();
}

void download_probe_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s || !s.handshake({"download.manifest", "download.chunk", "download.error"})) return;
  for (const auto& probe : download_probes(random, target.real_sha256)) {
    if (!s.frame(probe.dump())) {
      ++tally.closed_by_node;
      return;
    }
  }
  auto deadline = Clock::now() + 500ms;
  while (Clock::now() < deadline && s.peer->read_frame(50ms)) {
  }
}

// Unique request ids as fast as the budget allows, for one second.
void flood_attack(const AttackTarget& target, const AttackBudget& budget, Random& random, AttackTally& tally,
                  bool search) {
  Session s(target, tally);
  if (!s || !s.handshake()) return;
  auto start = Clock::now();
  int64_t sent = 0;
  while (Clock::now() - start < 1s && !budget.over()) {
    auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (sent > elapsed * budget.flood_rate) {
      std::this_thread::sleep_for(2ms);
      continue;
    }
    json message = search ? json{{"type", "search"},
                                 {"id", random_hex(random, 40)},
                                 {"query", random() % 2 ? "*" : random_hex(random, 8)},
                                 {"depth", -1}}
                          : json{{"type", "discover"}, {"id", random_hex(random, 40)}, {"depth", -1}};
    if (!s.frame(message.dump())) {
      ++tally.closed_by_node;
      return;
    }
    ++sent;
  }
}

// Asks for the shared file's chunks and never reads the answers: the node's
// queues for this peer must stay within their caps.
void no_reader_attack(const AttackTarget& target, const AttackBudget& budget, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s || !s.handshake({"download.manifest", "download.chunk", "download.error", "pong", "discover_answer"})) return;
  auto start = Clock::now();
  int64_t id = 1;
  while (Clock::now() - start < 2s && !budget.over()) {
    // Chunks, and discovers whose answers list peers (the amplification of
    // a ~70-byte request into an answer many times its size).
    auto kind = random() % 8;
    json request = kind == 0   ? json{{"type", "ping"}, {"nonce", random_hex(random, 16)}}
                   : kind == 1 ? json{{"type", "discover"}, {"id", random_hex(random, 40)}, {"depth", 1}}
                               : json{{"type", "download.get_chunk"},
                                      {"id", id++},
                                      {"sha256", target.real_sha256},
                                      {"chunk_size", 262144},
                                      {"index", random() % 16}};
    if (!s.frame(request.dump())) {
      ++tally.closed_by_node;
      return;
    }
    if (id % 64 == 0) std::this_thread::sleep_for(5ms);
  }
}

void tls_garbage_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  Session s(target, tally);
  if (!s) return;
  // A TLS record header, then nonsense, or a plaintext hello.
  std::string bytes = random() % 2 ? std::string("\x16\x03\x01\x02\x00", 5) + random_bytes(random, 512)
                                   : encode_frame(test::hello_json(test::random_id()).dump());
  s.raw(bytes);
  s.expect_close();
}

void tls_bad_hello_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  try {
    test::TlsPeer peer(target.port);
    ++tally.connections;
    auto headers = bad_headers(random, target.max_header);
    json hello = test::hello_json(test::random_id());  // an id the key does not prove
    ++tally.frames;
    if (random() % 2)
      peer.send_json(hello);
    else
      peer.send_frame(test::RawFrame{headers[random() % headers.size()], ""});
    if (peer.wait_closed()) ++tally.closed_by_node;
  } catch (const std::exception&) {
    ++tally.refused;
  }
}

// One address completes TLS sessions with fresh keys (each a new id), says a
// little and holds them: the node must cap what one address takes (slots,
// peer-store records) and keep serving everyone else.
void key_churn_attack(const AttackTarget& target, Random& random, AttackTally& tally) {
  std::vector<std::unique_ptr<test::TlsPeer>> held;
  for (int i = 0; i < 4; ++i) {
    try {
      auto peer = std::make_unique<test::TlsPeer>(target.port);
      ++tally.connections;
      ++tally.frames;
      if (!peer->send_json(test::hello_json(peer->key_id(), 1, {"discover_answer", "pong"}))) continue;
      auto answer = peer->read_frame_within(2s);
      if (!answer || answer->type() != "hello") {
        ++tally.closed_by_node;
        continue;
      }
      ++tally.frames;
      peer->send_json({{"type", "discover"}, {"id", random_hex(random, 40)}, {"depth", 1}});
      held.push_back(std::move(peer));
    } catch (const std::exception&) {
      ++tally.refused;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 800));
}

}  // namespace

AttackTally& Tallies::operator[](const std::string& attack) {
  std::lock_guard lock(mutex_);
  auto& slot = tallies_[attack];
  if (!slot) slot = std::make_unique<AttackTally>();
  return *slot;
}

void Tallies::print(const std::string& target) const {
  std::lock_guard lock(mutex_);
  fmt::print("sent to the {} target:\n", target);
  fmt::print("  {:<18} {:>7} {:>11} {:>9} {:>12} {:>14} {:>8}\n", "attack", "runs", "connections", "frames", "bytes",
             "closed_by_node", "refused");
  for (const auto& [name, t] : tallies_)
    fmt::print("  {:<18} {:>7} {:>11} {:>9} {:>12} {:>14} {:>8}\n", name, t->runs.load(), t->connections.load(),
               t->frames.load(), t->bytes.load(), t->closed_by_node.load(), t->refused.load());
}

const std::vector<std::string>& plaintext_attacks() {
  static const std::vector<std::string> attacks = {
      "random_bytes",     "bad_prefix",     "hello_with_body", "truncated_frame", "bad_header",   "bad_hello",
      "mutated_messages", "forged_answers", "download_probes", "discover_flood",  "search_flood", "no_reader"};
  return attacks;
}

const std::vector<std::string>& tls_attacks() {
  static const std::vector<std::string> attacks = {"random_bytes", "tls_garbage", "tls_bad_hello", "key_churn"};
  return attacks;
}

void run_attack(const std::string& attack, const AttackTarget& target, const AttackBudget& budget, Random& random,
                Tallies& tallies) {
  auto& tally = tallies[attack];
  ++tally.runs;
  if (attack == "random_bytes") return random_bytes_attack(target, random, tally);
  if (attack == "bad_prefix") return bad_prefix_attack(target, random, tally);
  if (attack == "hello_with_body") return hello_with_body_attack(target, random, tally);
  if (attack == "truncated_frame") return truncated_frame_attack(target, random, tally);
  if (attack == "bad_header") return bad_header_attack(target, random, tally);
  if (attack == "bad_hello") return bad_hello_attack(target, random, tally);
  if (attack == "mutated_messages") return mutated_messages_attack(target, random, tally);
  if (attack == "forged_answers") return forged_answers_attack(target, random, tally);
  if (attack == "download_probes") return download_probe_attack(target, random, tally);
  if (attack == "discover_flood") return flood_attack(target, budget, random, tally, false);
  if (attack == "search_flood") return flood_attack(target, budget, random, tally, true);
  if (attack == "no_reader") {
    // One at a time: each may hold the node's per-peer caps (tens of MiB),
    // and the memory bound is meant for one such peer, not for the workers.
    static std::atomic<int> running{0};
    if (running.fetch_add(1) == 0)
      no_reader_attack(target, budget, random, tally);
    else
      --tally.runs;  // another worker is the non-reader now
    running.fetch_sub(1);
    return;
  }
  if (attack == "tls_garbage") return tls_garbage_attack(target, random, tally);
  if (attack == "tls_bad_hello") return tls_bad_hello_attack(target, random, tally);
  if (attack == "key_churn") return key_churn_attack(target, random, tally);
}

void slow_handshakes(const AttackTarget& target, const AttackBudget& budget, Tallies& tallies) {
  auto& tally = tallies["slow_handshake"];
  // What trickles in: a hello (plaintext) or the start of a TLS ClientHello.
  std::string payload = target.tls
                            ? std::string("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11) + std::string(200, 'x')
                            : encode_frame(test::hello_json(test::random_id()).dump());
  struct Slow {
    std::unique_ptr<RawPeer> peer;
    size_t sent = 0;
  };
  std::deque<Slow> sockets;
  while (!budget.over()) {
    while (static_cast<int>(sockets.size()) < budget.slow_sockets && !budget.over()) {
      try {
        sockets.push_back({std::make_unique<RawPeer>(target.port), 0});
        ++tally.connections;
        ++tally.runs;
      } catch (const std::exception&) {
        ++tally.refused;
        break;
      }
    }
    for (auto it = sockets.begin(); it != sockets.end();) {
      bool alive = it->sent < payload.size() && it->peer->send_raw(std::string_view(payload).substr(it->sent, 1));
      if (alive) {
        ++tally.bytes;
        ++it->sent;
        ++it;
      } else {
        if (it->sent < payload.size()) ++tally.closed_by_node;
        it = sockets.erase(it);
      }
    }
    std::this_thread::sleep_for(budget.slow_interval);
  }
}

void connection_churn(const AttackTarget& target, const AttackBudget& budget, Random& random, Tallies& tallies) {
  auto& tally = tallies["churn"];
  if (budget.churn_rate <= 0) return;
  auto interval = std::chrono::microseconds(1000000 / budget.churn_rate);
  std::string hello = encode_frame(test::hello_json(test::random_id()).dump());
  while (!budget.over()) {
    auto next = Clock::now() + interval;
    ++tally.runs;
    try {
      RawPeer peer(target.port);
      ++tally.connections;
      switch (random() % 3) {
        case 0:
          break;  // connect and drop
        case 1:
          peer.send_raw(hello.substr(0, random() % hello.size()));
          tally.bytes += 10;
          break;
        default:
          if (!target.tls) {
            peer.send_raw(hello);  // a whole hello, then gone before the answer
            ++tally.frames;
          }
      }
    } catch (const std::exception&) {
      ++tally.refused;
    }
    std::this_thread::sleep_until(next);
  }
}

}  // namespace p2pnet::hostile
