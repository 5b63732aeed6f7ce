// The process's stdout/stderr, shared by log lines, console output and the
// prompt: whole lines only. On a terminal the bottom of the screen is the
// console's own area, redrawn below every line written above it: a command's
// progress line, the status line (running transfers), and the prompt with
// what the user is typing, so output never garbles the typed text.
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
  // A command's progress: redrawn in place on a terminal until the next
  // line; a plain line otherwise.
  void write_transient(std::string_view line);
  // The status area (terminal only): stays until replaced; empty for none.
  void set_status(std::string_view line);
  // Shown after output when stdout is a terminal; empty for none.
  void set_prompt(std::string prompt);
  // What the user has typed so far (the console echoes it itself on a terminal).
  void set_input(std::string_view input);
  // Enter: the prompt and the typed line become an ordinary line above.
  void commit_input();
  bool interactive() const { return stdout_tty_; }

 private:
  TerminalOutput();
  void clear_area_locked();
  void draw_area_locked();

  std::mutex mutex_;
  bool stdout_tty_;
  int area_lines_above_prompt_ = 0;  // drawn lines above the prompt's line
  bool area_shown_ = false;
  std::string transient_;
  std::string status_;
  std::string prompt_;
  std::string input_;
};

}  // namespace p2pnet
