#include "hostile_messages.hpp"

#include <limits>

namespace p2pnet::hostile {
namespace {

using json = nlohmann::json;

template <class T>
const T& pick(Random& random, const std::vector<T>& items) {
  return items[random() % items.size()];
}

json wrong_value(Random& random) {
  static const std::vector<json> values = {nullptr,
                                           true,
                                           false,
                                           -1,
                                           0,
                                           std::numeric_limits<int64_t>::max(),
                                           std::numeric_limits<int64_t>::min(),
                                           std::numeric_limits<uint64_t>::max(),
                                           1.5,
                                           1e308,
                                           -1e308,
                                           "",
                                           "x",
                                           json::array(),
                                           json::object(),
                                           json::array({1, 2, 3}),
                                           json{{"a", 1}},
                                           "-1",
                                           "0x10",
                                           std::string("\0nul", 4),
                                           "\xc3\x28" /* bad UTF-8 */};
  return pick(random, values);
}

// Some values carry invalid UTF-8 on purpose: write them as they are.
std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::ignore); }

json address(Random& random) {
  return {{"id", random_hex(random, 64)}, {"host", "127.0.0.1"}, {"port", 1 + random() % 65535}};
}

}  // namespace

std::string random_hex(Random& random, size_t length) {
  static const char* hex = "0123456789abcdef";
  std::string out(length, '0');
  for (auto& c : out) c = hex[random() % 16];
  return out;
}

