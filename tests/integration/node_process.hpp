// A p2pnode process started the way the README says, with helpers to wait
// for its "listening on" line and to run console commands.
#pragma once

#include "build_paths.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <regex>
#include <string>

namespace p2pnet::test {

class NodeProcess {
 public:
  NodeProcess(const std::string& program, const std::string& config, std::vector<std::string> extra = {})
      : data_dir_("p2pnode-data") {
    std::vector<std::string> args{"--config", config, "--port", "0", "--data-dir", data_dir_.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(program, args);
    auto listening = process_->wait_for_line(std::regex(R"(listening on 127\.0\.0\.1:(\d+) id ([0-9a-f]{64}))"));
    INFO(process_->stderr_text());
    REQUIRE(listening);
    port_ = static_cast<uint16_t>(std::stoi(listening->second[1]));
    id_ = listening->second[2];
  }

  Process& process() { return *process_; }
  uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_.path(); }
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
  TempDir data_dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
  std::string id_;
};

}  // namespace p2pnet::test
