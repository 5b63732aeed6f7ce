// SHA-256 through OpenSSL's EVP interface (which picks the CPU's SHA
// extensions when it has them), for the stock plugins: the search plugin
// hashes the shared files with it, the download plugin chunks and whole files.
#pragma once

#include <p2pnet/hex.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

struct evp_md_ctx_st;

namespace p2pnet {

constexpr size_t kDigestSize = 32;
using Digest = std::array<unsigned char, kDigestSize>;

class Sha256 {
 public:
  Sha256();  // throws std::runtime_error if OpenSSL cannot start a digest
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;

  void update(const void* data, size_t size);  // throws std::runtime_error
  Digest finish();                             // the object starts over afterwards; throws std::runtime_error

 private:
  evp_md_ctx_st* context_ = nullptr;
};

Digest sha256_of(const void* data, size_t size);
inline Digest sha256_of(std::string_view data) { return sha256_of(data.data(), data.size()); }

inline std::string to_hex(const Digest& digest) { return to_hex(digest.data(), digest.size()); }
// The inverse of to_hex for a digest: nothing unless `hex` is 64 lowercase hex digits.
std::optional<Digest> digest_from_hex(std::string_view hex);

}  // namespace p2pnet
