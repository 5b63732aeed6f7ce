// p2pnode on a real terminal (a tmux pane): a background download redraws
// the status area while the user types a command one character at a time;
// the typed line and the status line must both stay intact.
#include "download_processes.hpp"

#include <cstdlib>
#include <sstream>

using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0)
      return (fs::path(dir) / program).string();
  return "";
}

class TmuxPane {
 public:
  TmuxPane(std::string tmux, fs::path socket) : tmux_(std::move(tmux)), socket_(std::move(socket)) {}
  ~TmuxPane() { run({"kill-server"}); }

  bool run(std::vector<std::string> args, std::vector<std::string>* out = nullptr) {
    args.insert(args.begin(), {"-S", socket_.string()});
    Process tmux(tmux_, args);
    auto code = tmux.wait_exit(std::chrono::seconds(10));
    if (out) {
      tmux.drain_output();
      *out = tmux.stdout_lines();
    }
    return code == 0;
  }
  std::vector<std::string> screen() {
    std::vector<std::string> lines;
    run({"capture-pane", "-p", "-t", "node"}, &lines);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
  }
  bool type(const std::string& text) { return run({"send-keys", "-t", "node", "-l", text}); }
  bool enter() { return run({"send-keys", "-t", "node", "Enter"}); }
  bool screen_has(const std::regex& pattern) {
    for (const auto& line : screen())
      if (std::regex_search(line, pattern)) return true;
    return false;
  }

 private:
  std::string tmux_;
  fs::path socket_;
};

const std::regex kStatus(R"(^\[1 active: slow\.bin \d+% [0-9.]+ (B|KiB|MiB)/s\]$)");

}  // namespace

TEST_CASE("on a terminal the status area and the line being typed do not garble each other") {
  const std::string tmux = find_in_path("tmux");
  if (tmux.empty()) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true")
      FAIL("tmux is missing (scripts/install-deps.sh installs it); CI must run this test");
    WARN("skipped: tmux is not installed (scripts/install-deps.sh installs it)");
    return;
  }
  TempDir dir("setup"), data("c-data");
  write_random_file(dir / "shared" / "slow.bin", 4 * 1024 * 1024, 77);
  NodeProcess a(P2PNODE_PATH, write_config(dir, "a", dir / "shared", dir / "a-downloads").string());
  auto c_config = write_config(dir, "c", {}, dir / "c-downloads", "chunk_size = 16384\nmax_download_rate = 65536\n");

  TmuxPane pane(tmux, dir / "tmux.sock");
  REQUIRE(pane.run(
      {"new-session", "-d", "-s", "node", "-x", "120", "-y", "30",
       std::string(P2PNODE_PATH) + " --config " + c_config.string() + " --port 0 --data-dir " + data.path().string()}));
  REQUIRE(wait_until([&] { return pane.screen_has(std::regex("listening on ")); }, std::chrono::seconds(15)));
  auto command = [&](const std::string& line, const std::string& expect) {
    return pane.type(line) && pane.enter() &&
           wait_until([&] { return pane.screen_has(std::regex(expect)); }, std::chrono::seconds(20));
  };
  REQUIRE(command("connect 127.0.0.1 " + port_of(a), "^connected to "));
  REQUIRE(wait_until([&] { return command("search slow", R"(^\[1\] slow\.bin )"); }, std::chrono::seconds(20)));
  REQUIRE(command("download 1", "^started 1: slow.bin"));
  REQUIRE(wait_until([&] { return pane.screen_has(kStatus); }, std::chrono::seconds(20)));

  // One character at a time, each typed after the status line changed.
  const std::string typed = "peers";
  for (size_t i = 0; i < typed.size(); ++i) {
    auto before = pane.screen();
    std::string status_before;
    for (const auto& line : before)
      if (std::regex_search(line, kStatus)) status_before = line;
    REQUIRE(wait_until(
        [&] {
          for (const auto& line : pane.screen())
            if (std::regex_search(line, kStatus) && line != status_before) return true;
          return false;
        },
        std::chrono::seconds(10)));
    REQUIRE(pane.type(typed.substr(i, 1)));
  }
  std::vector<std::string> screen;
  REQUIRE(wait_until(
      [&] {
        screen = pane.screen();
        return !screen.empty() && screen.back() == "> " + typed;
      },
      std::chrono::seconds(10)));
  INFO([&] {
    std::string all;
    for (const auto& line : screen) all += line + "\n";
    return all;
  }());
  REQUIRE(screen.size() >= 2);
  CHECK(std::regex_match(screen[screen.size() - 2], kStatus));
  for (size_t i = 0; i + 1 < screen.size(); ++i) CHECK(screen[i].find("peers") == std::string::npos);

  REQUIRE(pane.enter());
  CHECK(wait_until([&] { return pane.screen_has(std::regex("^1 peer$")); }, std::chrono::seconds(10)));
  CHECK(pane.screen_has(std::regex("^> peers$")));  // the command stays above, as typed
  REQUIRE(pane.type("stop"));
  REQUIRE(pane.enter());
  CHECK(wait_until([&] { return !pane.run({"has-session", "-t", "node"}); }, std::chrono::seconds(10)));
}
