// p2pnet_hostile: attacks a running p2pnode on loopback with hostile peers
// (garbage bytes, bad length prefixes, truncated frames, malformed headers
// and hellos, every stock message type mutated, floods of unique request ids,
// forged answers, download path tricks, peers that never read, slow
// handshakes, connection churn, fresh TLS keys from one address) while a well-behaved peer keeps pinging it
// and downloads its shared file. Fails unless the node survives, stays within
// a resident-memory bound and keeps serving the good peer.
//
//   p2pnet_hostile [--seconds N | --long] [--max-rss-mib M] [--workers W] [--no-tls] ...
#include "attacks.hpp"
#include "build_paths.hpp"
#include "node_under_test.hpp"
#include "temp_dir.hpp"
#include "test_node.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <thread>

namespace {

using namespace p2pnet;
using namespace p2pnet::hostile;
using namespace std::chrono_literals;

struct Options {
  int seconds = 10;
  int workers = 3;
  int64_t max_rss_mib = 200;
  int file_mib = 4;
  bool tls = true;
  uint64_t seed = 0;
  int flood_rate = 2000;
  int slow_sockets = 32;
  int churn_rate = 100;
  std::string p2pnode = P2PNODE_PATH;
  std::vector<std::string> attacks;  // empty: all of them
};

void usage() {
  fmt::print(
      "usage: p2pnet_hostile [options]\n"
      "  --seconds N        attack for N seconds (default 10)\n"
      "  --long             attack for 600 seconds\n"
      "  --max-rss-mib M    fail if the target's resident memory exceeds M MiB (default 200)\n"
      "  --workers W        attacking threads against the plaintext target (default 3)\n"
      "  --flood-rate R     discover/search messages per second in a flood (default 2000)\n"
      "  --slow-sockets S   sockets trickling a handshake at once (default 32)\n"
      "  --churn-rate C     connect-and-drop connections per second (default 100)\n"
      "  --file-mib F       size of the shared file the good peer downloads (default 4)\n"
      "  --no-tls           skip the TLS target\n"
      "  --seed S           random seed (default: from the clock)\n"
      "  --attacks A,B,...  only these attacks on the plaintext target (default: all; churn and\n"
      "                     slow_handshake always run unless --churn-rate 0 / --slow-sockets 0)\n"
      "  --p2pnode PATH     the p2pnode to attack (default: this build's)\n");
}

std::optional<Options> parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--seconds")
      options.seconds = std::stoi(value());
    else if (arg == "--long")
      options.seconds = 600;
    else if (arg == "--max-rss-mib")
      options.max_rss_mib = std::stoll(value());
    else if (arg == "--workers")
      options.workers = std::stoi(value());
    else if (arg == "--flood-rate")
      options.flood_rate = std::stoi(value());
    else if (arg == "--slow-sockets")
      options.slow_sockets = std::stoi(value());
    else if (arg == "--churn-rate")
      options.churn_rate = std::stoi(value());
    else if (arg == "--file-mib")
      options.file_mib = std::stoi(value());
    else if (arg == "--no-tls")
      options.tls = false;
    else if (arg == "--seed")
      options.seed = std::stoull(value());
    else if (arg == "--p2pnode")
      options.p2pnode = value();
    else if (arg == "--attacks") {
      std::string list = value();
      for (size_t start = 0; start <= list.size();) {
        size_t end = std::min(list.find(',', start), list.size());
        std::string name = list.substr(start, end - start);
        if (std::find(plaintext_attacks().begin(), plaintext_attacks().end(), name) == plaintext_attacks().end())
          throw std::invalid_argument("unknown attack " + name);
        options.attacks.push_back(name);
        start = end + 1;
      }
    } else if (arg == "--help" || arg == "-h")
      return usage(), std::nullopt;
    else
      throw std::invalid_argument("unknown option " + arg);
  }
  if (options.seconds < 1 || options.workers < 0 || options.max_rss_mib < 1 || options.file_mib < 1)
    throw std::invalid_argument("--seconds, --max-rss-mib and --file-mib must be positive");
  return options;
}

