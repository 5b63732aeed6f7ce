#include "wire/hello.hpp"

#include "node_id.hpp"

#include "wire/header_scan.hpp"

#include <fmt/core.h>
#include <asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace p2pnet::wire {

std::string clipped_text(std::string_view text, size_t max) {
  size_t cut = std::min(max, text.size());
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out;
  for (char c : text.substr(0, cut)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

namespace {

using json = nlohmann::json;

bool read_observed(const json& observed, Hello& hello) {
  if (!observed.is_object()) return false;
  auto host = observed.find("host");
  auto port = observed.find("port");
  if (host == observed.end() || port == observed.end() || !host->is_string() || !port->is_number_unsigned() ||
      port->get<uint64_t>() > 65535)
    return false;
  const auto& text = host->get_ref<const std::string&>();
  std::error_code error;
  if (text.size() > kMaxObservedHostLength || (asio::ip::make_address(text, error), error)) return false;
  hello.observed_host = text;
  hello.observed_port = static_cast<uint16_t>(port->get<uint64_t>());
  return true;
}

// A list of at most kMaxAdvertisedTypes valid type names, or why not.
std::string read_types(const json& j, const char* what, std::vector<std::string>& out) {
  auto types = j.find("types");
  if (types == j.end() || !types->is_array() || types->size() > kMaxAdvertisedTypes)
    return fmt::format("{} types is not an array of at most {} type names", what, kMaxAdvertisedTypes);
  for (const auto& t : *types) {
    if (!t.is_string() || !is_valid_type_name(t.get_ref<const std::string&>()))
      return fmt::format("{} types holds an invalid type name", what);
    out.push_back(t.get<std::string>());
  }
  return "";
}

}  // namespace

std::string encode_hello(const Hello& hello) {
  json j = {{"type", "hello"},
            {"protocol", hello.protocol},
            {"id", hello.id},
            {"port", hello.port},
            {"types", hello.types},
            {"agent", hello.agent},
            {"max_header", hello.max_header_bytes},
            {"max_body", hello.max_body_bytes}};
  if (!hello.network_proof.empty()) j["proof"] = hello.network_proof;
  if (!hello.observed_host.empty()) j["observed"] = {{"host", hello.observed_host}, {"port", hello.observed_port}};
  if (hello.dialback) j["dialback"] = true;
  if (!hello.features.empty()) j["features"] = hello.features;
  return j.dump();
}

std::string encode_bye(std::string_view reason) {
  json j = {{"type", "bye"}, {"reason", clipped_text(reason, kMaxReasonLength)}};
  return j.dump();
}

HelloParse parse_hello(std::string_view header) {
  HelloParse result;
  json j = json::parse(header, nullptr, false);
  if (!j.is_object()) {
    result.error = "hello is not a JSON object";
    return result;
  }
  auto type = j.find("type");
  if (type == j.end() || *type != "hello") {
    result.error = "first message is not a hello";
    return result;
  }
  Hello hello;
  auto protocol = j.find("protocol");
  if (protocol == j.end() || !protocol->is_number_integer()) {
    result.error = "hello has no integer protocol";
    return result;
  }
  int64_t version = protocol->get<int64_t>();
  hello.protocol = version < 0 || version > 1000000 ? -1 : static_cast<int>(version);
  auto id = j.find("id");
  if (id == j.end() || !id->is_string() || !is_valid_node_id(id->get<std::string>())) {
    result.error = "hello id is not 64 lowercase hex characters";
    return result;
  }
  hello.id = id->get<std::string>();
  auto port = j.find("port");
  if (port == j.end() || !port->is_number_integer() || port->get<int64_t>() < 0 || port->get<int64_t>() > 65535) {
    result.error = "hello port is not an integer from 0 to 65535";
    return result;
  }
  hello.port = static_cast<uint16_t>(port->get<int64_t>());
  if (result.error = read_types(j, "hello", hello.types); !result.error.empty()) return result;
  auto max_header = j.find("max_header");
  auto max_body = j.find("max_body");
  if (max_header == j.end() || !max_header->is_number_unsigned() || max_header->get<uint64_t>() < 1024 ||
      max_header->get<uint64_t>() > UINT32_MAX || max_body == j.end() || !max_body->is_number_unsigned() ||
      max_body->get<uint64_t>() > UINT32_MAX) {
    result.error = "hello max_header/max_body missing or out of range";
    return result;
  }
  hello.max_header_bytes = static_cast<uint32_t>(max_header->get<uint64_t>());
  hello.max_body_bytes = static_cast<uint32_t>(max_body->get<uint64_t>());
  auto proof = j.find("proof");
  if (proof != j.end()) {
    if (!proof->is_string() || proof->get_ref<const std::string&>().size() > 128) {
      result.error = "hello proof is not a short string";
      return result;
    }
    hello.network_proof = proof->get<std::string>();
  }
  if (auto observed = j.find("observed"); observed != j.end()) {
    if (!read_observed(*observed, hello)) {
      result.error = "hello observed is not {host: numeric address, port: 0 to 65535}";
      return result;
    }
  }
  if (auto dialback = j.find("dialback"); dialback != j.end()) {
    if (!dialback->is_boolean()) {
      result.error = "hello dialback is not true or false";
      return result;
    }
    hello.dialback = dialback->get<bool>();
  }
  if (auto features = j.find("features"); features != j.end()) {
    if (!features->is_array() || features->size() > kMaxFeatures) {
      result.error = "hello features is not an array of at most 16 names";
      return result;
    }
    for (const auto& feature : *features) {
      if (!feature.is_string() || feature.get_ref<const std::string&>().size() > kMaxFeatureLength) {
        result.error = "hello features holds something other than a short name";
        return result;
      }
      hello.features.push_back(feature.get<std::string>());
    }
  }
  auto agent = j.find("agent");
  if (agent != j.end() && agent->is_string()) hello.agent = clipped_text(agent->get_ref<const std::string&>(), 64);
  result.hello = std::move(hello);
  return result;
}

std::string encode_dialback_request() { return json{{"type", kDialbackRequestType}}.dump(); }

std::string encode_dialback_result(const DialbackResult& result) {
  json j = {{"type", kDialbackResultType}, {"reached", result.reached}};
  if (result.refused) j["refused"] = true;
  if (!result.reason.empty()) j["reason"] = clipped_text(result.reason, kMaxReasonLength);
  return j.dump();
}

std::optional<DialbackResult> parse_dialback_result(std::string_view header) {
  json j = json::parse(header, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto reached = j.find("reached");
  if (reached == j.end() || !reached->is_boolean()) return std::nullopt;
  DialbackResult result;
  result.reached = reached->get<bool>();
  if (auto refused = j.find("refused"); refused != j.end()) {
    if (!refused->is_boolean()) return std::nullopt;
    result.refused = refused->get<bool>();
  }
  if (auto reason = j.find("reason"); reason != j.end() && reason->is_string())
    result.reason = clipped_text(reason->get_ref<const std::string&>(), kMaxReasonLength);
  return result;
}

std::string encode_types_update(const std::vector<std::string>& types) {
  return json{{"type", kTypesUpdateType}, {"types", types}}.dump();
}

TypesUpdateParse parse_types_update(std::string_view header) {
  TypesUpdateParse result;
  json j = json::parse(header, nullptr, false);
  if (!j.is_object()) {
    result.error = "types update is not a JSON object";
    return result;
  }
  std::vector<std::string> types;
  if (result.error = read_types(j, "types update", types); result.error.empty()) result.types = std::move(types);
  return result;
}

std::string parse_bye_reason(std::string_view header) {
  json j = json::parse(header, nullptr, false);
  if (j.is_object()) {
    auto reason = j.find("reason");
    if (reason != j.end() && reason->is_string())
      return clipped_text(reason->get_ref<const std::string&>(), kMaxReasonLength);
  }
  return "no reason given";
}

}  // namespace p2pnet::wire
