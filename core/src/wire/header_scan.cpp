#include "wire/header_scan.hpp"

#include <nlohmann/json.hpp>

namespace p2pnet::wire {
namespace {

using json = nlohmann::json;

// SAX events of nlohmann's parser; returning false stops the parse.
class TypeFinder {
 public:
  explicit TypeFinder(HeaderScan& out) : out_(out) {}

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool string(json::string_t& text) {
    if (expecting_type_) {
      expecting_type_ = false;
      found_type_ = true;
      out_.type = std::move(text);
      return true;
    }
    return value();
  }
  bool start_object(std::size_t) { return open(); }
  bool start_array(std::size_t) {
    if (depth_ == 0) return fail("header is not a JSON object");
    return open();
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(json::string_t& name) {
    if (depth_ == 1 && name == "type") {
      if (found_type_) return fail("header has two \"type\" keys");
      expecting_type_ = true;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    if (out_.error.empty()) out_.error = std::string("header is not valid JSON: ") + e.what();
    return false;
  }

  bool finish() const { return found_type_ && out_.error.empty(); }

 private:
  bool value() {
    if (depth_ == 0) return fail("header is not a JSON object");
    if (expecting_type_) return fail("header \"type\" is not a string");
    return true;
  }
  bool open() {
    if (expecting_type_) return fail("header \"type\" is not a string");
    if (++depth_ > kMaxHeaderDepth) return fail("header nested too deeply");
    return true;
  }
  bool fail(const char* reason) {
    out_.error = reason;
    return false;
  }

  HeaderScan& out_;
  int depth_ = 0;
  bool expecting_type_ = false;
  bool found_type_ = false;
};

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
  TypeFinder finder(result);
  bool parsed = json::sax_parse(header.begin(), header.end(), &finder);
  if (!parsed || !finder.finish()) {
    if (result.error.empty()) result.error = "header has no string \"type\"";
    result.type.clear();
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
