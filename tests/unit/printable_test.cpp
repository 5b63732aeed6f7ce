#include <p2pnet/printable.hpp>

#include <catch2/catch.hpp>

using p2pnet::printable;

TEST_CASE("printable escapes what a terminal would act on and keeps the rest") {
  CHECK(printable("node-1 127.0.0.1:9000") == "node-1 127.0.0.1:9000");
  CHECK(printable("gr\xc3\xbc\xc3\x9f \xe6\x97\xa5") == "gr\xc3\xbc\xc3\x9f \xe6\x97\xa5");
  CHECK(printable("\x1b]0;PWNED\x07") == "\\x1B]0;PWNED\\x07");
  CHECK(printable("a\nb\rc\td\x7f") == "a\\x0Ab\\x0Dc\\x09d\\x7F");
  CHECK(printable("\xc2\x9b"
                  "31m") == "\\u{009B}31m");                               // C1 CSI
  CHECK(printable("evil\xe2\x80\xaegnp.exe") == "evil\\u{202E}gnp.exe");   // RIGHT-TO-LEFT OVERRIDE
  CHECK(printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u{2066}x\\u{2069}");  // isolates
  CHECK(printable("\xff\xc3") == "\\xFF\\xC3");                            // not UTF-8
  CHECK(printable("\xe0\x80\x80") == "\\xE0\\x80\\x80");                   // overlong
  CHECK(printable("\xf8\x88\x80") == "\\xF8\\x88\\x80");                   // 0xF5-0xFF never lead
  CHECK(printable("a\\x1B") == "a\\\\x1B");                                // no forged escapes
  CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
}
