// SHA-256 through OpenSSL's EVP interface, and the lowercase hex form that
// the index, the search results and the wire protocol use.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace p2pnet::download {

using Digest = std::array<unsigned char, 32>;
constexpr size_t kDigestSize = 32;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  Digest finish();  // the object can be reused afterwards

 private:
  evp_md_ctx_st* context_;
};

Digest sha256_of(const void* data, size_t size);
inline Digest sha256_of(std::string_view data) { return sha256_of(data.data(), data.size()); }

std::string to_hex(const unsigned char* data, size_t size);
inline std::string to_hex(const Digest& digest) { return to_hex(digest.data(), digest.size()); }
// 64 lowercase hex characters, the only form accepted from peers and the bus.
bool is_sha256_hex(std::string_view text);

}  // namespace p2pnet::download