std::string random_bytes(Random& random, size_t length) {
  std::string out(length, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

const std::vector<std::string>& stock_types() {
  static const std::vector<std::string> types = {"ping",
                                                 "pong",
                                                 "discover",
                                                 "discover_answer",
                                                 "search",
                                                 "search_result",
                                                 "download.get_manifest",
                                                 "download.manifest",
                                                 "download.get_chunk",
                                                 "download.chunk",
                                                 "download.error",
                                                 "download.release"};
  return types;
}

json forged_message(Random& random, const std::string& type, const std::string& real_sha256) {
  std::string sha = random() % 4 == 0 ? real_sha256 : random_hex(random, 64);
  int64_t id = static_cast<int64_t>(1 + random() % 1000000000);
  if (type == "ping" || type == "pong") return {{"type", type}, {"nonce", random_hex(random, 16)}};
  if (type == "discover") return {{"type", type}, {"id", random_hex(random, 32)}, {"depth", -1}};
  if (type == "discover_answer")
    return {{"type", type},
            {"id", random_hex(random, 32)},
            {"node_id", random_hex(random, 64)},
            {"host", "127.0.0.1"},
            {"port", 1 + random() % 65535},
            {"outbound_nodes", {address(random)}},
            {"inbound_nodes", {address(random), address(random)}}};
  if (type == "search") return {{"type", type}, {"id", random_hex(random, 32)}, {"query", "hostile*"}, {"depth", 1}};
  if (type == "search_result")
    return {{"type", type},
            {"id", random_hex(random, 32)},
            {"node_id", random_hex(random, 64)},
            {"host", "127.0.0.1"},
            {"port", 1 + random() % 65535},
            {"files", {{{"name", "forged.bin"}, {"size", 1234}, {"sha256", random_hex(random, 64)}}}}};
  if (type == "download.get_manifest") return {{"type", type}, {"id", id}, {"sha256", sha}, {"chunk_size", 262144}};
  if (type == "download.manifest")
    return {{"type", type}, {"id", id}, {"sha256", sha}, {"size", 1 << 20}, {"chunk_size", 262144}, {"chunks", 4}};
  if (type == "download.get_chunk")
    return {{"type", type}, {"id", id}, {"sha256", sha}, {"chunk_size", 262144}, {"index", random() % 4}};
  if (type == "download.chunk") return {{"type", type}, {"id", id}, {"sha256", sha}, {"index", random() % 4}};
  if (type == "download.error")
    return {{"type", type}, {"id", id}, {"sha256", sha}, {"code", "busy"}, {"message", "forged"}};
  if (type == "download.release") return {{"type", type}, {"sha256", sha}};
  return {{"type", type}};
}

HostileFrame mutated_message(Random& random, const std::string& real_sha256, size_t max_header, std::string* kind) {
  const auto& type = pick(random, stock_types());
  json message = forged_message(random, type, real_sha256);
  std::vector<std::string> keys;
  for (const auto& [key, value] : message.items())
    if (key != "type") keys.push_back(key);
  std::string key = keys.empty() ? "extra" : pick(random, keys);
  HostileFrame frame;
  // Room for the rest of the header: a huge value stays within the frame limit.
  size_t huge = std::min<size_t>(max_header - 1024, 64 * 1024 + random() % (128 * 1024));
  switch (random() % 9) {
    case 0:
      *kind = "missing_field";
      message.erase(key);
      break;
    case 1:
      *kind = "wrong_type";
      message[key] = wrong_value(random);
      break;
    case 2:
      *kind = "huge_string";
      message[key] = std::string(huge, "a/.\\\"%"[random() % 6]);
      break;
    case 3: {
      *kind = "huge_array";
      json array = json::array();
      for (size_t i = 0; array.size() < huge / 16; ++i)
        array.push_back(i % 3 == 0 ? json(address(random)) : json(static_cast<int64_t>(random() % 100000)));
      message[key] = std::move(array);
      if (type == "search_result") {
        json files = json::array();
        for (size_t i = 0; i < huge / 128; ++i)
          files.push_back({{"name", random_hex(random, 20)}, {"size", i}, {"sha256", random_hex(random, 64)}});
        message["files"] = std::move(files);
      }
      break;
    }
    case 4: {
      *kind = "deep_nesting";
      size_t depth = 1000 + random() % (huge / 2);
      std::string nested = std::string(depth, '[') + std::string(depth, ']');
      std::string text = dump(message);
      text.insert(text.size() - 1, ",\"" + key + "_deep\":" + nested);
      frame.header = std::move(text);
      return frame;
    }
    case 5:
      *kind = "type_only";
      message = {{"type", type}};
      break;
    case 6:
      *kind = "garbage_body";
      frame.body = random_bytes(random, random() % 300000);
      break;
    case 7:
      *kind = "duplicate_keys";
      frame.header = dump(message);
      frame.header.insert(frame.header.size() - 1, ",\"" + key + "\":" + dump(wrong_value(random)) + ",\"type\":7");
      return frame;
    default:
      *kind = "wrong_type_everywhere";
      for (const auto& k : keys) message[k] = wrong_value(random);
      break;
  }
  frame.header = dump(message);
  return frame;
}

std::vector<std::string> bad_headers(Random& random, size_t max_header) {
  return {"[]",
          "1",
          "\"ping\"",
          "null",
          "true",
          "{}",
          "",
          "{\"type\":1}",
          "{\"type\":null}",
          "{\"type\":{}}",
          "{\"type\":[\"ping\"]}",
          "{\"type\":true}",
          "{\"type\":\"\"}",
          "{\"type\":\"ping\"",
          "{\"type\":\"ping\"}}",
          "{\"type\":\"ping\",}",
          "{\"nonce\":\"1\"}",
          "{'type':'ping'}",
          "\xff\xfe{\"type\":\"ping\"}",
          "{\"type\":\"\xc3\x28\"}",
          std::string("{\"type\":\"pi\0ng\"}", 17),
          "{\"type\":\"" + std::string(std::min<size_t>(max_header - 16, 200000), 'p') + "\"}",
          std::string(5000, '[') + std::string(5000, ']'),
          random_bytes(random, 1 + random() % 2000)};
}

std::vector<json> download_probes(Random& random, const std::string& real_sha256) {
  std::vector<json> probes;
  int64_t id = static_cast<int64_t>(1 + random() % 1000000);
  for (std::string sha :
       {random_hex(random, 64), std::string("../../../../etc/passwd"), std::string("/etc/passwd"), std::string(".."),
        std::string(""), std::string("sha256:") + real_sha256, real_sha256.substr(0, 63), real_sha256 + "0",
        std::string(64, 'G'), std::string(real_sha256).replace(0, 1, "A"), std::string("shared/../../x"),
        std::string(64, '.')}) {
    probes.push_back({{"type", "download.get_manifest"}, {"id", id++}, {"sha256", sha}, {"chunk_size", 262144}});
    probes.push_back(
        {{"type", "download.get_chunk"}, {"id", id++}, {"sha256", sha}, {"chunk_size", 262144}, {"index", 0}});
  }
  for (json chunk_size :
       {json(0), json(1), json(4095), json(5000), json(262143), json(int64_t{1} << 40), json(-262144), json("262144")})
    probes.push_back({{"type", "download.get_chunk"},
                      {"id", id++},
                      {"sha256", real_sha256},
                      {"chunk_size", chunk_size},
                      {"index", 0}});
  for (json index : {json(-1), json(1000000), json(int64_t{1} << 62), json(1.5), json("0")})
    probes.push_back({{"type", "download.get_chunk"},
                      {"id", id++},
                      {"sha256", real_sha256},
                      {"chunk_size", 262144},
                      {"index", index}});
  for (json request_id : {json(0), json(-1), json(int64_t{1} << 60), json("1"), json(nullptr)})
    probes.push_back({{"type", "download.get_chunk"},
                      {"id", request_id},
                      {"sha256", real_sha256},
                      {"chunk_size", 262144},
                      {"index", 0}});
  probes.push_back({{"type", "download.release"}, {"sha256", random_hex(random, 64)}});
  probes.push_back({{"type", "download.release"}, {"sha256", "../x"}});
  return probes;
}

}  // namespace p2pnet::hostile
