// Names from other nodes that would hide what they are on a terminal or in a
// file manager are refused, and printed escaped (issue 15, item 7).
#include "file_names.hpp"
#include "names.hpp"

#include <catch2/catch.hpp>

using p2pnet::download::name_refusal;

TEST_CASE("names with controls, DEL or bidirectional overrides are refused with the character named") {
  CHECK(name_refusal("report.pdf").empty());
  CHECK(name_refusal("Grüße – 日本.txt").empty());
  CHECK(name_refusal("a\x1b]0;PWNED\x07.txt") == "it holds the control character U+001B");
  CHECK(name_refusal("del\x7f.txt") == "it holds the control character U+007F");
  CHECK(name_refusal("c1\xc2\x9b.txt") == "it holds the control character U+009B");
  CHECK(name_refusal("evil\xe2\x80\xaetxt.exe").find("U+202E") != std::string::npos);
  CHECK(name_refusal("iso\xe2\x81\xa6.txt").find("U+2066") != std::string::npos);
  CHECK(name_refusal("bad\xff.txt") == "it is not valid UTF-8");
}

TEST_CASE("the search plugin neither shares nor accepts names with C1 or bidirectional controls") {
  using p2pnet::search::is_safe_name;
  CHECK(is_safe_name("ok.txt"));
  CHECK(is_safe_name("Grüße.txt"));
  CHECK_FALSE(is_safe_name("bad\xf8\x88\x80.txt"));  // 0xF8 never starts a UTF-8 character
  CHECK_FALSE(is_safe_name("evil\xe2\x80\xaetxt.exe"));
  CHECK_FALSE(is_safe_name("iso\xe2\x81\xa9.txt"));
  CHECK_FALSE(is_safe_name("c1\xc2\x85.txt"));
  CHECK(is_safe_name("dash\xe2\x80\x93.txt"));  // U+2013, a neighbour of the overrides, is fine
}
