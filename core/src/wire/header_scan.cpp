#include "wire/header_scan.hpp"

#include <simdjson.h>

namespace p2pnet::wire {
namespace {

// simdjson validates structure, strings (UTF-8) and numbers at memory speed
// and enforces the depth limit itself; this runs for every frame in and out.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    if (p.allocate(64 * 1024, kMaxHeaderDepth) != simdjson::SUCCESS) throw std::bad_alloc();
    return p;
  }();
  return parser;
}

std::string describe(simdjson::error_code error) {
  switch (error) {
    case simdjson::DEPTH_ERROR: return "header nested too deeply";
    case simdjson::UTF8_ERROR: return "header is not valid UTF-8";
    default: return std::string("header is not valid JSON: ") + simdjson::error_message(error);
  }
}

}  // namespace

bool is_valid_type_name(std::string_view type) {
  if (type.empty() || type.size() > kMaxTypeLength) return false;
  for (char c : type) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

HeaderScan scan_header(std::string_view header) {
  HeaderScan result;
  simdjson::dom::element root;
  // The frame's bytes are not padded for SIMD reads: let simdjson copy them.
  auto error = thread_parser().parse(header.data(), header.size(), true).get(root);
  if (error) {
    result.error = describe(error);
    return result;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    result.error = "header is not a JSON object";
    return result;
  }
  bool found = false;
  for (auto field : object) {
    if (field.key != "type") continue;
    if (found) {  // routing and the plugin might read different ones
      result.error = "header has two \"type\" keys";
      return result;
    }
    found = true;
    std::string_view type;
    if (field.value.get_string().get(type)) {
      result.error = "header \"type\" is not a string";
      return result;
    }
    result.type = type;
  }
  if (!found) {
    result.error = "header has no string \"type\"";
    return result;
  }
  if (!is_valid_type_name(result.type)) {
    result.error = "header \"type\" is not a valid type name";
    result.type.clear();
    return result;
  }
  result.ok = true;
  return result;
}

}  // namespace p2pnet::wire
