// A p2pnode process started the way the README says, with helpers to wait
// for its "listening on" line and to run console commands.
#pragma once

#include "build_paths.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace p2pnet::test {

struct NodeSetup {
  NodeSetup() = default;
  NodeSetup(std::filesystem::path data_dir_, std::string shell_setup_ = "")
      : data_dir(std::move(data_dir_)), shell_setup(std::move(shell_setup_)) {}
  // Empty: a data dir of its own, removed with the process. A test that
  // restarts a node passes the same one again: the node keeps its identity.
  std::filesystem::path data_dir;
  // sh commands (such as ulimit) run before p2pnode is exec'd in the same process.
  std::string shell_setup;
};

class NodeProcess {
 public:
  NodeProcess(const std::string& program, const std::string& config, std::vector<std::string> extra = {},
              const NodeSetup& setup = {}) {
    if (setup.data_dir.empty()) own_data_dir_.emplace("p2pnode-data");
    data_dir_ = setup.data_dir.empty() ? own_data_dir_->path() : setup.data_dir;
    std::vector<std::string> args{"--config", config, "--port", "0", "--data-dir", data_dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    if (setup.shell_setup.empty()) {
      process_ = std::make_unique<Process>(program, args);
    } else {
      args.insert(args.begin(), {"-c", setup.shell_setup + "; exec \"$0\" \"$@\"", program});
      process_ = std::make_unique<Process>("/bin/sh", args);
    }
    auto listening = process_->wait_for_line(std::regex(R"(listening on 127\.0\.0\.1:(\d+) id ([0-9a-f]{64}))"));
    INFO(process_->stderr_text());
    REQUIRE(listening);
    port_ = static_cast<uint16_t>(std::stoi(listening->second[1]));
    id_ = listening->second[2];
  }

  Process& process() { return *process_; }
  uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::string& id() const { return id_; }

  // Sends a command and waits for a line matching `expect` after it.
  std::optional<std::string> command(const std::string& line, const std::string& expect,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    size_t from = process_->line_count();
    process_->write_line(line);
    auto match = process_->wait_for_line(std::regex(expect), timeout, from);
    if (!match) return std::nullopt;
    return process_->stdout_lines()[match->first];
  }

 private:
  std::optional<TempDir> own_data_dir_;
  std::filesystem::path data_dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
  std::string id_;
};

}  // namespace p2pnet::test
