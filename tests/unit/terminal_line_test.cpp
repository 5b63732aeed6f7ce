// The console's own line editing on a terminal, byte by byte.
#include "terminal_line.hpp"

#include <catch2/catch.hpp>

#include <string>

using p2pnet::TerminalLine;
using Event = TerminalLine::Event;

namespace {

Event feed_all(TerminalLine& line, const std::string& bytes) {
  Event last = Event::none;
  for (char c : bytes) last = line.feed(c);
  return last;
}

}  // namespace

TEST_CASE("typed text, Enter and Backspace over multi-byte characters") {
  TerminalLine line;
  CHECK(feed_all(line, "peers") == Event::changed);
  CHECK(line.text() == "peers");
  CHECK(line.feed('\r') == Event::line);
  CHECK(line.take() == "peers");
  CHECK(line.text().empty());

  feed_all(line, "search R\xC3\x89SUM\xC3\x89");  // RÉSUMÉ
  CHECK(line.feed('\x7f') == Event::changed);
  CHECK(line.text() == "search R\xC3\x89SUM");
  feed_all(line, "\x7f\x7f\x7f\x7f");
  CHECK(line.text() == "search R");
}

TEST_CASE("Ctrl-U, Ctrl-W, and Ctrl-D only on an empty line") {
  TerminalLine line;
  feed_all(line, "cancel 3 --keep");
  CHECK(line.feed('\x17') == Event::changed);
  CHECK(line.text() == "cancel 3 ");
  CHECK(line.feed('\x04') == Event::none);  // not empty: ignored
  CHECK(line.feed('\x15') == Event::changed);
  CHECK(line.text().empty());
  CHECK(line.feed('\x04') == Event::end_of_input);
}

TEST_CASE("escape sequences and control bytes never reach the typed line") {
  TerminalLine line;
  feed_all(line, "pe\x1b[Ae\x1bOBrs");  // arrow keys, in both encodings
  CHECK(line.text() == "peers");
  feed_all(line, "\x01\x07\x0b\xC2\x9b");  // C0 controls and a C1 CSI
  CHECK(line.text() == "peers");
  feed_all(line, "\t1");
  CHECK(line.text() == "peers 1");
}
