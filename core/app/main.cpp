// p2pnode: runs one p2pnet node with the plugins node.toml names, and a
// console on stdin.
#include "console.hpp"
#include "control_protocol.hpp"
#include "control_server.hpp"
#include "ctl.hpp"
#include "host_port.hpp"
#include "terminal_output.hpp"

#include "p2pnet/config.hpp"
#include "p2pnet/node.hpp"

#include <p2pnet/plugin_abi.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <csignal>
#include <thread>

namespace {

void print_line(const std::string& text) {
  p2pnet::TerminalOutput::instance().write_line(p2pnet::TerminalOutput::Stream::out, text);
}

void print_error(const std::string& text) {
  p2pnet::TerminalOutput::instance().write_line(p2pnet::TerminalOutput::Stream::err, "error: " + text);
}

struct Options {
  std::string config;
  std::string host;
  int port = -1;
  std::string id;
  std::string data_dir;
  std::string log_level;
  std::string shared_dir;
  std::string download_dir;
  bool no_console = false;
  bool control = false;
  std::string control_tcp;
  std::vector<std::string> plugin_dirs;
  std::vector<std::string> connect;
};

// The folders of the stock file-sharing plugins, as flags: two nodes started
// from one directory must not share one folder and write into another's.
// Each sets one key of one plugin's table; the plugin reads it as if
// node.toml said it.
void set_plugin_key(p2pnet::NodeConfig& config, const std::string& flag, const std::string& plugin,
                    const std::string& key, const std::string& value) {
  if (value.empty()) return;
  for (auto& entry : config.plugins)
    if (entry.name == plugin) {
      entry.settings[key] = value;
      return;
    }
  p2pnet::TerminalOutput::instance().write_line(
      p2pnet::TerminalOutput::Stream::err,
      fmt::format("warning: {} ignored: the configuration has no [plugins.{}]", flag, plugin));
}

// CLI11's Range alone calls "abc" out of range.
std::string check_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
    return "not a number: " + text;
  if (std::stoi(text) > 65535) return "not in range 0 to 65535: " + text;
  return "";
}

