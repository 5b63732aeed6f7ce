#include "terminal_output.hpp"

#include <cstdio>
#include <unistd.h>

namespace p2pnet {

TerminalOutput& TerminalOutput::instance() {
  static TerminalOutput output;
  return output;
}

TerminalOutput::TerminalOutput() : stdout_tty_(isatty(STDOUT_FILENO) == 1) {}

void TerminalOutput::clear_line_locked() {
  if (stdout_tty_ && (transient_shown_ || prompt_shown_)) std::fputs("\r\033[K", stdout);
  transient_shown_ = false;
  prompt_shown_ = false;
}

void TerminalOutput::draw_prompt_locked() {
  if (stdout_tty_ && !prompt_.empty()) {
    std::fputs(prompt_.c_str(), stdout);
    prompt_shown_ = true;
  }
  std::fflush(stdout);
}

void TerminalOutput::write_line(Stream stream, std::string_view line) {
  std::lock_guard lock(mutex_);
  clear_line_locked();
  std::FILE* file = stream == Stream::out ? stdout : stderr;
  if (stream == Stream::err) std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), file);
  std::fputc('\n', file);
  std::fflush(file);
  draw_prompt_locked();
}

void TerminalOutput::write_transient(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (!stdout_tty_) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return;
  }
  clear_line_locked();
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  transient_shown_ = true;
}

void TerminalOutput::set_prompt(std::string prompt) {
  std::lock_guard lock(mutex_);
  clear_line_locked();
  prompt_ = std::move(prompt);
  draw_prompt_locked();
}

}  // namespace p2pnet
