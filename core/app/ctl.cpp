#include "ctl.hpp"

#include "control_protocol.hpp"
#include "control_token.hpp"
#include "host_port.hpp"

#include "p2pnet/config.hpp"

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <fstream>
#include <iostream>

namespace {

using json = nlohmann::json;

// Exit codes: the command's own failure is 1; not reaching the node is 2,
// so a script can tell "the search failed" from "no node is running".
constexpr int kCommandFailed = 1;
constexpr int kUnreachable = 2;

// Arguments back into one console line: an argument with blanks is quoted,
// as the console splits lines (it has no escapes, so a blank and a quote in
// one argument cannot be passed).
std::optional<std::string> join_arguments(const std::vector<std::string>& args, std::string& error) {
  std::string line;
  for (const auto& arg : args) {
    bool blank = arg.empty() || arg.find_first_of(" \t") != std::string::npos;
    if (blank && arg.find('"') != std::string::npos) {
      error = "cannot pass an argument that holds both a blank and a double quote: " + arg;
      return std::nullopt;
    }
    if (!line.empty()) line += ' ';
    line += blank ? "\"" + arg + "\"" : arg;
  }
  return line;
}

// The token as the node wrote it; the file is a secret, so it must be the
// user's own.
std::string read_token(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string token;
  if (!in || !std::getline(in, token))
    throw std::runtime_error(file.string() + ": cannot read the node's control token (see --token-file)");
  if (!token.empty() && token.back() == '\r') token.pop_back();
  if (auto why = p2pnet::unusable_control_token(token); !why.empty())
    throw std::runtime_error(file.string() + ": " + why);
  return token;
}

std::error_code connect_tcp(asio::generic::stream_protocol::socket& stream, const std::string& address) {
  auto host_port = p2pnet::split_host_port(address);
  if (!host_port) return std::make_error_code(std::errc::invalid_argument);
  std::error_code error;
  auto ip = asio::ip::make_address(host_port->first, error);
  if (error) return error;  // numeric only: the node listens on loopback
  stream.connect(asio::ip::tcp::endpoint(ip, host_port->second), error);
  return error;
}

}  // namespace

int run_ctl(int argc, char** argv) {
  std::string config_file, data_dir, socket, tcp, token_file;
  std::vector<std::string> command;
  bool events = false;
  CLI::App app{
      "p2pnode ctl: run a console command on a running node (one started with --control or\n"
      "[control] enabled = true) and print its output; exits 0 on success, 1 when the command\n"
      "failed, 2 when the node cannot be reached.",
      "p2pnode ctl"};
  app.add_option("-c,--config", config_file, "the node's node.toml (to find its data dir or control socket)")
      ->check(CLI::ExistingFile);
  app.add_option("-d,--data-dir", data_dir, "the node's data dir (default p2pnet-data)");
  app.add_option("--socket", socket, "the control socket (default: control.sock in the data dir)");
  app.add_option("--connect", tcp, "reach the node on this HOST:PORT (its --control-tcp) instead of its socket");
  app.add_option("--token-file", token_file,
                 "with --connect: the file holding the node's token (default: control.token in the data dir)");
  app.add_flag("--events", events,
               "instead of a command, print the node's events (peers joining and leaving, plugin notices) as JSON "
               "lines until the node stops");
  app.add_option("command", command, "the command and its arguments, as typed at the node's console");
  app.prefix_command();  // everything from the command on is the command's, flags included
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& extra : app.remaining()) command.push_back(extra);
  if (events == !command.empty()) {
    fmt::print(stderr, "error: give either a command or --events\n{}", app.help());
    return kCommandFailed;
  }

  if (!tcp.empty() && !p2pnet::split_host_port(tcp)) {
    fmt::print(stderr, "error: --connect {}: expected HOST:PORT, for example 127.0.0.1:7101\n", tcp);
    return kUnreachable;
  }
  std::filesystem::path path;
  std::string token;
  try {
    p2pnet::NodeConfig config;
    if (!config_file.empty()) config = p2pnet::load_config_file(config_file).config;
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (config.data_dir.empty()) config.data_dir = "p2pnet-data";
    path = socket.empty() ? p2pnet::control::socket_path(config) : std::filesystem::path(socket);
    if (!tcp.empty())
      token = read_token(token_file.empty() ? p2pnet::control::token_path(config) : std::filesystem::path(token_file));
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kUnreachable;
  }
  std::string error;
  auto line = join_arguments(command, error);
  if (!line) {
    fmt::print(stderr, "error: {}\n", error);
    return kCommandFailed;
  }
  json request = events ? json{{"id", 1}, {"subscribe", "events"}} : json{{"id", 1}, {"command", *line}};
  if (!token.empty()) request["token"] = token;

  asio::io_context io;
  asio::generic::stream_protocol::socket stream(io);
  std::error_code connect_error;
  std::string where;
  if (tcp.empty()) {
    where = "control socket " + path.string();
    stream.connect(asio::local::stream_protocol::endpoint(path.string()), connect_error);
  } else {
    where = "control port " + tcp;
    connect_error = connect_tcp(stream, tcp);
  }
  if (connect_error) {
    fmt::print(stderr, "error: cannot reach the node's {}: {} (is the node running with {}?)\n", where,
               connect_error.message(), tcp.empty() ? "--control" : "--control-tcp");
    return kUnreachable;
  }
  asio::write(stream, asio::buffer(request.dump() + "\n"), connect_error);

  const bool progress_to_terminal = ::isatty(STDERR_FILENO) == 1;
  asio::streambuf input;
  std::error_code read_error;
  while (true) {
    size_t length = asio::read_until(stream, input, '\n', read_error);
    if (read_error) break;
    std::string text(asio::buffers_begin(input.data()), asio::buffers_begin(input.data()) + length - 1);
    input.consume(length);
    auto message = json::parse(text, nullptr, false);
    if (!message.is_object()) continue;
    if (message.contains("error")) {
      fmt::print(stderr, "error: the node refused: {}\n",
                 message["error"].is_string() ? message["error"].get<std::string>() : "?");
      return kUnreachable;
    }
    if (message.contains("event")) {
      std::cout << text << '\n' << std::flush;  // as the node sent it: one JSON object per line
    } else if (events) {
      // The subscription holds: say so where a person (or a test) can see
      // it, keeping stdout to the events alone.
      if (message.contains("status")) std::cerr << "following the node's events until it stops\n" << std::flush;
    } else if (message.contains("line") && message["line"].is_string()) {
      std::cout << message["line"].get<std::string>() << '\n' << std::flush;
    } else if (message.contains("progress") && message["progress"].is_string()) {
      if (progress_to_terminal) std::cerr << '\r' << message["progress"].get<std::string>() << "\x1b[K" << std::flush;
    } else if (message.contains("status") && message["status"].is_number_integer()) {
      if (progress_to_terminal) std::cerr << "\r\x1b[K" << std::flush;
      return message["status"].get<int>() == 0 ? 0 : kCommandFailed;
    }
  }
  if (events) return 0;  // the node stopped
  fmt::print(stderr, "error: the node closed the control connection before the command ended ({})\n",
             read_error.message());
  return kUnreachable;
}