// Command-line flags win over node.toml.
p2pnet::NodeConfig build_config(const Options& options) {
  p2pnet::NodeConfig config;
  if (!options.config.empty()) {
    auto loaded = p2pnet::load_config_file(options.config);
    for (const auto& warning : loaded.warnings)
      p2pnet::TerminalOutput::instance().write_line(p2pnet::TerminalOutput::Stream::err, "warning: " + warning);
    config = std::move(loaded.config);
  }
  if (!options.host.empty()) config.host = options.host;
  if (options.port >= 0) config.port = static_cast<uint16_t>(options.port);
  if (!options.id.empty()) config.id = options.id;
  if (!options.data_dir.empty()) config.data_dir = options.data_dir;
  if (!options.log_level.empty()) config.log_level = *p2pnet::parse_log_severity(options.log_level);
  for (const auto& dir : options.plugin_dirs) config.plugin_dirs.emplace_back(dir);
  set_plugin_key(config, "--shared-dir", "search", "shared_dir", options.shared_dir);
  set_plugin_key(config, "--download-dir", "download", "download_dir", options.download_dir);
  if (config.data_dir.empty()) config.data_dir = "p2pnet-data";
  if (options.control) config.control.enabled = true;
  if (!options.control_tcp.empty()) {
    if (auto why = p2pnet::control::unusable_tcp_address(options.control_tcp); !why.empty())
      throw p2pnet::ConfigError("--control-tcp " + options.control_tcp + ": " + why);
    config.control.tcp = options.control_tcp;
    config.control.enabled = true;
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "ctl") return run_ctl(argc - 1, argv + 1);
  Options options;
  CLI::App app{
      "p2pnode: a p2pnet peer-to-peer node. Type `help` at its console for the commands.\n"
      "`p2pnode ctl COMMAND...` runs a command on a node started with --control (see p2pnode ctl --help)."};
  app.set_version_flag("--version", "p2pnode 0.1.0 (protocol 1, plugin ABI " + std::to_string(P2PNET_ABI_MAJOR) + "." +
                                        std::to_string(P2PNET_ABI_MINOR) + ")");
  app.add_option("-c,--config", options.config, "node.toml to read (default: built-in defaults, no plugins)")
      ->check(CLI::ExistingFile);
  app.add_option("--host", options.host, "address to listen on (overrides node.host)");
  app.add_option("-p,--port", options.port, "port to listen on, 0 lets the OS choose (overrides node.port)")
      ->check(CLI::Validator(check_port, "PORT", "port"));
  app.add_option("--id", options.id, "node id: 64 lowercase hex characters (overrides node.id)");
  app.add_option("-d,--data-dir", options.data_dir, "directory for the node id and plugin data (default p2pnet-data)");
  app.add_option("--shared-dir", options.shared_dir, "folder to share (overrides [plugins.search] shared_dir)");
  app.add_option("--download-dir", options.download_dir,
                 "folder downloads go to (overrides [plugins.download] download_dir)");
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--plugin-dir", options.plugin_dirs, "extra directory to find plugins in (repeatable)");
  app.add_option("--connect", options.connect, "HOST:PORT to connect to after start (repeatable)");
  app.add_flag("--no-console", options.no_console, "read no commands; run until SIGINT or SIGTERM");
  app.add_flag("--control", options.control,
               "serve the control socket (control.sock in the data dir) for p2pnode ctl (overrides control.enabled)");
  app.add_option("--control-tcp", options.control_tcp,
                 "also serve the control endpoint on this loopback HOST:PORT (0: any free port); clients send the "
                 "token of control.token in the data dir (implies --control; overrides control.tcp)");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::pair<std::string, uint16_t>> dial;
  for (const auto& text : options.connect) {
    auto address = p2pnet::split_host_port(text);
    if (!address) {
      print_error(fmt::format("--connect {}: expected HOST:PORT", text));
      return 2;
    }
    dial.push_back(*address);
  }

  // A node holds a socket per peer: allow as many files as the system lets
  // this process have, not the shell's default soft limit.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  // Signals are taken by one thread with sigwait, so block them everywhere
  // before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Declared first, so it outlives the node: events of a stopping node may
  // still be published to it (it ignores them once stopped).
  std::unique_ptr<p2pnet::ControlServer> control;
  std::unique_ptr<p2pnet::Node> node;
  try {
    auto config = build_config(options);
    node = std::make_unique<p2pnet::Node>(config);
    // `reload` and SIGHUP read node.toml again, with the same flags on top.
    if (!options.config.empty()) node->set_config_source([options] { return build_config(options); });
    if (config.control.enabled) control = std::make_unique<p2pnet::ControlServer>(*node, config);
    node->set_event_sink([](std::string_view line, bool transient) {
      if (transient) return p2pnet::TerminalOutput::instance().set_status(line);  // terminal only
      print_line(std::string(line));
    });
    if (control)
      node->set_public_event_sink([events = control.get()](const std::string& event, const std::string& json) {
        events->publish(event, json);
      });
    node->start();
    if (control) control->start();
  } catch (const std::exception& e) {
    if (control) control->stop();  // before the node goes: no request may reach it after
    print_error(e.what());
    return 1;
  }
  print_line(fmt::format("listening on {}:{} id {}", node->listen_host(), node->listen_port(), node->id()));
  if (node->plugins().empty()) print_line("no plugins loaded; see --config");
  if (control) print_line("control socket " + control->socket().string());
  if (control && !control->tcp_address().empty())
    print_line(fmt::format("control listening on {}{}", control->tcp_address(),
                           control->token_file().empty() ? " (token from node.toml)"
                                                         : " (token in " + control->token_file().string() + ")"));

  for (const auto& [host, port] : dial)
    node->connect(host, port,
                  [target = fmt::format("{}:{}", host, port)](const std::string&, const std::string& error) {
                    if (!error.empty()) print_error(fmt::format("cannot connect to {}: {}", target, error));
                  });

  std::atomic<bool> finished{false};
  std::thread signal_waiter([&] {
    int signal = 0;
    while (sigwait(&signals, &signal) == 0 && !finished) {
      if (signal == SIGHUP) {
        print_line("received SIGHUP, reloading the configuration");
        node->execute("reload", [](std::string_view line, bool) { print_line(std::string(line)); }, {});
        continue;
      }
      print_line(fmt::format("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM"));
      node->request_stop();
      return;
    }
  });

  p2pnet::Console console(*node);
  if (!options.no_console) console.start();
  node->wait_for_stop_request();
  console.shut_down();
  // No SIGHUP may run `reload` on a node that is being taken apart; signals
  // that come later stay blocked until the process exits.
  finished = true;
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  if (control) control->stop_taking_commands();
  node->stop();
  if (control) control->stop();  // after the node: no command still writes to a client
  return 0;
}
