// Incremental SHA-256 through OpenSSL's EVP interface, which picks the CPU's
// SHA extensions when it has them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

struct evp_md_ctx_st;

namespace p2pnet::search {

class Sha256 {
 public:
  Sha256();  // throws std::runtime_error if OpenSSL cannot start a digest
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  std::string hex_digest();  // 64 lowercase hex digits; the object starts over afterwards

 private:
  void reset();
  evp_md_ctx_st* context_ = nullptr;
};

}  // namespace p2pnet::search
