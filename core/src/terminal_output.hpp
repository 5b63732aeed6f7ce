// The process's stdout/stderr, shared by log lines, console output and the
// prompt: whole lines only, and on a terminal, lines never garble the prompt
// and status lines redraw in place.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace p2pnet {

class TerminalOutput {
 public:
  enum class Stream { out, err };

  static TerminalOutput& instance();

  void write_line(Stream stream, std::string_view line);
  // A status line that the next line replaces on a terminal; a plain line otherwise.
  void write_transient(std::string_view line);
  // Shown after output when stdout is a terminal; empty for none.
  void set_prompt(std::string prompt);
  bool interactive() const { return stdout_tty_; }

 private:
  TerminalOutput();
  void clear_line_locked();
  void draw_prompt_locked();

  std::mutex mutex_;
  bool stdout_tty_;
  bool transient_shown_ = false;
  bool prompt_shown_ = false;
  std::string prompt_;
};

}  // namespace p2pnet
