#include "footprint_bench.hpp"

#include "process.hpp"

#include <fmt/core.h>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>
#include <fstream>
#include <future>
#include <stdexcept>
#include <thread>

namespace p2pnet::bench {
namespace {

// Resident set size of a process, in bytes, from /proc.
double resident_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  throw std::runtime_error("cannot read VmRSS");
}

void raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// How long a p2pnode child took from its start to a stdout line matching
// `pattern`; its first group in *group. The child's output is read (and
// kept) by the Process's own threads, so a child that keeps printing never blocks.
double seconds_until(test::Process& child, Clock::time_point started, const std::string& pattern,
                     std::string* group = nullptr) {
  auto found = child.wait_for_line(std::regex(pattern), std::chrono::seconds(30));
  if (!found) throw std::runtime_error("p2pnode ended or timed out before printing '" + pattern + "'");
  double seconds = seconds_since(started);
  if (group) *group = found->second[1].str();
  return seconds;
}

std::string write_config(ScratchDir& dir, const std::string& extra_node_keys) {
  auto path = dir.path() / "node.toml";
  std::ofstream out(path);
  out << "[node]\nhost = \"127.0.0.1\"\nport = 0\nlog_level = \"error\"\n" << extra_node_keys << "\n";
  for (const auto& plugin : stock_plugins()) {
    out << "[plugins." << plugin << "]\n";
    if (plugin == "search") out << "shared_dir = \"" << (dir.path() / "shared").string() << "\"\n";
    if (plugin == "download") out << "download_dir = \"" << (dir.path() / "downloads").string() << "\"\n";
  }
  std::filesystem::create_directories(dir.path() / "shared");
  return path.string();
}

}  // namespace

const std::vector<std::string>& stock_plugins() {
  static const std::vector<std::string> plugins = {"ping", "discovery", "search", "download"};
  return plugins;
}

std::vector<Figure> startup_bench(const Options& options) {
  int runs = options.quick ? 2 : 20;
  ScratchDir dir("startup");
  std::string config = write_config(dir, "");
  std::vector<double> listening, bare;
  for (int i = 0; i < runs; ++i) {
    {
      const auto started = Clock::now();
      test::Process node(P2PNODE_PATH, {"--config", config, "--data-dir", (dir.path() / fmt::format("d{}", i)).string(),
                                        "--no-console"});
      listening.push_back(seconds_until(node, started, "listening on") * 1000.0);
    }
    // The baseline ends when the process exits, which closes its output.
    const auto started = Clock::now();
    test::Process version(P2PNODE_PATH, {"--version"});
    version.drain_output();
    bare.push_back(seconds_since(started) * 1000.0);
    version.wait_exit();
  }
  Figure figure{"start-up to listening, stock plugins, first start (new key)", median(listening), median(bare), "ms",
                false};
  figure.goal = "< 50 ms";
  figure.goal_absolute = 50;
  figure.note = "baseline: the same binary starting and exiting (p2pnode --version)";
  return {figure};
}

namespace {

// Open sockets of a process, from /proc.
size_t open_sockets(pid_t pid) {
  size_t sockets = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code error;
    auto target = std::filesystem::read_symlink(entry.path(), error);
    if (!error && target.string().rfind("socket:", 0) == 0) ++sockets;
  }
  return sockets;
}

struct ServerMemory {
  double idle_kib = 0;            // the whole p2pnode process before any connection
  double per_connection_kib = 0;  // its growth per idle connection
};

