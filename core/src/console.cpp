#include "console.hpp"

#include "terminal_output.hpp"

#include <fmt/core.h>

#include <chrono>
#include <future>
#include <poll.h>
#include <unistd.h>

namespace p2pnet {
namespace {

constexpr size_t kMaxLineLength = 64 * 1024;
constexpr auto kPipedProgressInterval = std::chrono::seconds(3);
constexpr auto kWakeCheck = std::chrono::milliseconds(100);

}  // namespace

Console::Console(Node& node) : node_(node) {
  if (::pipe(wake_pipe_) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
}

Console::~Console() {
  shut_down();
  for (int fd : wake_pipe_)
    if (fd >= 0) ::close(fd);
}

void Console::start() {
  if (TerminalOutput::instance().interactive()) TerminalOutput::instance().set_prompt("> ");
  reader_ = std::thread([this] { loop(); });
}

void Console::shut_down() {
  shutting_down_ = true;
  if (wake_pipe_[1] >= 0) {
    char byte = 1;
    [[maybe_unused]] auto ignored = ::write(wake_pipe_[1], &byte, 1);
  }
  if (reader_.joinable()) reader_.join();
  TerminalOutput::instance().set_prompt("");
}

void Console::loop() {
  std::string pending;
  bool discarding = false;  // inside an over-long line
  char buffer[4096];
  while (!shutting_down_) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int ready = ::poll(fds, wake_pipe_[0] >= 0 ? 2 : 1, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || shutting_down_ || (fds[1].revents & POLLIN)) break;
    ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {  // end of input acts like `stop`
      if (!pending.empty() && !discarding) run_line(pending);
      if (!shutting_down_) node_.request_stop();
      return;
    }
    for (ssize_t i = 0; i < got && !shutting_down_; ++i) {
      char c = buffer[i];
      if (c != '\n') {
        if (discarding) continue;
        if (pending.size() >= kMaxLineLength) {
          TerminalOutput::instance().write_line(TerminalOutput::Stream::out,
                                                fmt::format("error: line longer than {} bytes ignored", kMaxLineLength));
          pending.clear();
          discarding = true;
          continue;
        }
        pending += c;
        continue;
      }
      if (!discarding) run_line(pending);
      pending.clear();
      discarding = false;
    }
  }
}

void Console::run_line(const std::string& raw) {
  std::string line = raw;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  auto& output = TerminalOutput::instance();
  bool interactive = output.interactive();
  auto last_progress = std::make_shared<std::chrono::steady_clock::time_point>();
  auto finished = std::make_shared<std::promise<int>>();
  auto result = finished->get_future();
  node_.execute(
      line,
      [&output, interactive, last_progress](std::string_view text, bool transient) {
        if (!transient) return output.write_line(TerminalOutput::Stream::out, text);
        if (interactive) return output.write_transient(text);
        auto now = std::chrono::steady_clock::now();
        if (now - *last_progress < kPipedProgressInterval) return;
        *last_progress = now;
        output.write_transient(text);
      },
      [finished](int status) { finished->set_value(status); });
  while (result.wait_for(kWakeCheck) != std::future_status::ready)
    if (shutting_down_) return;
}

}  // namespace p2pnet
