#include "terminal_output.hpp"

#include <sys/ioctl.h>
#include <unistd.h>
#include <cstdio>

namespace p2pnet {
namespace {

size_t terminal_columns() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t characters(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += is_continuation_byte(c) ? 0 : 1;
  return count;
}

// The first `columns` characters: a line that wrapped would leave the area's
// cursor arithmetic one row off.
std::string_view head(std::string_view text, size_t columns) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_continuation_byte(text[i])) continue;
    if (seen++ == columns) return text.substr(0, i);
  }
  return text;
}

// The last `columns` characters, so the cursor stays where the user types.
std::string_view tail(std::string_view text, size_t columns) {
  size_t total = characters(text);
  if (total <= columns) return text;
  size_t skip = total - columns, seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_continuation_byte(text[i])) continue;
    if (seen++ == skip) return text.substr(i);
  }
  return {};
}

}  // namespace

TerminalOutput& TerminalOutput::instance() {
  static TerminalOutput output;
  return output;
}

TerminalOutput::TerminalOutput() : stdout_tty_(isatty(STDOUT_FILENO) == 1) {}

void TerminalOutput::clear_area_locked() {
  if (!stdout_tty_ || !area_shown_) return;
  std::fputs("\r", stdout);
  if (area_lines_above_prompt_ > 0) std::fprintf(stdout, "\033[%dA", area_lines_above_prompt_);
  std::fputs("\033[J", stdout);
  area_shown_ = false;
  area_lines_above_prompt_ = 0;
}

void TerminalOutput::draw_area_locked() {
  if (stdout_tty_) {
    const size_t width = terminal_columns() > 1 ? terminal_columns() - 1 : 1;
    std::string area;
    int lines = 0;
    for (const std::string* line : {&transient_, &status_}) {
      if (line->empty()) continue;
      if (lines > 0 || !area.empty()) area += "\n";
      area += head(*line, width);
      ++lines;
    }
    if (!prompt_.empty()) {
      if (lines > 0) area += "\n";
      const size_t prompt_width = characters(prompt_);
      area += prompt_;
      if (prompt_width + characters(input_) <= width) {
        area += input_;
      } else if (width > prompt_width + 1) {
        area += "<";
        area += tail(input_, width - prompt_width - 1);
      }
    } else if (lines > 0) {
      --lines;  // the last area line is the cursor's line
    }
    if (!area.empty()) {
      std::fwrite(area.data(), 1, area.size(), stdout);
      area_shown_ = true;
      area_lines_above_prompt_ = lines;
    }
  }
  std::fflush(stdout);
}

void TerminalOutput::write_line(Stream stream, std::string_view line) {
  std::lock_guard lock(mutex_);
  clear_area_locked();
  transient_.clear();
  std::FILE* file = stream == Stream::out ? stdout : stderr;
  if (stream == Stream::err) std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), file);
  std::fputc('\n', file);
  std::fflush(file);
  draw_area_locked();
}

void TerminalOutput::write_transient(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (!stdout_tty_) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return;
  }
  clear_area_locked();
  transient_ = line;
  draw_area_locked();
}

void TerminalOutput::set_status(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (!stdout_tty_ || status_ == line) return;
  clear_area_locked();
  status_ = line;
  draw_area_locked();
}

void TerminalOutput::set_prompt(std::string prompt) {
  std::lock_guard lock(mutex_);
  clear_area_locked();
  prompt_ = std::move(prompt);
  if (prompt_.empty()) {
    transient_.clear();
    status_.clear();
  }
  draw_area_locked();
}

void TerminalOutput::set_input(std::string_view input) {
  std::lock_guard lock(mutex_);
  clear_area_locked();
  input_ = input;
  draw_area_locked();
}

void TerminalOutput::commit_input() {
  std::lock_guard lock(mutex_);
  clear_area_locked();
  std::string line = prompt_ + input_;
  input_.clear();
  if (stdout_tty_) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  }
  draw_area_locked();
}

}  // namespace p2pnet
