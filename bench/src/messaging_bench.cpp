// Routing throughput and ping round trips, each beside its raw TCP baseline.
#include "messaging_bench.hpp"

#include "raw_tcp.hpp"
#include "zeromq_baseline.hpp"

#include <fmt/core.h>

#include <regex>
#include <stdexcept>

namespace p2pnet::bench {
namespace {

// The JSON header a bench message carries is about 100 bytes with this padding.
constexpr size_t kPadding = 60;
constexpr size_t kMessageBytes = 100;

// Each node has its own runtime with `threads` network threads, as two
// p2pnode processes would.
double routing_rate(bool encryption, size_t messages, unsigned threads) {
  ScratchDir data("routing");
  auto sender = start_node(bench_config({"bench"}, encryption), std::make_shared<Runtime>(threads, 1), data);
  auto receiver = start_node(bench_config({"bench"}, encryption), std::make_shared<Runtime>(threads, 1), data);
  connect_nodes(*sender, *receiver);
  run_command(*sender, "bench-send " + receiver->id() + " 1000 " + std::to_string(kPadding) + " 4096");  // warm-up
  auto start = Clock::now();
  run_command(*sender, "bench-send " + receiver->id() + " " + std::to_string(messages) + " " +
                           std::to_string(kPadding) + " 65536");
  double rate = static_cast<double>(messages) / seconds_since(start);
  sender->stop();
  receiver->stop();
  return rate;
}

}  // namespace

std::vector<Figure> routing_bench(const Options& options) {
  size_t messages = options.quick ? 2000 : 1000000;
  std::vector<double> raw, zmq, plain, tls, plain_two, tls_two;
  for (int i = 0; i < (options.quick ? 1 : options.repeats); ++i) {
    raw.push_back(raw_framed_throughput(messages, kMessageBytes));
    // Against ZeroMQ PUSH/PULL, the tool users would pick for messages instead.
    if (zeromq::available()) zmq.push_back(zeromq::push_pull_throughput(messages, kMessageBytes));
    plain.push_back(routing_rate(false, messages, 1));
    tls.push_back(routing_rate(true, messages, 1));
    plain_two.push_back(routing_rate(false, messages, 2));
    tls_two.push_back(routing_rate(true, messages, 2));
  }
  Figure plaintext{"routing, ~100 B JSON messages to a plugin (plaintext)", median(plain), median(raw), "msg/s"};
  plaintext.goal = ">= 0.5 x raw framed TCP";
  plaintext.goal_ratio = 0.5;
  plaintext.note = "each node has its own runtime with 1 network thread (the default), as two p2pnode processes";
  Figure encrypted{"routing, ~100 B JSON messages to a plugin (TLS)", median(tls), median(raw), "msg/s"};
  encrypted.note = "TLS over plaintext: " + std::to_string(median(tls) / median(plain));
  std::vector<Figure> figures{plaintext, encrypted};
  for (auto [transport, rate] :
       {std::pair{"plaintext", median(plain)}, std::pair{"TLS", median(tls)},
        std::pair{"plaintext, threads = 2", median(plain_two)}, std::pair{"TLS, threads = 2", median(tls_two)}}) {
    Figure figure{fmt::format("routing ({}) against ZeroMQ PUSH/PULL, 100 B", transport), rate,
                  zmq.empty() ? 0.0 : median(zmq), "msg/s"};
    figure.goal = ">= 1.5 x ZeroMQ";
    figure.goal_ratio = 1.5;
    if (zmq.empty()) figure.note = "baseline missing: built without libzmq (scripts/bench.sh installs libzmq3-dev)";
    figures.push_back(figure);
  }
  return figures;
}

namespace {

// Round trips measured by the ping plugin itself (`ping ID`), in ms. Each
// node has its own runtime with `threads` network threads, as two p2pnode
// processes would.
std::vector<double> ping_round_trips(size_t rounds, bool encryption, unsigned threads) {
  ScratchDir data("ping");
  auto config = bench_config({"ping"}, encryption);
  config.plugins[0].settings = {{"keepalive_interval_ms", 0}};
  auto a = start_node(config, std::make_shared<Runtime>(threads, 1), data);
  auto b = start_node(config, std::make_shared<Runtime>(threads, 1), data);
  connect_nodes(*a, *b);
  std::regex pong("^pong from [0-9a-f]+ in ([0-9.]+) ms$");
  std::vector<double> rtts;
  for (size_t i = 0; i < rounds + 10; ++i) {
    auto lines = run_command(*a, "ping " + b->id());
    std::smatch match;
    if (lines.empty() || !std::regex_match(lines[0], match, pong)) throw std::runtime_error("ping: no pong");
    if (i >= 10) rtts.push_back(std::stod(match[1]));  // the first few warm caches up
  }
  a->stop();
  b->stop();
  return rtts;
}

void append(std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); }

}  // namespace

std::vector<Figure> ping_bench(const Options& options) {
  size_t rounds = options.quick ? 20 : 3000;
  int blocks = options.quick ? 1 : options.repeats;
  size_t block = rounds / static_cast<size_t>(blocks);
  // Blocks of each kind take turns, so a slow spell of this shared machine
  // falls on all of them alike.
  std::vector<double> raw, zmq, tls, plain, tls_two, plain_two;
  for (int i = 0; i < blocks; ++i) {
    append(raw, raw_ping_pong(block, 40));
    if (zeromq::available()) append(zmq, zeromq::req_rep_round_trips(block, 40));
    append(tls, ping_round_trips(block, true, 1));
    append(plain, ping_round_trips(block, false, 1));
    append(tls_two, ping_round_trips(block, true, 2));
    append(plain_two, ping_round_trips(block, false, 2));
  }
  auto figure = [&](const std::string& name, const std::vector<double>& samples, double p) {
    return Figure{name, percentile(samples, p), percentile(raw, p), "ms", false};
  };
  auto p50 = figure("ping round trip p50 (TLS)", tls, 0.5);
  p50.goal = "<= 1.5 x raw ping-pong";
  p50.goal_ratio = 1.5;
  p50.note = "each node has its own runtime with 1 network thread (the default), as two p2pnode processes";
  auto two_threads_p50 = figure("ping round trip p50 (TLS, threads = 2)", tls_two, 0.5);
  two_threads_p50.goal = p50.goal;
  two_threads_p50.goal_ratio = p50.goal_ratio;
  Figure against_zmq{"ping round trip p50 (TLS) against ZeroMQ REQ/REP", percentile(tls, 0.5),
                     zmq.empty() ? 0.0 : percentile(zmq, 0.5), "ms", false};
  against_zmq.goal = "<= 0.5 x ZeroMQ";
  against_zmq.goal_ratio = 0.5;
  if (zmq.empty()) against_zmq.note = "baseline missing: built without libzmq (scripts/bench.sh installs libzmq3-dev)";
  return {p50,
          against_zmq,
          figure("ping round trip p99 (TLS)", tls, 0.99),
          figure("ping round trip p50 (plaintext)", plain, 0.5),
          figure("ping round trip p99 (plaintext)", plain, 0.99),
          two_threads_p50,
          figure("ping round trip p99 (TLS, threads = 2)", tls_two, 0.99),
          figure("ping round trip p50 (plaintext, threads = 2)", plain_two, 0.5)};
}

}  // namespace p2pnet::bench
