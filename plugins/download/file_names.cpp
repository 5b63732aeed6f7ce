#include "file_names.hpp"

#include <p2pnet/printable.hpp>

#include <cstdio>

namespace p2pnet::download {

std::string name_refusal(std::string_view name) {
  auto found = first_unprintable(name);
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", found.code_point);
  switch (found.kind) {
    case Unprintable::none:
      return "";
    case Unprintable::not_utf8:
      return "it is not valid UTF-8";
    case Unprintable::control:
      return std::string("it holds the control character ") + code;
    case Unprintable::bidi_control:
      return std::string("it holds the bidirectional control ") + code + ", which reorders what is shown";
  }
  return "";
}

}  // namespace p2pnet::download
