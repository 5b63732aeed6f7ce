#include "console.hpp"

#include "terminal_line.hpp"
#include "terminal_output.hpp"

#include <fmt/core.h>

#include <poll.h>
#include <unistd.h>
#include <chrono>

namespace p2pnet {
namespace {

constexpr size_t kMaxLineLength = 64 * 1024;
constexpr auto kPipedProgressInterval = std::chrono::seconds(3);
constexpr auto kWakeCheck = std::chrono::milliseconds(100);

void say(const std::string& line) { TerminalOutput::instance().write_line(TerminalOutput::Stream::out, line); }

std::string too_long_line() { return fmt::format("error: line longer than {} bytes ignored", kMaxLineLength); }

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
  running_->changed.notify_all();
  if (reader_.joinable()) reader_.join();
  TerminalOutput::instance().set_prompt("");
}

void Console::loop() {
  auto& output = TerminalOutput::instance();
  // The console edits the line itself only when it also owns the screen.
  TerminalLine typed;
  const bool editing = output.interactive() && typed.enable();
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
    bool end_of_input = got <= 0;
    for (ssize_t i = 0; i < got && !shutting_down_ && !end_of_input; ++i) {
      char c = buffer[i];
      if (editing) {
        switch (typed.feed(c)) {
          case TerminalLine::Event::changed:
            output.set_input(typed.text());
            break;
          case TerminalLine::Event::line:
            output.commit_input();
            run_line(typed.take());
            break;
          case TerminalLine::Event::too_long:
            output.set_input("");
            say(too_long_line());
            break;
          case TerminalLine::Event::end_of_input:
            end_of_input = true;
            break;
          case TerminalLine::Event::none:
            break;
        }
        continue;
      }
      if (c != '\n') {
        if (discarding) continue;
        if (pending.size() >= kMaxLineLength) {
          say(too_long_line());
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
    if (!end_of_input) continue;
    if (!pending.empty() && !discarding) run_line(pending);
    if (!editing) wait_for_running_commands();
    typed.restore();
    if (!shutting_down_) node_.request_stop();
    return;
  }
  typed.restore();
}

void Console::wait_for_running_commands() {
  std::unique_lock lock(running_->mutex);
  while (running_->commands > 0 && !shutting_down_) running_->changed.wait_for(lock, kWakeCheck);
}

void Console::run_line(const std::string& raw) {
  std::string line = raw;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  auto& output = TerminalOutput::instance();
  bool interactive = output.interactive();
  auto last_progress = std::make_shared<std::chrono::steady_clock::time_point>();
  {
    std::lock_guard lock(running_->mutex);
    ++running_->commands;
  }
  // The command may finish on a node thread long after this returns, even
  // after the console is gone: the callbacks hold only shared state.
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
      [running = running_](int) {
        std::lock_guard lock(running->mutex);
        --running->commands;
        running->changed.notify_all();
      });
}

}  // namespace p2pnet