// A p2pnode server's resident memory, alone and then with `connections`
// client nodes (in this process) shaken hands with it.
ServerMemory server_memory(bool encryption, size_t connections, const std::shared_ptr<Runtime>& runtime) {
  ScratchDir dir(encryption ? "memory-tls" : "memory-plain");
  std::string config =
      write_config(dir, fmt::format("max_connections = {}\nencryption = {}\n", connections + 100, encryption));
  test::Process server(P2PNODE_PATH,
                       {"--config", config, "--data-dir", (dir.path() / "server").string(), "--no-console"});
  std::string port_text;
  seconds_until(server, Clock::now(), R"(listening on [^ ]+:(\d+))", &port_text);
  uint16_t port = static_cast<uint16_t>(std::stoi(port_text));

  std::vector<std::unique_ptr<Node>> clients;
  size_t sockets_before = open_sockets(server.pid());
  double before = resident_bytes(server.pid());
  for (size_t i = 0; i < connections; ++i) {
    auto client = start_node(bench_config({}, encryption), runtime, dir);
    auto done = std::make_shared<std::promise<std::string>>();
    auto future = done->get_future();
    client->connect("127.0.0.1", port,
                    [done](const std::string&, const std::string& error) { done->set_value(error); });
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      throw std::runtime_error("client connect timed out");
    if (auto error = future.get(); !error.empty()) throw std::runtime_error("client connect failed: " + error);
    clients.push_back(std::move(client));
  }
  // The client's side completes first; the server's last step may still run.
  wait_for([&] { return open_sockets(server.pid()) >= sockets_before + connections; }, std::chrono::seconds(30),
           "the server to hold every connection");
  double after = resident_bytes(server.pid());
  for (auto& client : clients) client->stop();
  return {before / 1024.0, (after - before) / static_cast<double>(connections) / 1024.0};
}

}  // namespace

std::vector<Figure> memory_bench(const Options& options) {
  raise_fd_limit();
  size_t connections = options.quick ? 20 : 1000;
  auto runtime = std::make_shared<Runtime>(2, 1);
  auto plaintext_server = server_memory(false, connections, runtime);
  auto tls_server = server_memory(true, connections, runtime);
  double plaintext = plaintext_server.per_connection_kib;
  Figure per_tls_connection{fmt::format("resident memory per idle TLS connection ({} open)", connections),
                            tls_server.per_connection_kib, plaintext, "KiB", false};
  per_tls_connection.goal = "<= 32 KiB";
  per_tls_connection.goal_absolute = 32;
  per_tls_connection.note = "baseline: the same with encryption = false; server-side growth of a p2pnode's RSS";
  Figure per_plaintext_connection{fmt::format("resident memory per idle plaintext connection ({} open)", connections),
                                  plaintext, 0, "KiB", false};
  per_plaintext_connection.goal = "<= 32 KiB";
  per_plaintext_connection.goal_absolute = 32;

  ScratchDir dir("memory-nodes");
  std::filesystem::create_directories(dir.path() / "shared");
  Figure idle_process{"resident memory of an idle p2pnode, stock plugins", tls_server.idle_kib / 1024.0, 0, "MiB",
                      false};
  // Memory freed by earlier benchmarks would be reused unseen: hand it back
  // to the kernel first, so the growth below is what the nodes take.
  malloc_trim(0);
  double own_before = resident_bytes(getpid());
  std::vector<std::unique_ptr<Node>> nodes;
  size_t node_count = options.quick ? 5 : 100;
  for (size_t i = 0; i < node_count; ++i) {
    auto node_config = bench_config(stock_plugins());
    for (auto& plugin : node_config.plugins)
      if (plugin.name == "search")
        plugin.settings = {{"shared_dir", (dir.path() / "shared").string()}};
      else if (plugin.name == "download")
        plugin.settings = {{"download_dir", (dir.path() / "downloads").string()}};
    nodes.push_back(start_node(node_config, runtime, dir));
  }
  double own_after = resident_bytes(getpid());
  Figure per_node{fmt::format("resident memory per idle node, stock plugins ({} in one process)", node_count),
                  (own_after - own_before) / static_cast<double>(node_count) / 1024.0, 0, "KiB", false};
  for (auto& node : nodes) node->stop();
  return {per_tls_connection, per_plaintext_connection, idle_process, per_node};
}

}  // namespace p2pnet::bench
