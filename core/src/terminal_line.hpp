// The line the user types on a terminal, edited by the console itself
// (non-canonical mode, no kernel echo) so that output written above the
// prompt can redraw it: printable UTF-8, Backspace, Ctrl-U, Ctrl-W, Enter,
// Ctrl-D on an empty line; escape sequences (arrow keys) are skipped. Signals
// (Ctrl-C) stay with the kernel. The terminal's mode is restored on exit.
#pragma once

#include <optional>
#include <string>

namespace p2pnet {

class TerminalLine {
 public:
  // Switches stdin to non-canonical mode; false if it is not a terminal.
  bool enable();
  void restore();
  ~TerminalLine() { restore(); }

  enum class Event { none, changed, line, end_of_input, too_long };
  // Feeds one input byte; after Event::line, take() returns the line.
  Event feed(char byte);
  const std::string& text() const { return text_; }
  std::string take();

 private:
  enum class Escape { none, start, sequence };
  bool enabled_ = false;
  Escape escape_ = Escape::none;
  std::string text_;
};

}  // namespace p2pnet
