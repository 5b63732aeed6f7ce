// The search protocol on the wire, checked on the way in (every field comes
// from the network and may lie) and built on the way out:
//   {"type":"search","id":ID,"query":TEXT,"depth":D}
//   {"type":"search_result","id":ID,"node_id":N,"host":H,"port":P,
//    "files":[{"name":..,"size":..,"sha256":..}],"relay":{"id","host","port"}}
// ("relay" only from a node that holds a place on a relay)
// depth: 1 reaches direct peers only, -1 the whole network; relays decrement it.
#pragma once

#include <p2pnet/relay_address.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pnet::search {

constexpr int kWholeNetwork = -1;
constexpr int kMaxDepth = 255;
constexpr size_t kMaxRequestIdLength = 64;
constexpr size_t kMaxHostLength = 255;
// The most files one answer may carry, whatever the answering node's setting.
constexpr size_t kMaxFilesPerAnswer = 1000;

bool is_valid_depth(int64_t depth);
bool is_valid_request_id(std::string_view id);  // 1..64 printable ASCII characters, no spaces

struct SearchRequest {
  std::string id;
  std::string query;
  int depth = 1;
};

// Nothing if a field is missing, of the wrong type or out of bounds.
std::optional<SearchRequest> parse_search(const nlohmann::json& header, size_t max_query_length);
nlohmann::json make_search(const SearchRequest& request);

struct AnsweredFile {
  std::string name;  // a file name, no directories
  uint64_t size = 0;
  std::string sha256;
};

struct SearchAnswer {
  std::string id;
  std::string node_id;  // the node that has the files
  std::string host;     // where it listens
  uint16_t port = 0;
  std::vector<AnsweredFile> files;
  std::optional<RelayAddress> relay{};  // where it holds a place, if behind a router
};

// Nothing if the envelope is bad; file entries that are bad are left out and
// counted in *bad_files (an answer left with no file at all is bad).
std::optional<SearchAnswer> parse_search_result(const nlohmann::json& header, size_t* bad_files);
nlohmann::json make_search_result(const SearchAnswer& answer);

// "0.0.0.0", "::" or "": a listen address that says nothing about where a node is reachable.
bool is_unspecified_host(std::string_view host);

}  // namespace p2pnet::search
