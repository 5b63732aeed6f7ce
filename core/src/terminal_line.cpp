#include "terminal_line.hpp"

#include <termios.h>
#include <unistd.h>
#include <cstdlib>

namespace p2pnet {
namespace {

constexpr size_t kMaxTypedBytes = 64 * 1024;

termios saved_mode;
bool mode_saved = false;

void restore_saved_mode() {
  if (mode_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_mode);
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

bool TerminalLine::enable() {
  if (enabled_) return true;
  if (isatty(STDIN_FILENO) != 1 || tcgetattr(STDIN_FILENO, &saved_mode) != 0) return false;
  if (!mode_saved) std::atexit(restore_saved_mode);  // an exit that skips restore() still leaves a usable shell
  mode_saved = true;
  termios raw = saved_mode;
  raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) return false;
  enabled_ = true;
  return true;
}

void TerminalLine::restore() {
  if (!enabled_) return;
  restore_saved_mode();
  enabled_ = false;
}

TerminalLine::Event TerminalLine::feed(char byte) {
  const auto c = static_cast<unsigned char>(byte);
  if (escape_ == Escape::start) {  // ESC [ or ESC O start a sequence; anything else ends it
    escape_ = (c == '[' || c == 'O') ? Escape::sequence : Escape::none;
    return Event::none;
  }
  if (escape_ == Escape::sequence) {
    if (c >= 0x40 && c <= 0x7E) escape_ = Escape::none;  // the final byte
    return Event::none;
  }
  switch (c) {
    case '\n':
    case '\r':
      return Event::line;
    case 0x04:  // Ctrl-D
      return text_.empty() ? Event::end_of_input : Event::none;
    case 0x1B:
      escape_ = Escape::start;
      return Event::none;
    case 0x7F:
    case 0x08:  // Backspace: one character, however many bytes
      if (text_.empty()) return Event::none;
      while (!text_.empty() && is_continuation_byte(text_.back())) text_.pop_back();
      if (!text_.empty()) text_.pop_back();
      return Event::changed;
    case 0x15:  // Ctrl-U
      text_.clear();
      return Event::changed;
    case 0x17:  // Ctrl-W: the word before the cursor
      while (!text_.empty() && text_.back() == ' ') text_.pop_back();
      while (!text_.empty() && text_.back() != ' ') text_.pop_back();
      return Event::changed;
    case '\t':
      byte = ' ';
      break;
    default:
      if (c < 0x20) return Event::none;  // other control bytes never reach the screen
      // Nor C1 controls (U+0080-U+009F, C2 80-C2 9F in UTF-8): some terminals act on them.
      if (c >= 0x80 && c <= 0x9F && !text_.empty() && static_cast<unsigned char>(text_.back()) == 0xC2) {
        text_.pop_back();
        return Event::changed;
      }
  }
  if (text_.size() >= kMaxTypedBytes) {
    text_.clear();
    return Event::too_long;
  }
  text_ += byte;
  return Event::changed;
}

std::string TerminalLine::take() {
  std::string line = std::move(text_);
  text_.clear();
  return line;
}

}  // namespace p2pnet
