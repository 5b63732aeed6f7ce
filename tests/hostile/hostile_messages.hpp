// Messages a hostile peer sends: every stock message type, well-formed with
// forged ids, and mutated (a field missing, of the wrong JSON type, a huge
// string, a huge array, deep nesting, out-of-range numbers, garbage bodies).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace p2pnet::hostile {

using Random = std::mt19937_64;

struct HostileFrame {
  std::string header;  // not always JSON, never over max_header
  std::string body;
};

std::string random_hex(Random& random, size_t length);
std::string random_bytes(Random& random, size_t length);

// Every message type the stock plugins handle.
const std::vector<std::string>& stock_types();

// A well-formed message of `type` with random ids (an answer nobody asked
// for, a request for something unknown). `real_sha256` is a file the target
// shares, so some requests reach deeper code paths.
nlohmann::json forged_message(Random& random, const std::string& type, const std::string& real_sha256);

// A mutated message of a random stock type; `kind` names the mutation.
HostileFrame mutated_message(Random& random, const std::string& real_sha256, size_t max_header, std::string* kind);

// Headers that are not JSON objects with a string `type`.
std::vector<std::string> bad_headers(Random& random, size_t max_header);

// Download requests that try paths, odd hashes, odd chunk sizes and indexes.
std::vector<nlohmann::json> download_probes(Random& random, const std::string& real_sha256);

}  // namespace p2pnet::hostile