std::string sha256_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 16);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
    EVP_DigestUpdate(context, buffer.data(), static_cast<size_t>(in.gcount()));
  unsigned char digest[32];
  unsigned length = 0;
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string target_toml(const std::filesystem::path& shared, bool tls) {
  return fmt::format(
      "[node]\nhost = \"127.0.0.1\"\nencryption = {}\nlog_level = \"error\"\nhandshake_timeout_ms = 3000\n"
      "[plugins.ping]\n[plugins.discovery]\n"
      "[plugins.search]\nshared_dir = \"{}\"\nrescan_interval_ms = 0\n"
      "[plugins.download]\ndownload_dir = \"downloads\"\n",
      tls ? "true" : "false", shared.string());
}

// The well-behaved peer's view of the run.
struct GoodPeerReport {
  std::atomic<int64_t> pings{0};
  std::atomic<int64_t> pongs{0};
  std::atomic<int64_t> downloads{0};
  std::atomic<int64_t> downloads_verified{0};
  std::vector<std::string> failures;  // downloader thread only
};

void ping_loop(test::TestNode& good, const std::string& target_id, const AttackBudget& budget, GoodPeerReport& report) {
  while (!budget.over()) {
    auto result = good.run("ping " + target_id, 15s);
    ++report.pings;
    if (result.status == 0 && result.contains("pong from")) ++report.pongs;
    std::this_thread::sleep_for(200ms);
  }
}

void download_loop(test::TestNode& good, const std::string& sha256, const std::filesystem::path& download_dir,
                   const AttackBudget& budget, GoodPeerReport& report) {
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
      1s, std::chrono::duration_cast<std::chrono::milliseconds>(budget.deadline - Clock::now()) / 4));
  static const std::regex saved(R"(^saved (.+) \((\d+) bytes, sha256 verified\)$)");
  do {
    std::string name = fmt::format("copy-{}.bin", report.downloads.load());
    auto result = good.run(fmt::format("download --wait {} {}", sha256, name), 180s);
    ++report.downloads;
    bool verified = false;
    for (const auto& line : result.lines) {
      std::smatch match;
      if (!std::regex_match(line, match, saved)) continue;
      std::filesystem::path path = match[1].str();
      if (!std::filesystem::exists(path)) path = download_dir / path.filename();
      verified = sha256_file(path) == sha256;
      std::filesystem::remove(path);
    }
    if (verified) {
      ++report.downloads_verified;
    } else {
      report.failures.push_back(fmt::format("download {} failed (status {}): {}", name, result.status, result.text()));
    }
  } while (!budget.over());
}

struct TargetRun {
  std::string name;
  std::unique_ptr<NodeUnderTest> node;
  AttackTarget target;
  Tallies tallies;
  int64_t rss_before_kib = 0;
  std::unique_ptr<RssSampler> sampler;
};

void print_counters(const NodeStatsSnapshot& stats) {
  fmt::print("  total errors (connections closed for a wire violation) {}\n", stats.total_errors);
  for (const auto& [name, value] : stats.counters) fmt::print("  {} {}\n", name, value);
}

int run(const Options& options) {
  auto seed = options.seed ? options.seed : static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  fmt::print("p2pnet_hostile: {} s, {} workers, seed {}, rss bound {} MiB\n", options.seconds, options.workers, seed,
             options.max_rss_mib);
  std::vector<std::string> failures;

  // The shared file, outside the targets' directories.
  test::TempDir shared("p2pnet-hostile-shared");
  {
    Random random(seed);
    std::ofstream out(shared / "hostile-target.bin", std::ios::binary);
    for (int i = 0; i < options.file_mib * 16; ++i) out << random_bytes(random, 65536);
  }
  std::string sha256 = sha256_file(shared / "hostile-target.bin");

  std::vector<std::unique_ptr<TargetRun>> targets;
  for (bool tls : {false, true}) {
    if (tls && !options.tls) continue;
    auto run = std::make_unique<TargetRun>();
    run->name = tls ? "tls" : "plaintext";
    run->node = std::make_unique<NodeUnderTest>(options.p2pnode, run->name, target_toml(shared.path(), tls));
    if (!run->node->started()) {
      fmt::print("error: the {} target did not start:\n{}\n", run->name, run->node->stderr_tail());
      return 1;
    }
    run->target = AttackTarget{run->name, run->node->port(), tls, sha256};
    targets.push_back(std::move(run));
  }
  auto& plain = *targets.front();
  // Wait until the target shares the file (it hashes in the background).
  bool indexed = false;
  for (auto until = Clock::now() + 60s; !indexed && Clock::now() < until; std::this_thread::sleep_for(100ms)) {
    size_t from = plain.node->process().line_count();
    if (!plain.node->command("shared", R"(^\d+ files?$)", 10s)) continue;
    auto lines = plain.node->process().stdout_lines();
    for (size_t i = from; i < lines.size(); ++i)
      if (lines[i].find(sha256.substr(0, 16)) != std::string::npos) indexed = true;
  }
  if (!indexed) {
    fmt::print("error: the target never indexed its shared file\n");
    return 1;
  }

  // The well-behaved peer: ping, search and download, in this process.
  test::TempDir good_dir("p2pnet-hostile-good");
  auto config = test::plaintext_config({"ping", "search", "download"});
  for (auto& plugin : config.plugins) {
    if (plugin.name == "search") plugin.settings["shared_dir"] = "";
    if (plugin.name == "download") plugin.settings["download_dir"] = (good_dir / "downloads").string();
  }
  config.log_level = LogSeverity::error;
  // On an address of its own, dialed by the target: the attackers all come
  // from 127.0.0.1 and share that address's budgets, as one address should.
  config.host = "127.0.0.2";
  auto good = std::make_unique<test::TestNode>(config);
  auto connected = plain.node->command(fmt::format("connect 127.0.0.2 {}", good->port()), "^connected to ", 10s);
  if (!connected || !test::wait_until([&] { return good->has_peer(plain.node->id()); })) {
    fmt::print("error: the target cannot connect to the good peer\n");
    return 1;
  }

  for (auto& t : targets) {
    t->rss_before_kib = t->node->rss_kib();
    t->sampler = std::make_unique<RssSampler>(*t->node, 100ms);
  }

  std::atomic<bool> stop{false};
  AttackBudget budget{Clock::now() + std::chrono::seconds(options.seconds),
                      &stop,
                      options.flood_rate,
                      options.slow_sockets,
                      200ms,
                      options.churn_rate};
  AttackBudget tls_budget = budget;
  tls_budget.slow_sockets = budget.slow_sockets > 0 ? std::max(1, budget.slow_sockets / 2) : 0;
  tls_budget.churn_rate = budget.churn_rate > 0 ? std::max(1, budget.churn_rate / 2) : 0;
  GoodPeerReport good_report;
  std::atomic<int> harness_errors{0};
  std::vector<std::thread> threads;
  for (auto& t : targets) {
    bool tls = t->target.tls;
    const auto& attacks = tls ? tls_attacks() : options.attacks.empty() ? plaintext_attacks() : options.attacks;
    int workers = tls ? std::min(1, options.workers) : options.workers;
    const AttackBudget& b = tls ? tls_budget : budget;
    for (int w = 0; w < workers; ++w)
      threads.emplace_back([&, w, tls] {
        Random random(seed + 1000 * (w + 1) + (tls ? 7 : 0));
        while (!b.over()) {
          const auto& attack = attacks[random() % attacks.size()];
          try {
            run_attack(attack, t->target, b, random, t->tallies);
          } catch (const std::exception& e) {  // a bug of the harness, not of the node
            fmt::print(stderr, "harness error in {}: {}\n", attack, e.what());
            ++harness_errors;
          }
        }
      });
    threads.emplace_back([&] { slow_handshakes(t->target, b, t->tallies); });
    threads.emplace_back([&, tls] {
      Random random(seed + (tls ? 99 : 98));
      connection_churn(t->target, b, random, t->tallies);
    });
  }
  std::thread pinger([&] { ping_loop(*good, plain.node->id(), budget, good_report); });
  std::thread downloader([&] { download_loop(*good, sha256, good_dir / "downloads", budget, good_report); });
  // Resident memory over time, to tell a plateau from growth on long runs.
  auto report_every = std::chrono::seconds(std::max(5, options.seconds / 10));
  for (auto next = Clock::now() + report_every; !budget.over(); std::this_thread::sleep_for(100ms)) {
    if (Clock::now() < next) continue;
    next += report_every;
    std::string line = fmt::format(
        "t={:>4} s",
        options.seconds - std::chrono::duration_cast<std::chrono::seconds>(budget.deadline - Clock::now()).count());
    for (auto& t : targets)
      line += fmt::format("  {} rss {:.1f} MiB (max {:.1f})", t->name, t->node->rss_kib() / 1024.0,
                          t->sampler->max_kib() / 1024.0);
    fmt::print("{}  good peer: {} pongs, {} downloads\n", line, good_report.pongs.load(),
               good_report.downloads_verified.load());
    std::fflush(stdout);
  }
  for (auto& thread : threads) thread.join();
  pinger.join();
  downloader.join();
  auto attack_seconds = options.seconds;

  // Afterwards: still alive, still answering, within the memory bound.
  int crashes = 0;
  fmt::print("\n");
  for (auto& t : targets) {
    int64_t max_kib = t->sampler->max_kib();
    bool died = t->sampler->died();
    t->sampler.reset();
    bool alive = !died && t->node->alive();
    if (!alive) ++crashes;
    t->tallies.print(t->name);
    auto stats = alive ? t->node->stats() : NodeStatsSnapshot{};
    fmt::print("what the {} target dropped and counted (its `stats`):\n", t->name);
    if (stats.ok) print_counters(stats);
    double max_mib = static_cast<double>(max_kib) / 1024.0;
    fmt::print(
        "{} target: alive = {}, answers its console = {}, rss before {:.1f} MiB, max {:.1f} MiB, after {:.1f} MiB "
        "(bound {} MiB)\n\n",
        t->name, alive ? "yes" : "no", stats.ok ? "yes" : "no", t->rss_before_kib / 1024.0, max_mib,
        t->node->rss_kib() / 1024.0, options.max_rss_mib);
    if (!alive)
      failures.push_back(fmt::format("the {} target died: {}", t->name, t->node->stderr_tail()));
    else if (!stats.ok)
      failures.push_back(fmt::format("the {} target does not answer its console", t->name));
    if (max_mib > static_cast<double>(options.max_rss_mib))
      failures.push_back(fmt::format("the {} target's resident memory reached {:.1f} MiB, over the bound of {} MiB",
                                     t->name, max_mib, options.max_rss_mib));
  }

  // The good peer: pongs all along, the file downloaded and verified, and a ping now.
  auto final_ping = good->run("ping " + plain.node->id(), 15s);
  bool final_pong = final_ping.contains("pong from");
  fmt::print(
      "good peer: {} pings, {} pongs during {} s of attack; {} downloads, {} saved and verified; "
      "ping afterwards: {}\n",
      good_report.pings.load(), good_report.pongs.load(), attack_seconds, good_report.downloads.load(),
      good_report.downloads_verified.load(), final_pong ? "pong" : "no pong");
  if (good_report.pongs.load() == 0 || good_report.pongs.load() * 10 < good_report.pings.load() * 9)
    failures.push_back(fmt::format("the good peer got {} pongs for {} pings (90% required)", good_report.pongs.load(),
                                   good_report.pings.load()));
  if (good_report.downloads_verified.load() == 0) failures.push_back("the good peer downloaded nothing");
  for (const auto& failure : good_report.failures) failures.push_back(failure);
  if (!final_pong) failures.push_back("no pong after the attack: " + final_ping.text());
  good.reset();

  if (harness_errors) failures.push_back(fmt::format("{} harness errors (see stderr)", harness_errors.load()));
  fmt::print("crashes = {}\n", crashes);
  for (const auto& failure : failures) fmt::print("FAILED: {}\n", failure);
  fmt::print("{}\n", failures.empty() ? "PASSED" : "FAILED");
  return failures.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto options = parse(argc, argv);
    if (!options) return 0;
    int status = run(*options);
    test::release_shared_runtime();
    return status;
  } catch (const std::exception& e) {
    fmt::print(stderr, "p2pnet_hostile: {}\n", e.what());
    return 2;
  }
}
